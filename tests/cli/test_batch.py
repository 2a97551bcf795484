"""``morpho batch``: a real Dask scheduler and workers on the loopback interface, failures, resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from morpho import batch
from morpho.cli import main
from morpho.export import write_synthetic
from morpho.synthetic import make_sem_micrograph

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def twenty(tmp_path_factory) -> Path:
    """20 small synthetic micrographs, one of them truncated (corrupt)."""
    folder = tmp_path_factory.mktemp("batch")
    for i in range(20):
        sample = make_sem_micrograph((256, 256), preset="inox-bimodal", rng=100 + i)
        write_synthetic(sample, folder / f"film_{i:02d}.tif", vendor="fei")
    for extra in folder.glob("*_truth*"):
        extra.unlink()  # the ground-truth files that write_synthetic adds beside each image
    data = (folder / "film_07.tif").read_bytes()
    (folder / "film_07.tif").write_bytes(data[: len(data) // 3])
    return folder


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A `dask scheduler` and a `dask worker` (2 processes) on 127.0.0.1, as a user starts them."""
    work = tmp_path_factory.mktemp("dask")
    file = work / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    sched = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                              "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(file)],
                             cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    procs = [sched]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert file.exists(), "the dask scheduler did not start"
        address = json.loads(file.read_text())["address"]
        worker = subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", "2",
                                   "--nthreads", "1", "--no-dashboard", "--local-directory", str(work)],
                                  cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        procs.append(worker)
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def test_batch_through_a_loopback_scheduler_reports_the_corrupt_image_and_resumes(twenty, scheduler, tmp_path,
                                                                                   capsys):
    out = tmp_path / "out"
    assert main(["batch", str(twenty), "-o", str(out), "--scheduler", scheduler, "-q", "--no-report"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "film_07.tif" in err[0]
    assert err[0].startswith("morpho: error:")
    table = pd.read_csv(out / "batch.csv", keep_default_na=False)
    assert list(table.columns) == list(batch.BATCH_COLUMNS)
    assert len(table) == 20
    assert list(table.image) == [str(p) for p in sorted(twenty.glob("*.tif"))]  # the order given
    assert (table.status == "ok").sum() == 19
    bad = table[table.status == "error"].iloc[0]
    assert bad.image.endswith("film_07.tif")
    assert "film_07.tif" in bad.error
    assert "\n" not in bad.error
    assert not (out / "film_07").exists()  # no half-written result
    ok = table[table.status == "ok"]
    assert (ok.grains.astype(int) > 0).all()
    assert (ok.result_dir.map(lambda d: Path(d).is_dir())).all()
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == 19
    assert not any(name.startswith(".") for name in folders)
    stamps = {p: (p / "summary.json").stat().st_mtime_ns for p in out.iterdir() if p.is_dir()}

    # a second run does no work: the 19 are skipped, the corrupt one fails again
    assert main(["batch", str(twenty), "-o", str(out), "--scheduler", scheduler, "-q", "--no-report"]) == 2
    again = pd.read_csv(out / "batch.csv", keep_default_na=False)
    assert (again.status == "skipped").sum() == 19
    assert (again.status == "error").sum() == 1
    assert {p: (p / "summary.json").stat().st_mtime_ns for p in stamps} == stamps
    pd.testing.assert_series_equal(again.grains[again.status != "error"], table.grains[table.status != "error"])


def test_batch_on_a_local_cluster_resumes_by_config(twenty, tmp_path, capsys):
    images = [str(twenty / f"film_{i:02d}.tif") for i in (1, 2, 3)]
    out = tmp_path / "out"
    assert main(["batch", *images, "-o", str(out), "--workers", "2", "-q"]) == 0
    first = pd.read_csv(out / "batch.csv")
    assert list(first.status) == ["ok"] * 3
    # the batch page tabulates the images and links each one's report (relative links)
    page = (out / "batch.html").read_text(encoding="utf-8")
    for i in (1, 2, 3):
        assert f'href="film_{i:02d}/report.html"' in page
        assert (out / f"film_{i:02d}" / "report.html").is_file()
    summary = json.loads((out / "film_01" / "summary.json").read_text())
    assert len(summary["config_sha256"]) == 64
    # another configuration: the earlier results are not silently replaced ...
    args = [*images, "-o", str(out), "--workers", "1", "-q", "--no-report", "--set", "physics.relative_permittivity=12"]
    assert main(["batch", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("another configuration") == 3
    assert list(pd.read_csv(out / "batch.csv").status) == ["error"] * 3
    # ... unless asked to
    assert main(["batch", *args, "--overwrite"]) == 0
    redone = json.loads((out / "film_01" / "summary.json").read_text())
    assert redone["config_sha256"] != summary["config_sha256"]
    assert redone["physics"]["parameters"]["relative_permittivity"] == 12


def test_find_images_takes_folders_files_and_globs(twenty, tmp_path):
    specs = [str(twenty / "film_0[12].tif"), str(twenty / "film_01.tif"), str(twenty / "film_19.tif")]
    found = batch.find_images(specs)
    assert [p.name for p in found] == ["film_01.tif", "film_02.tif", "film_19.tif"]
    assert len(batch.find_images([str(twenty)])) == 20


@pytest.mark.parametrize(("setup", "needle"), [
    ("missing", "no such file or folder"),
    ("empty", "no .tif or .tiff files"),
    ("same_stem", "same name stem"),
    ("workers", "--workers must be at least 1"),
])
def test_batch_bad_input_exits_2_with_one_line(twenty, tmp_path, capsys, setup, needle):
    args = [str(tmp_path / "nothing*.tif")]
    if setup == "empty":
        (tmp_path / "empty").mkdir()
        args = [str(tmp_path / "empty")]
    elif setup == "same_stem":
        (tmp_path / "other").mkdir()
        shutil.copy(twenty / "film_01.tif", tmp_path / "other" / "film_01.tif")
        args = [str(twenty / "film_01.tif"), str(tmp_path / "other")]
    elif setup == "workers":
        args = [str(twenty / "film_01.tif"), "--workers", "0"]
    assert main(["batch", *args, "-o", str(tmp_path / "out"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert needle in err[0]
    assert not (tmp_path / "out").exists()


def test_unreachable_scheduler_exits_2_with_one_line(twenty, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(batch, "SCHEDULER_TIMEOUT_S", 2.0)
    rc = main(["batch", str(twenty / "film_01.tif"), "-o", str(tmp_path / "out"), "--scheduler",
               "tcp://127.0.0.1:9", "-q"])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "cannot reach the Dask scheduler" in err[0]


TABLES = ("grains.csv", "junctions.csv", "labels.tif", "graph.graphml", "graph.json", "graph.npz",
          "grains.parquet", "junctions.parquet", "config.json")


def test_tables_are_byte_identical_across_worker_counts(twenty, scheduler, tmp_path):
    images = [str(twenty / f"film_{i:02d}.tif") for i in (2, 3)]
    two, one, alone = tmp_path / "two", tmp_path / "one", tmp_path / "alone"
    assert main(["batch", *images, "-o", str(two), "--scheduler", scheduler, "-q", "--no-report"]) == 0
    assert main(["batch", *images, "-o", str(one), "--workers", "1", "-q", "--no-report"]) == 0
    assert main(["analyze", images[0], "-o", str(alone), "-q", "--no-report"]) == 0
    for image in images:
        stem = Path(image).stem
        for name in TABLES:
            assert (two / stem / name).read_bytes() == (one / stem / name).read_bytes(), (stem, name)
    for name in TABLES:
        assert (alone / "film_02" / name).read_bytes() == (two / "film_02" / name).read_bytes(), name


def test_a_worker_killed_mid_batch_leaves_no_partial_result_and_the_batch_resumes(twenty, scheduler, tmp_path):
    from distributed import Client

    images = [str(twenty / f"film_{i:02d}.tif") for i in range(8) if i != 7]
    out = tmp_path / "out"
    outcome: dict[str, int] = {}
    run = threading.Thread(target=lambda: outcome.setdefault(
        "rc", main(["batch", *images, "-o", str(out), "--scheduler", scheduler, "-q", "--no-report"])))
    run.start()
    killed = None
    with Client(scheduler, timeout="60s") as client:
        deadline = time.monotonic() + 120
        while killed is None and run.is_alive() and time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if any("morpho-analyze" in k for k in keys)]
            started = out.is_dir() and any(p.is_dir() for p in out.iterdir())
            if busy and started:  # the batch is under way and this worker holds an image: kill it
                killed = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.02)
    run.join(timeout=600)
    assert killed is not None, "no worker was caught holding an image"
    assert outcome["rc"] in (0, 2)
    table = pd.read_csv(out / "batch.csv", keep_default_na=False)
    assert len(table) == 7
    assert set(table.status) <= {"ok", "error"}
    # the killed worker's image was retried by Dask, or reported as lost: never half-written
    assert table[table.status == "error"].error.str.contains("worker").all()
    folders = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert sorted(p.name for p in folders) == sorted(Path(d).name for d in table[table.status == "ok"].result_dir)
    assert all((p / "summary.json").is_file() and (p / "labels.tif").is_file() for p in folders)
    # a second run resumes: the finished images are skipped, the lost ones done; nothing is left over
    assert main(["batch", *images, "-o", str(out), "--scheduler", scheduler, "-q", "--no-report"]) == 0
    again = pd.read_csv(out / "batch.csv", keep_default_na=False)
    assert set(again.status) <= {"ok", "skipped"}
    assert (again.status == "skipped").sum() == (table.status == "ok").sum()
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
