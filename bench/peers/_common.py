"""Shared helpers of the peer drivers: the exception, label clean-up, subprocess with a timeout."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from skimage.segmentation import relabel_sequential

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "bench" / ".cache"


class PeerUnavailable(RuntimeError):
    """The peer tool is not installed or does not run here; the message says why (one line)."""


def as_labels(labels: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """int32 labels 1..n without gaps (0 = background), checked against the input shape."""
    lab = np.asarray(labels)
    if lab.shape != tuple(shape):
        msg = f"peer returned shape {lab.shape}, expected {tuple(shape)}"
        raise RuntimeError(msg)
    lab = np.where(lab > 0, lab, 0).astype(np.int64, copy=False)
    return relabel_sequential(lab)[0].astype(np.int32, copy=False)


def run(cmd: Sequence[str], *, timeout_s: float, cwd: Path | None = None,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command in its own process group; on timeout kill the whole group (xvfb-run + java)."""
    proc = subprocess.Popen(
        list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        msg = f"{cmd[0]} timed out after {timeout_s:g} s"
        raise RuntimeError(msg) from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def to_float01(image: np.ndarray) -> np.ndarray:
    """Image as float64 (values unchanged; the peers see the pixel values the file holds)."""
    return np.asarray(image, dtype=np.float64)
