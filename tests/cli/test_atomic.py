"""Atomic results: interrupted, killed, disk-full and concurrent runs leave the previous result or nothing.

Each test interrupts a real run at a point where a non-atomic writer would leave a half-written
folder, then checks that the result folder is either absent or the complete previous one, that no
hidden temporary folder or lock file survives the next run, and that the second of two concurrent
writers gets a one-line error instead of a corrupt folder.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from morpho import export
from morpho.cli import main
from morpho.export import result_lock, write_synthetic
from morpho.synthetic import make_sem_micrograph

TABLES = ("grains.csv", "junctions.csv", "labels.tif", "graph.graphml", "graph.json", "graph.npz",
          "grains.parquet", "junctions.parquet", "config.json")


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("film")
    sample = make_sem_micrograph((256, 256), preset="inox-bimodal", rng=9)
    write_synthetic(sample, folder / "film.tif", vendor="fei")
    return folder / "film.tif"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


def _hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def _default_sigint() -> None:
    """In the child: Ctrl-C as in a terminal.  A background job of a non-interactive shell (``make
    test &``, ``nohup``) starts with SIGINT ignored, which children inherit, and Python then never
    raises KeyboardInterrupt: the interrupted run would finish instead."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(image: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "morpho", "analyze", str(image), "-o", str(out), "-q", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def _wait_for_temporary(out: Path, name: str, proc: subprocess.Popen, timeout_s: float = 120.0) -> bool:
    """Poll until the run's hidden temporary result folder exists (it is writing) or the run ends."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if out.is_dir() and any(p.name.startswith(f".{name}.tmp-") for p in out.iterdir()):
            return True
        time.sleep(0.005)
    return False


def test_second_concurrent_writer_gets_one_line_and_the_first_result_is_whole(film, tmp_path, error_line):
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from morpho.export import result_lock\n"
         "with result_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n",
         str(out / "film")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["analyze", str(film), "-o", str(out), "-q"]) == 2
        line = error_line()
        assert f"pid {holder.pid}" in line
        assert "another morpho run" in line
        assert not (out / "film").exists()
    finally:
        holder.kill()
        holder.communicate()
    # the kernel dropped the dead holder's lock: the next run proceeds and tidies up
    assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report"]) == 0
    assert _hidden(out) == []


def test_lock_is_reentrant_in_one_process_and_removed_after(tmp_path):
    target = tmp_path / "x"
    with result_lock(target), result_lock(target):
        assert (tmp_path / ".x.lock").read_text().strip() == str(os.getpid())
    assert not (tmp_path / ".x.lock").exists()


def test_two_real_runs_at_once_one_result_never_corrupt(film, tmp_path):
    out = tmp_path / "out"
    runs = [_start(film, out, "--overwrite", "--no-report") for _ in range(2)]
    errors = [p.communicate(timeout=300)[1] for p in runs]
    codes = [p.returncode for p in runs]
    assert sorted(codes) in ([0, 0], [0, 2]), errors  # serialised, or the second refused
    for code, err in zip(codes, errors, strict=True):
        if code == 2:
            assert "another morpho run" in err
    assert json.loads((out / "film" / "summary.json").read_text())["grains"]["count"] > 0
    assert _hidden(out) == []


@pytest.mark.parametrize(("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 143, "terminated")])
def test_interrupt_while_writing_keeps_the_previous_result(film, tmp_path, sig, code, word):
    out = tmp_path / "out"
    assert main(["analyze", str(film), "-o", str(out), "-q"]) == 0
    before = _snapshot(out / "film")
    proc = _start(film, out, "--overwrite", "--set", "physics.relative_permittivity=12")
    writing = _wait_for_temporary(out, "film", proc)
    proc.send_signal(sig)
    stderr = proc.communicate(timeout=120)[1]
    assert writing, stderr  # the signal came while the new result was being written
    assert proc.returncode == code, stderr
    err = stderr.strip().splitlines()
    assert len(err) == 1, err
    assert word in err[0]
    assert _snapshot(out / "film") == before  # the previous result, untouched
    assert _hidden(out) == []  # the temporary folder was removed on the way out


def test_sigkill_while_writing_leaves_the_previous_result_and_the_next_run_tidies_up(film, tmp_path):
    out = tmp_path / "out"
    assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report"]) == 0
    before = _snapshot(out / "film")
    proc = _start(film, out, "--overwrite", "--set", "physics.relative_permittivity=12")
    writing = _wait_for_temporary(out, "film", proc)
    proc.kill()  # SIGKILL: no cleanup at all
    stderr = proc.communicate(timeout=60)[1]
    assert writing, stderr
    assert _snapshot(out / "film") == before
    assert any(name.startswith(".film.tmp-") for name in _hidden(out))  # what the kill left ...
    assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report", "--overwrite"]) == 0
    assert _hidden(out) == []  # ... the next writer of that folder removes
    assert json.loads((out / "film" / "summary.json").read_text())["grains"]["count"] > 0


def test_a_run_killed_between_its_two_renames_gets_its_previous_result_back(film, tmp_path, error_line):
    out = tmp_path / "out"
    assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report"]) == 0
    before = _snapshot(out / "film")
    # what a kill after "move the old result aside" and before "move the new one in" leaves
    aside = out / ".film.old-abc123"
    aside.mkdir()
    os.replace(out / "film", aside / "film")
    (out / ".film.tmp-def456").mkdir()
    assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report"]) == 2
    assert "already exists" in error_line()  # the previous result is back, so not overwritten
    assert _snapshot(out / "film") == before
    assert _hidden(out) == []


def test_disk_full_while_writing_is_one_line_and_keeps_the_previous_result(film, tmp_path, monkeypatch, error_line):
    out = tmp_path / "out"
    assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report"]) == 0
    before = _snapshot(out / "film")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(export, "_write_csv", full)
    assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report", "--overwrite"]) == 2
    line = error_line()
    assert "No space left on device" in line
    assert "nothing was kept" in line
    assert _snapshot(out / "film") == before
    assert _hidden(out) == []
    # and with no previous result, nothing at all
    assert main(["analyze", str(film), "-o", str(tmp_path / "new"), "-q", "--no-report"]) == 2
    assert not (tmp_path / "new" / "film").exists()
    assert _hidden(tmp_path / "new") == []


def test_same_input_gives_byte_identical_tables_across_runs_and_threads(film, tmp_path):
    outs = []
    for i, threads in enumerate((1, 2, 1)):
        out = tmp_path / f"run{i}"
        assert main(["analyze", str(film), "-o", str(out), "-q", "--no-report", "--threads", str(threads)]) == 0
        outs.append(out / "film")
    first = _snapshot(outs[0])
    for other in outs[1:]:
        assert _snapshot(other) == first
    summaries = [json.loads((o / "summary.json").read_text()) for o in outs]
    for s in summaries:
        for key in ("created_utc", "timing_s", "argv"):
            s.pop(key)
    assert summaries[1] == summaries[0]
    assert summaries[2] == summaries[0]
