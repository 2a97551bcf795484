"""Transport benchmark: morpho's Kirchhoff solver against SciPy and OpenPNM (`make bench-transport`).

The networks are random planar grain graphs like the ones ``morpho analyze`` builds: the Delaunay
triangulation (``scipy.spatial.Delaunay``) of N uniform random points in the unit square (about 3N
junctions, 6 per grain on average), the source electrode = the grains within 1 % of the width of
the left edge, the drain = the same at the right edge.  Each junction is thermally activated,
``g = g0 exp(-E / T)`` with ``g0 = 1e-5 S`` and ``E ~ U(0, 10) K`` drawn once per network, so at
0.05 K the conductances span ~87 decades.

What is timed (wall clock, ``time.perf_counter``):

* **morpho, one solve**: ``morpho.transport.solve_network(..., ln_conductance=ln g,
  coordinates=xy)`` at T = 0.05 K, on the arrays in memory (it clips ln g to +-18 around the
  bottleneck value itself, PHYSICS.md 4.1; the grain positions, which ``morpho transport`` passes
  too, give the factorisation a nested-dissection order).  Median of ``--repeats`` runs (default 3).
* **morpho, temperature sweep**: ``--temperatures`` temperatures (default 100) log-spaced
  0.05-2 K on the ``--sweep-size`` network (default 10^5): ``NetworkSolver`` built once and
  ``.solve(ln_conductance=...)`` per temperature when ``morpho.transport`` has it (it keeps the
  topology and the symbolic factorisation), else ``solve_network`` per temperature (the output
  says which).  Median of ``--repeats`` sweeps.
* **SciPy spsolve** (baseline row), written here, independent of morpho: the Laplacian of the
  clipped conductances, Dirichlet 1 V on the source and 0 V on the drain, the reduced system
  ``L_FF V_F = -L_FB V_B`` solved with SciPy's default direct solver (SuperLU, COLAMD; called as
  ``splu`` so the factorisation can be reused below, bitwise the answer of ``spsolve``, checked
  at run time), G = current out of the source / 1 V.  Its time includes the assembly.  The
  conductances it (and OpenPNM) gets are the plain values clipped the way PHYSICS.md 4.1 says:
  ``ln g* + clip(ln g - ln g*, -18, 18)`` with g* the bottleneck (maximin) conductance, found
  here by bisection over connectivity (``scipy.sparse.csgraph``), not with morpho's code.
* **The reference**: with conductances spread over e^36, plain spsolve is not accurate enough to
  judge 1e-9 (its G is off by ~3e-5 at 10^4 grains, ~1e-3 at 10^6).  So its potentials are
  refined by conjugate gradients with the SuperLU factorisation as preconditioner and every net
  current summed in extended precision (``np.longdouble``) until Kirchhoff's law holds to 1e-13
  of the current (the true residual, recomputed and printed, ends near 1e-10).  Its time =
  spsolve + refinement.
* **OpenPNM** ``OhmicConduction`` (installed by this script from PyPI into
  ``bench/.venv-openpnm``, never into morpho's venv, and run in a subprocess by
  ``bench/transport_openpnm.py`` on an .npz written to a temporary folder): its default solver
  (PardisoSpsolve when pypardiso installs, else ScipySpsolve) and its iterative ones
  (``ScipyCG``, ``PyamgRugeStubenSolver``) with their default tolerances.  One solve = build
  network + phase + algorithm + boundary conditions, ``run()``, ``rate()``; the sweep builds once
  and replaces the conductances per temperature (``settings['cache'] = False``).  The iterative
  solvers do not reach their tolerance on these networks and OhmicConduction's Newton loop
  (``newton_maxiter`` 5000) then calls them again and again, so their rows use
  ``newton_maxiter = 1`` (one linear solve, labelled as not OpenPNM's default); one extra run
  with OpenPNM's defaults on the smallest network shows what a user gets (killed after
  ``--default-trial-timeout``).  A run is killed after ``--peer-timeout`` and then skipped at
  larger N; a sweep stops after ``--sweep-budget`` and its time is extrapolated (said so).  If
  OpenPNM does not install or run, its rows say why.

Errors: every tool's conductance against the reference and against plain spsolve (relative
difference; morpho's through its ``ln_conductance``) and a Kirchhoff residual computed here the
same way for every tool from the potentials it returns, summed in extended precision: the largest
net current at a free node divided by the current.  morpho's own ``kirchhoff_residual_A /
current_A`` is recorded too.  The memory of one morpho solve on the largest network is measured
in a child process (peak RSS during the solve, ``/proc/self/status``).

Usage::

    python bench/transport.py [--quick] [--sizes 100000 1000000] [--repeats 3] [--no-openpnm]
                              [--sweep-size 100000] [--temperatures 100] [--seed 1]
                              [--openpnm-solvers default,ScipyCG,PyamgRugeStubenSolver] [--peer-timeout 300]
                              [--default-trial-timeout 120] [--sweep-budget 300] [--json PATH]

``--quick``: sizes 10^4 and 10^5, a 10-temperature sweep, one repeat, shorter OpenPNM timeouts
(about 6 minutes).  Networks are cached in ``bench/.cache/transport/`` keyed by N and seed (10^6
points: Delaunay plus the bottleneck search took 90 s).  Tables (Markdown) go to stdout, progress
to stderr, JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import inspect
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.sparse import csgraph
from scipy.sparse.linalg import splu, spsolve
from scipy.spatial import Delaunay

from _jsonout import write_report  # bench/ is the script's folder, first on sys.path

import morpho
import morpho.transport as transport

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache" / "transport"
OPENPNM_VENV = ROOT / "bench" / ".venv-openpnm"
OPENPNM_LOG = ROOT / "bench" / ".cache" / "openpnm-install.log"
DRIVER = ROOT / "bench" / "transport_openpnm.py"

G0_S = 1e-5  # junction prefactor
LN_G0 = float(np.log(G0_S))
E_MAX_K = 10.0  # barriers E ~ U(0, E_MAX_K) kelvin
BAND = 0.01  # electrode bands: grains within 1 % of the width of the left / right edge
CLIP = float(getattr(transport, "CLIP_LN", 18.0))  # PHYSICS.md 4.1: ln g within +-18 of ln g*
SINGLE_T_K = 0.05  # temperature of the single-solve rows (the cold end of the sweep)
SWEEP_T_K = (0.05, 2.0)
TIME_BUDGET_S = 60.0  # reference and OpenPNM single solves: no further repeats once runs add up to this
TARGET_SINGLE = (1_000_000, 10.0)  # N, seconds
TARGET_SWEEP = (100_000, 100, 30.0)  # N, temperatures, seconds
OPENPNM_SOLVERS = ("default", "ScipyCG", "PyamgRugeStubenSolver")
HAS_NETWORK_SOLVER = hasattr(transport, "NetworkSolver")
HAS_COORDINATES = "coordinates" in inspect.signature(transport.solve_network).parameters


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- networks


def bottleneck_edge(n: int, a: np.ndarray, b: np.ndarray, barrier: np.ndarray, src: np.ndarray,
                    drn: np.ndarray) -> int:
    """The edge whose barrier is E*: the smallest E such that the edges with barrier <= E join S to D.

    For ``g = g0 exp(-E/T)`` the order of the edges by g does not depend on T, so this is the
    bottleneck (maximin) edge at every temperature.  Bisection over the number of lowest-barrier
    edges kept, each step one ``csgraph.connected_components`` with the source nodes merged into
    one node and the drain nodes into another.
    """
    node = np.arange(n + 2, dtype=np.int64)[:n].copy()
    node[src], node[drn] = n, n + 1
    u, v = node[a], node[b]
    order = np.argsort(barrier, kind="stable")

    def joined(k: int) -> bool:
        idx = order[:k]
        idx = idx[u[idx] != v[idx]]
        graph = sp.coo_matrix((np.ones(idx.size), (u[idx], v[idx])), shape=(n + 2, n + 2))
        label = csgraph.connected_components(graph, directed=False)[1]
        return bool(label[n] == label[n + 1])

    lo, hi = 1, order.size
    if not joined(hi):
        msg = "the electrodes are not connected"
        raise RuntimeError(msg)
    while lo < hi:
        mid = (lo + hi) // 2
        if joined(mid):
            hi = mid
        else:
            lo = mid + 1
    return int(order[lo - 1])


def make_network(n: int, seed: int) -> dict[str, Any]:
    """Delaunay grain graph of `n` uniform random points (cached in bench/.cache/transport/)."""
    path = CACHE / f"delaunay_n{n}_seed{seed}.npz"
    if path.exists():
        with np.load(path) as z:
            net = {k: z[k] for k in z.files}
        log(f"  network N={n:,} seed={seed}: cached ({path.relative_to(ROOT)})")
    else:
        t0 = time.perf_counter()
        rng = np.random.default_rng(seed)
        xy = rng.random((n, 2))
        simplices = Delaunay(xy).simplices.astype(np.int64)
        first = simplices.ravel()
        second = simplices[:, [1, 2, 0]].ravel()
        key = np.unique(np.minimum(first, second) * n + np.maximum(first, second))
        a, b = key // n, key % n
        barrier = rng.uniform(0.0, E_MAX_K, a.size)
        src, drn = xy[:, 0] < BAND, xy[:, 0] > 1.0 - BAND
        star = bottleneck_edge(n, a, b, barrier, src, drn)
        net = {"xy": xy, "a": a, "b": b, "barrier": barrier, "source": src, "drain": drn,
               "star_edge": np.int64(star), "generate_s": np.float64(time.perf_counter() - t0)}
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **net)
        tmp.replace(path)
        log(f"  network N={n:,} seed={seed}: generated in {float(net['generate_s']):.1f} s, cached")
    net["n"] = int(net["xy"].shape[0])
    net["star_edge"] = int(net["star_edge"])
    return net


def ln_conductance(net: dict[str, Any], temperature_k: float) -> np.ndarray:
    """ln g (S) of every junction at T: ln g0 - E / T (unclipped; what morpho is given)."""
    return LN_G0 - net["barrier"] / temperature_k


def clipped_conductance(net: dict[str, Any], ln_g: np.ndarray) -> np.ndarray:
    """Plain conductances clipped as in PHYSICS.md 4.1: ln g within +-CLIP of the bottleneck's ln g*."""
    ln_star = ln_g[net["star_edge"]]
    return np.exp(ln_star + np.clip(ln_g - ln_star, -CLIP, CLIP))


# --------------------------------------------------------------------------------------------- solvers


LD = np.longdouble  # x86-64: 80-bit extended precision (64-bit mantissa)


class Kirchhoff:
    """Net current out of every node, summed in extended precision (``np.longdouble``).

    Used for every tool's Kirchhoff residual (so that the check does not round off at the level it
    measures) and for the refinement of the reference.
    """

    def __init__(self, net: dict[str, Any]) -> None:
        a, b = net["a"], net["b"]
        ends = np.concatenate([a, b])
        self.order = np.argsort(ends, kind="stable")
        self.ends = ends[self.order]
        self.other = np.concatenate([b, a])[self.order]
        self.starts = np.flatnonzero(np.r_[True, self.ends[1:] != self.ends[:-1]])
        self.nodes = self.ends[self.starts]
        self.n = net["n"]
        self.src = net["source"]
        self.free = ~(net["source"] | net["drain"])

    def weights(self, g: np.ndarray) -> np.ndarray:
        return np.concatenate([g, g]).astype(LD)[self.order]

    def net_current(self, w: np.ndarray, volts: np.ndarray) -> np.ndarray:
        v = np.asarray(volts, dtype=LD)
        out = np.zeros(self.n, dtype=LD)
        out[self.nodes] = np.add.reduceat(w * (v[self.ends] - v[self.other]), self.starts)
        return out

    def residual(self, g: np.ndarray, volts: np.ndarray) -> float:
        """Largest |net current| at a free node / current out of the source (the same for every tool)."""
        out = self.net_current(self.weights(g), volts)
        current = out[self.src].sum()
        return float(np.abs(out[self.free]).max() / abs(current)) if current != 0 else float("inf")


def spsolve_direct(net: dict[str, Any], g: np.ndarray) -> dict[str, Any]:
    """SciPy's default direct solve of the reduced Laplacian, 1 V on the source, 0 V on the drain.

    ``L_FF V_F = -L_FB V_B`` from the Laplacian of the (clipped) conductances, solved with SuperLU
    and COLAMD, which is what ``scipy.sparse.linalg.spsolve`` does by default; it is called through
    ``splu`` so that the refinement can reuse the factorisation (the answers are bitwise those of
    ``spsolve``, checked at run time on the first network).  G = current out of the source / 1 V,
    in double precision as a user of spsolve gets it.
    """
    n, a, b, src, drn = net["n"], net["a"], net["b"], net["source"], net["drain"]
    lap = sp.coo_matrix((np.concatenate([g, g, -g, -g]), (np.concatenate([a, b, a, b]), np.concatenate([a, b, b, a]))),
                        shape=(n, n)).tocsr()
    fixed = src | drn
    free, bound = np.flatnonzero(~fixed), np.flatnonzero(fixed)
    v_bound = src[bound].astype(np.float64)  # 1 V on the source, 0 V on the drain
    rows = lap[free]
    a_ff, rhs = rows[:, free].tocsc(), -(rows[:, bound] @ v_bound)
    lu = splu(a_ff)
    volts = np.empty(n)
    volts[bound] = v_bound
    volts[free] = lu.solve(rhs)
    current = float((lap[np.flatnonzero(src)] @ volts).sum())
    return {"G": current / 1.0, "volts": volts, "lu": lu, "free": free, "a_ff": a_ff, "rhs": rhs}


def spsolve_matches(direct: dict[str, Any]) -> bool:
    """Whether ``scipy.sparse.linalg.spsolve`` gives bitwise the potentials of `spsolve_direct`."""
    return bool(np.array_equal(spsolve(direct["a_ff"], direct["rhs"]), direct["volts"][direct["free"]]))


def refine(kh: Kirchhoff, g: np.ndarray, direct: dict[str, Any], tol: float = 1e-13,
           maxiter: int = 60) -> dict[str, Any]:
    """The reference: the spsolve potentials refined until Kirchhoff's law holds in extended precision.

    Conjugate gradients on the free potentials with the matrix products (net currents) summed in
    ``np.longdouble`` and the SuperLU factorisation of `spsolve_direct` as the preconditioner, until
    the largest net current at a free node is below `tol` x the current.  With conductances spread
    over e^36 plain spsolve leaves net currents of ~1e-7 of the current and G off by up to ~1e-3
    (more with N); ~10 iterations bring the residual to ~1e-10, limited by the extended precision.
    """
    w = kh.weights(g)
    free, lu = direct["free"], direct["lu"]
    volts = direct["volts"].astype(LD)

    def apply(d: np.ndarray) -> np.ndarray:  # A_FF d, through the net currents of d (0 V on the electrodes)
        full = np.zeros(kh.n, dtype=LD)
        full[free] = d
        return kh.net_current(w, full)[free]

    def precondition(r: np.ndarray) -> np.ndarray:
        return lu.solve(r.astype(np.float64)).astype(LD)

    t0 = time.perf_counter()
    out = kh.net_current(w, volts)
    scale = abs(out[kh.src].sum())
    r = -out[free]
    z = precondition(r)
    p, rz = z.copy(), r @ z
    iterations = 0
    while iterations < maxiter and np.abs(r).max() > tol * scale:
        ap = apply(p)
        alpha = rz / (p @ ap)
        volts[free] += alpha * p
        r -= alpha * ap
        z = precondition(r)
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
        iterations += 1
    out = kh.net_current(w, volts)
    current = out[kh.src].sum()
    return {"G": float(current / 1.0), "iterations": iterations, "refine_s": time.perf_counter() - t0,
            "residual_rel": float(np.abs(out[kh.free]).max() / abs(current))}


def morpho_solve(net: dict[str, Any], ln_g: np.ndarray) -> transport.KirchhoffResult:
    """One solve, given the grain positions as ``morpho transport`` gives them (nested-dissection
    order for large networks) when this morpho takes them."""
    extra = {"coordinates": net["xy"]} if HAS_COORDINATES else {}
    return transport.solve_network(net["n"], net["a"], net["b"], source=net["source"], drain=net["drain"],
                                   ln_conductance=ln_g, **extra)


def morpho_sweep(net: dict[str, Any], temperatures: np.ndarray) -> list[dict[str, Any]]:
    """One temperature sweep; NetworkSolver built once when morpho has it, else solve_network per T."""
    out = []
    if HAS_NETWORK_SOLVER:
        solver = transport.NetworkSolver(net["n"], net["a"], net["b"], source=net["source"], drain=net["drain"])
        solve: Callable[..., transport.KirchhoffResult] = solver.solve
    else:
        def solve(**kw: Any) -> transport.KirchhoffResult:
            return transport.solve_network(net["n"], net["a"], net["b"], source=net["source"], drain=net["drain"],
                                           **kw)
    for t in temperatures:
        r = solve(ln_conductance=LN_G0 - net["barrier"] / t)
        out.append({"ln_conductance": r.ln_conductance, "residual_A": r.kirchhoff_residual_A,
                    "current_A": r.current_A, "ln_bottleneck": r.ln_bottleneck, "potentials": r.potentials_V,
                    "n_nodes_spanning": r.n_nodes_spanning, "n_edges_clipped": r.n_edges_clipped})
    return out


def morpho_backend() -> str:
    if not HAS_NETWORK_SOLVER:
        return "solve_network (no NetworkSolver in this morpho)"
    try:
        return str(transport.NetworkSolver(2, [0], [1], source=[0], drain=[1]).backend)
    except Exception as exc:  # an API that changed under us: say so, do not fail the bench
        return f"unknown ({exc})"


def timed(fn: Callable[[], Any], repeats: int, budget_s: float | None = None) -> tuple[list[float], Any]:
    """Wall times of up to `repeats` calls (stopping once they add up to `budget_s`) and the last result."""
    times: list[float] = []
    result = None
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        if budget_s is not None and sum(times) > budget_s:
            break
    return times, result


def rel_diff_ln(ln_value: float, reference: float) -> float:
    """|G / G_ref - 1| with G given by its logarithm."""
    return float(abs(np.expm1(ln_value - np.log(reference))))


# --------------------------------------------------------------------------------------------- memory


def _proc_status_kib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def memory_child(npz: str) -> int:
    """(Child process) peak RSS of one morpho solve at SINGLE_T_K on a cached network.

    The kernel's high-water mark is reset just before the solve (``/proc/self/clear_refs``), so
    VmHWM afterwards is the peak RSS during the solve.
    """
    with np.load(npz) as z:
        net = {k: z[k] for k in z.files}
    net["n"], net["star_edge"] = int(net["xy"].shape[0]), int(net["star_edge"])
    ln_g = ln_conductance(net, SINGLE_T_K)
    before = _proc_status_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    t0 = time.perf_counter()
    morpho_solve(net, ln_g)
    elapsed = time.perf_counter() - t0
    hwm = _proc_status_kib("VmHWM")
    out = {"rss_before_solve_MiB": before / 1024.0 if before else None,
           "peak_during_solve_MiB": hwm / 1024.0 if (hwm and reset) else None,
           # getrusage's peak is not usable here: Linux carries the parent's RSS at fork into ru_maxrss.
           "ru_maxrss_MiB_includes_parent_at_fork": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "solve_s": elapsed}
    print(json.dumps(out))
    return 0


def measure_memory(n: int, seed: int) -> dict[str, Any]:
    path = CACHE / f"delaunay_n{n}_seed{seed}.npz"
    try:
        proc = subprocess.run([sys.executable, __file__, "--memory-child", str(path)], capture_output=True,
                              text=True, timeout=1800, check=False)
        if proc.returncode != 0:
            return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as exc:
        return {"error": str(exc)}


# --------------------------------------------------------------------------------------------- OpenPNM


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def ensure_openpnm() -> tuple[str | None, str]:
    """OpenPNM in its own venv (bench/.venv-openpnm), installed from PyPI on first use.

    Returns (python of that venv, OpenPNM version) or (None, why not).
    """
    py = OPENPNM_VENV / "bin" / "python"

    def version() -> str | None:
        try:
            r = subprocess.run([str(py), "-c", "import openpnm; print(openpnm.__version__)"], capture_output=True,
                               text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None

    if py.exists() and (v := version()):
        return str(py), v
    base = shutil.which("python3") or getattr(sys, "_base_executable", sys.executable)
    OPENPNM_LOG.parent.mkdir(parents=True, exist_ok=True)
    steps = [[base, "-m", "venv", str(OPENPNM_VENV)],
             [str(py), "-m", "pip", "install", "--upgrade", "pip"],
             [str(py), "-m", "pip", "install", "openpnm"]]
    with OPENPNM_LOG.open("w") as fh:
        for cmd in steps:
            log(f"  {' '.join(cmd)}")
            fh.write(f"$ {' '.join(cmd)}\n")
            fh.flush()
            try:
                rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=1800, check=False).returncode
            except (OSError, subprocess.TimeoutExpired) as exc:
                return None, f"`{' '.join(cmd[1:])}` failed: {exc}"
            if rc != 0:
                return None, (f"`{' '.join(cmd[1:])}` failed (exit {rc}): {_last_line(OPENPNM_LOG)} "
                              f"(log: {OPENPNM_LOG.relative_to(ROOT)})")
    v = version()
    if v is None:
        return None, "openpnm installed but `import openpnm` fails in bench/.venv-openpnm"
    return str(py), v


def write_openpnm_input(net: dict[str, Any], g_rows: np.ndarray, path: Path) -> None:
    coords = np.column_stack([net["xy"], np.zeros(net["n"])])
    np.savez(path, coords=coords, conns=np.column_stack([net["a"], net["b"]]),
             source=np.flatnonzero(net["source"]), drain=np.flatnonzero(net["drain"]), g=np.atleast_2d(g_rows))


def run_openpnm(py: str, npz: Path, solver: str, mode: str, repeats: int, budget_s: float, timeout_s: float,
                work: Path, newton_maxiter: int | None = None) -> dict[str, Any]:
    """Run bench/transport_openpnm.py in the OpenPNM venv; its result dict (with "volts") or {"error": ...}."""
    tag = f"{mode}_{solver}_{newton_maxiter or 'default'}"
    out, err = work / f"openpnm_{tag}.json", work / f"openpnm_{tag}.log"
    volts_path = Path(str(out) + ".volts.npy")
    out.unlink(missing_ok=True)
    cmd = [py, str(DRIVER), str(npz), str(out), "--solver", solver, "--mode", mode, "--repeats", str(repeats),
           "--budget", str(budget_s)]
    if newton_maxiter is not None:
        cmd += ["--newton-maxiter", str(newton_maxiter)]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    t0 = time.perf_counter()
    try:
        with err.open("w") as fh:
            rc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout_s, env=env,
                                check=False).returncode
    except subprocess.TimeoutExpired:
        return {"error": f"killed after the {timeout_s:.0f} s timeout, no result", "timed_out": True,
                "wall_s": time.perf_counter() - t0, "log_tail": _last_line(err)}
    if rc != 0 or not out.exists():
        return {"error": f"exit {rc}: {_last_line(err)}", "wall_s": time.perf_counter() - t0}
    res = json.loads(out.read_text())
    if "error" in res:
        return res
    res["wall_s"] = time.perf_counter() - t0
    res["log_tail"] = _last_line(err)
    res["volts"] = np.load(volts_path)
    volts_path.unlink()
    return res


def peer_variants(solvers: list[str]) -> list[tuple[str, int | None, str]]:
    """(solver, newton_maxiter, label) of the OpenPNM rows; iterative solvers run one linear solve."""
    out = []
    for s in solvers:
        if s == "default" or s.lower().endswith("spsolve"):
            out.append((s, None, ""))
        else:
            out.append((s, 1, "newton_maxiter = 1 (one linear solve; not OpenPNM's default)"))
    return out


def peer_row(r: dict[str, Any], solver: str, label: str) -> dict[str, Any]:
    name = r.get("solver", solver)
    if solver == "default" and "default_solver" in r:
        name = f"default = {r['default_solver']}"
    row = {"tool": "OpenPNM OhmicConduction", "solver": name + (f", {label}" if label else ""),
           "raw": {k: v for k, v in r.items() if k != "volts"}}
    if "error" in r:
        row["error"] = r["error"]
    return row


# --------------------------------------------------------------------------------------------- report


def fmt(x: float | None, kind: str = "g") -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    if kind == "t":
        return f"{x:.3g}" if x < 100 else f"{x:.0f}"
    if kind == "r":
        return f"{x:.2f}" if x < 100 else f"{x:.0f}"
    return f"{x:.1e}"


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: sizes 1e4 and 1e5, 10-temperature sweep, 1 repeat")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="network sizes of the single-solve rows (default 100000 1000000)")
    parser.add_argument("--repeats", type=int, default=None, help="timing runs (median; default 3, --quick 1)")
    parser.add_argument("--sweep-size", type=int, default=TARGET_SWEEP[0], help="0 skips the sweep")
    parser.add_argument("--temperatures", type=int, default=None, help="sweep temperatures (default 100, --quick 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-openpnm", action="store_true", help="skip OpenPNM (no install, no rows)")
    parser.add_argument("--openpnm-solvers", default=",".join(OPENPNM_SOLVERS),
                        help="'default' = OpenPNM's default solver, or names in openpnm.solvers")
    parser.add_argument("--peer-timeout", type=float, default=None,
                        help="kill an OpenPNM single-solve run after this many seconds (then larger N are skipped; "
                             "default 300, --quick 60)")
    parser.add_argument("--default-trial-timeout", type=float, default=None,
                        help="the iterative OpenPNM solvers also run once with OpenPNM's defaults on the smallest "
                             "network, killed after this many seconds (0: no trial; default 120, --quick 30)")
    parser.add_argument("--sweep-budget", type=float, default=None,
                        help="an OpenPNM sweep stops after this many seconds; its time is then extrapolated "
                             "(default 300, --quick 60)")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "transport.json"))
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child)
    sizes = sorted(args.sizes or ([10_000, 100_000] if args.quick else [100_000, 1_000_000]))
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    n_temps = args.temperatures if args.temperatures is not None else (10 if args.quick else TARGET_SWEEP[1])
    temperatures = np.geomspace(*SWEEP_T_K, n_temps)
    for name, full, quick in (("peer_timeout", 300.0, 60.0), ("default_trial_timeout", 120.0, 30.0),
                              ("sweep_budget", 300.0, 60.0)):
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    variants = peer_variants([s.strip() for s in args.openpnm_solvers.split(",") if s.strip()])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    t_start = time.perf_counter()
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    backend = morpho_backend()
    try:
        import cvxopt
        cvxopt_version = cvxopt.__version__
    except ImportError:
        cvxopt_version = None
    report: dict[str, Any] = {
        "meta": {
            "command": " ".join([Path(sys.executable).name, *sys.argv]) if argv is None else " ".join(argv),
            "started_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "morpho_version": morpho.__version__, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "cvxopt": cvxopt_version,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cpu}",
            "load_average_start": os.getloadavg(),
            "morpho_api_sweep": "NetworkSolver" if HAS_NETWORK_SOLVER else "solve_network per temperature",
            "morpho_transport_sha256": _sha256(Path(transport.__file__)),
            "morpho_backend": backend, "sizes": sizes, "repeats": repeats, "seed": args.seed,
            "single_temperature_K": SINGLE_T_K, "sweep_size": args.sweep_size, "temperatures_K": temperatures.tolist(),
            "g0_S": G0_S, "barrier_K": [0.0, E_MAX_K], "electrode_band": BAND, "clip_ln": CLIP,
        },
        "single": [], "sweep": [], "openpnm": {},
    }
    log(f"morpho {morpho.__version__}; sweep API: {report['meta']['morpho_api_sweep']}; backend: {backend}")
    if not HAS_NETWORK_SOLVER:
        log("morpho.transport has no NetworkSolver: the sweep calls solve_network once per temperature")

    peer_py, peer_note = None, "skipped (--no-openpnm)"
    if not args.no_openpnm:
        log("OpenPNM: checking bench/.venv-openpnm (installing from PyPI if needed) ...")
        peer_py, peer_note = ensure_openpnm()
        log(f"  OpenPNM: {peer_note if peer_py is None else 'version ' + peer_note}")
    report["openpnm"] = {"available": peer_py is not None, "version_or_reason": peer_note}
    timed_out: dict[tuple[str, int | None], int] = {}  # (solver, newton_maxiter) -> N where it timed out

    def run_peers(net: dict[str, Any], kh: Kirchhoff, g_rows: np.ndarray, g_ref: np.ndarray, g_sp: np.ndarray,
                  mode: str, work: Path, first: bool) -> list[dict[str, Any]]:
        n = net["n"]
        if args.no_openpnm:
            return []
        rows: list[dict[str, Any]] = []
        if peer_py is None:
            return [{"tool": "OpenPNM OhmicConduction", "solver": s + (f", {lab}" if lab else ""), "error": peer_note}
                    for s, _, lab in variants]
        npz = work / f"openpnm_{mode}_{n}.npz"
        write_openpnm_input(net, g_rows, npz)
        todo = list(variants)
        if mode == "single" and first and args.default_trial_timeout > 0:
            todo += [(s, None, "OpenPNM defaults (newton_maxiter = 5000)") for s, nm, _ in variants if nm is not None]
        for solver, newton, label in todo:
            trial = newton is None and label.startswith("OpenPNM defaults")
            if timed_out.get((solver, newton), n + 1) <= n and not trial:
                rows.append({"tool": "OpenPNM OhmicConduction", "solver": f"{solver}, {label}",
                             "error": f"skipped: one solve timed out (> {args.peer_timeout:.0f} s) at "
                                      f"N = {timed_out[(solver, newton)]:,}"})
                continue
            log(f"  OpenPNM OhmicConduction {mode}, solver {solver}{', ' + label if label else ''} ...")
            if mode == "single":
                timeout = args.default_trial_timeout if trial else args.peer_timeout
                r = run_openpnm(peer_py, npz, solver, "single", 1 if trial else repeats, TIME_BUDGET_S, timeout,
                                work, newton)
            else:
                r = run_openpnm(peer_py, npz, solver, "sweep", 1, args.sweep_budget,
                                args.sweep_budget + args.peer_timeout, work, newton)
            row = peer_row(r, solver, label)
            if "error" in r:
                log(f"    failed: {r['error']}")
                if r.get("timed_out") and not trial:
                    timed_out[(solver, newton)] = n
                rows.append(row)
                continue
            volts = r["volts"]
            if mode == "single":
                g_p = np.array([r["conductance_S"]])
                row.update(times_s=[x["total_s"] for x in r["runs"]], run_only_s=[x["run_s"] for x in r["runs"]])
            else:
                k = r["n_done"]
                g_p = np.array(r["conductance_S"])
                total = r["setup_s"] + sum(r["per_temperature_s"]) * len(g_ref) / k  # = total_s if k == all
                row.update(times_s=[total], n_done=k, extrapolated=k < len(g_ref))
            k = g_p.size
            row.update(conductance_S=g_p.tolist(),
                       rel_error=float(np.max(np.abs(g_p / g_ref[:k] - 1.0))),
                       rel_spsolve=float(np.max(np.abs(g_p / g_sp[:k] - 1.0))),
                       residual_rel=max(kh.residual(g_rows[i], volts[i]) for i in range(k)),
                       converged=bool(np.all(r["converged"])),
                       linear_ok=not any(r.get("linear_exit_codes", [])))
            log(f"    {np.median(row['times_s']):.2f} s{' (extrapolated)' if row.get('extrapolated') else ''}, "
                f"rel. error {row['rel_error']:.1e}")
            rows.append(row)
        npz.unlink()
        return rows

    with tempfile.TemporaryDirectory(prefix="morpho-bench-transport-") as tmp:
        work = Path(tmp)
        # ---------------------------------------------------------------- single solves
        for i_size, n in enumerate(sizes):
            log(f"[{time.perf_counter() - t_start:6.0f} s] one solve, N = {n:,}, T = {SINGLE_T_K} K")
            net = make_network(n, args.seed)
            kh = Kirchhoff(net)
            ln_g = ln_conductance(net, SINGLE_T_K)
            g = clipped_conductance(net, ln_g)
            info = {"n_grains": n, "n_junctions": int(net["a"].size), "n_source": int(net["source"].sum()),
                    "n_drain": int(net["drain"].sum()), "decades_spanned": float(np.ptp(ln_g) / np.log(10)),
                    "n_clipped": int(np.count_nonzero(np.abs(ln_g - ln_g[net["star_edge"]]) > CLIP)),
                    "generate_s": float(net["generate_s"])}
            log("  SciPy spsolve ...")
            sp_times, direct = timed(lambda net=net, g=g: spsolve_direct(net, g), repeats, TIME_BUDGET_S)
            g_sp = direct["G"]
            if i_size == 0:
                report["meta"]["splu_bitwise_equals_spsolve"] = spsolve_matches(direct)
            log(f"    {np.median(sp_times):.2f} s; refining the reference (extended precision) ...")
            ref = refine(kh, g, direct)
            g_ref = ref["G"]
            log(f"    G = {g_ref:.10e} S after {ref['iterations']} iterations ({ref['refine_s']:.1f} s), "
                f"residual {ref['residual_rel']:.1e}; plain spsolve off by {abs(g_sp / g_ref - 1):.1e}")
            rows: list[dict[str, Any]] = [
                {"tool": "SciPy spsolve", "solver": f"SuperLU/COLAMD (its default), SciPy {scipy.__version__}",
                 "times_s": sp_times, "conductance_S": g_sp, "rel_error": abs(g_sp / g_ref - 1.0), "rel_spsolve": 0.0,
                 "residual_rel": kh.residual(g, direct["volts"])},
                {"tool": "reference", "solver": "spsolve + PCG refinement in extended precision",
                 "times_s": [float(np.median(sp_times)) + ref["refine_s"]], "conductance_S": g_ref, "rel_error": 0.0,
                 "rel_spsolve": abs(g_ref / g_sp - 1.0), "residual_rel": ref["residual_rel"],
                 "iterations": ref["iterations"]}]
            del direct
            log("  morpho solve_network ...")
            m_times, res = timed(lambda net=net, ln_g=ln_g: morpho_solve(net, ln_g), repeats)
            mor = {"tool": "morpho solve_network", "solver": backend, "times_s": m_times,
                   "ln_conductance": res.ln_conductance, "conductance_S": res.conductance_S,
                   "rel_error": rel_diff_ln(res.ln_conductance, g_ref),
                   "rel_spsolve": rel_diff_ln(res.ln_conductance, g_sp),
                   "residual_rel": kh.residual(g, res.potentials_V),
                   "morpho_residual_rel": abs(res.kirchhoff_residual_A / res.current_A),
                   "morpho_residual_A": res.kirchhoff_residual_A,
                   "n_nodes_spanning": res.n_nodes_spanning, "n_edges_clipped": res.n_edges_clipped,
                   "bottleneck_agrees": bool(res.ln_bottleneck == ln_g[net["star_edge"]])}
            del res
            log(f"    {np.median(m_times):.2f} s, rel. error {mor['rel_error']:.1e}, "
                f"residual {mor['residual_rel']:.1e}")
            rows.insert(0, mor)
            rows += run_peers(net, kh, g[None, :], np.array([g_ref]), np.array([g_sp]), "single", work, i_size == 0)
            report["single"].append({"network": info, "rows": rows})
            del net, kh, ln_g, g
        # ---------------------------------------------------------------- memory of the largest solve
        n_mem = max(sizes)
        log(f"[{time.perf_counter() - t_start:6.0f} s] peak memory of one morpho solve, N = {n_mem:,} (child process)")
        report["memory"] = {"n_grains": n_mem, **measure_memory(n_mem, args.seed)}
        # ---------------------------------------------------------------- temperature sweep
        if args.sweep_size > 0 and n_temps > 0:
            n = args.sweep_size
            log(f"[{time.perf_counter() - t_start:6.0f} s] sweep, N = {n:,}, {n_temps} temperatures "
                f"{SWEEP_T_K[0]}-{SWEEP_T_K[1]} K")
            net = make_network(n, args.seed)
            kh = Kirchhoff(net)
            g_rows = np.stack([clipped_conductance(net, ln_conductance(net, t)) for t in temperatures])
            log("  SciPy spsolve per temperature, and the refined reference ...")
            sp_total, ref_total, its = 0.0, 0.0, []
            g_sp, g_ref = np.empty(n_temps), np.empty(n_temps)
            sp_resid, ref_resid = 0.0, 0.0
            for k in range(n_temps):
                t0 = time.perf_counter()
                direct = spsolve_direct(net, g_rows[k])
                sp_total += time.perf_counter() - t0
                g_sp[k] = direct["G"]
                sp_resid = max(sp_resid, kh.residual(g_rows[k], direct["volts"]))
                ref = refine(kh, g_rows[k], direct)
                ref_total += ref["refine_s"]
                g_ref[k], ref_resid = ref["G"], max(ref_resid, ref["residual_rel"])
                its.append(ref["iterations"])
                del direct
                if (k + 1) % 10 == 0:
                    log(f"    {k + 1}/{n_temps} temperatures ({sp_total:.0f} s spsolve, {ref_total:.0f} s refinement)")
            sweep_rows: list[dict[str, Any]] = [
                {"tool": "SciPy spsolve", "solver": f"SuperLU/COLAMD per temperature, SciPy {scipy.__version__}",
                 "times_s": [sp_total], "rel_error": float(np.max(np.abs(g_sp / g_ref - 1.0))), "rel_spsolve": 0.0,
                 "residual_rel": sp_resid, "conductance_S": g_sp.tolist()},
                {"tool": "reference", "solver": "spsolve + PCG refinement in extended precision",
                 "times_s": [sp_total + ref_total], "rel_error": 0.0,
                 "rel_spsolve": float(np.max(np.abs(g_ref / g_sp - 1.0))), "residual_rel": ref_resid,
                 "conductance_S": g_ref.tolist(), "iterations": its}]
            api = "NetworkSolver (built once)" if HAS_NETWORK_SOLVER else "solve_network per temperature (fallback)"
            log(f"  morpho {api} ...")
            s_times, results = timed(lambda net=net: morpho_sweep(net, temperatures), repeats)
            ln_m = np.array([r["ln_conductance"] for r in results])
            mor = {"tool": f"morpho {api}", "solver": backend, "times_s": s_times,
                   "rel_error": float(np.max(np.abs(np.expm1(ln_m - np.log(g_ref))))),
                   "rel_spsolve": float(np.max(np.abs(np.expm1(ln_m - np.log(g_sp))))),
                   "rel_error_per_temperature": np.abs(np.expm1(ln_m - np.log(g_ref))).tolist(),
                   "residual_rel": max(kh.residual(g_rows[k], results[k]["potentials"]) for k in range(n_temps)),
                   "morpho_residual_rel": max(abs(r["residual_A"] / r["current_A"]) for r in results),
                   "ln_conductance": ln_m.tolist(),
                   "bottleneck_agrees": all(r["ln_bottleneck"] == ln_conductance(net, t)[net["star_edge"]]
                                            for r, t in zip(results, temperatures, strict=True))}
            del results
            log(f"    {np.median(s_times):.2f} s, max rel. error {mor['rel_error']:.1e}")
            sweep_rows.insert(0, mor)
            sweep_rows += run_peers(net, kh, g_rows, g_ref, g_sp, "sweep", work, False)
            report["sweep"] = [{"network": {"n_grains": n, "n_junctions": int(net["a"].size),
                                            "n_temperatures": n_temps}, "rows": sweep_rows}]
    report["meta"]["total_s"] = time.perf_counter() - t_start
    report["meta"]["load_average_end"] = os.getloadavg()
    report["meta"]["morpho_transport_changed_during_run"] = (
        _sha256(Path(transport.__file__)) != report["meta"]["morpho_transport_sha256"])

    print_report(report, repeats, n_temps)
    out = write_report(report, args.json, indent=1)
    log(f"JSON: {out}  (total {report['meta']['total_s']:.0f} s)")
    return 0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _row_cells(row: dict[str, Any], n: int, morpho_s: float) -> list[str]:
    label = f"{row['tool']} — {row['solver']}"
    if "error" in row:
        return [label, f"{n:,}", "—", "—", "—", "—", "—", f"not run: {row['error']}"]
    t = float(np.median(row["times_s"]))
    notes = []
    if len(row["times_s"]) > 1 or "run_only_s" in row:
        notes.append(f"{len(row['times_s'])} run(s)")
    if "run_only_s" in row:
        notes.append(f"of which run(): {np.median(row['run_only_s']):.3g} s")
    if row.get("extrapolated"):
        notes.append(f"time extrapolated from {row['n_done']} temperatures (budget)")
    if row.get("converged") is False:
        notes.append("OpenPNM: not converged")
    elif row.get("converged") is True and row["rel_error"] > 1e-2:
        notes.append("OpenPNM: reports converged")
    if row.get("linear_ok") is False:
        notes.append("linear solver stopped at its iteration limit")
    if row["tool"] == "reference":
        its = row["iterations"]
        notes.append(f"{max(its) if isinstance(its, list) else its} PCG iterations (max)")
    if "morpho_residual_rel" in row:
        notes.append(f"morpho's own residual/I: {row['morpho_residual_rel']:.1e}")
    return [label, f"{n:,}", fmt(t, "t"), fmt(t / morpho_s, "r"), fmt(row["rel_error"]), fmt(row["rel_spsolve"]),
            fmt(row["residual_rel"]), "; ".join(notes)]


def print_report(report: dict[str, Any], repeats: int, n_temps: int) -> None:
    meta = report["meta"]
    print(f"\n## Transport benchmark — morpho {meta['morpho_version']}, {meta['started_utc']}")
    load = ", ".join(f"{x:.1f}" for x in meta["load_average_start"])
    print(f"\nMachine: {meta['machine']} (load average at start {load}); Python {meta['python']}, NumPy "
          f"{meta['numpy']}, SciPy {meta['scipy']}, CVXOPT {meta['cvxopt'] or 'not installed'}.  ")
    print(f"morpho API: one solve = `solve_network`; sweep = {meta['morpho_api_sweep']}; factorisation backend: "
          f"{meta['morpho_backend']}; morpho/transport.py sha256 {meta['morpho_transport_sha256'][:12]}.  ")
    if meta.get("morpho_transport_changed_during_run"):
        print("**morpho/transport.py changed on disk during this run**: the timings and errors are of the version "
              "imported at the start (the sha256 above); the memory child process imported the new one.  ")
    if not HAS_NETWORK_SOLVER:
        print("**morpho.transport has no `NetworkSolver`: the sweep calls `solve_network` once per temperature.**  ")
    op = report["openpnm"]
    print(f"OpenPNM: {'version ' + op['version_or_reason'] if op['available'] else op['version_or_reason']} "
          "(own venv bench/.venv-openpnm, run in a subprocess).  ")
    if "splu_bitwise_equals_spsolve" in meta:
        print(f"SciPy: `splu(A).solve(b)` (used so the reference can reuse the factorisation) gives bitwise the "
              f"potentials of `spsolve(A, b)`: {meta['splu_bitwise_equals_spsolve']} (checked on the first network).  ")
    print(f"Networks: Delaunay of N uniform random points (seed {meta['seed']}), electrodes = grains within "
          f"{BAND:.0%} of the width of the left/right edge; g = {G0_S:g} S · exp(−E/T), E ~ U(0, {E_MAX_K:g}) K. "
          f"SciPy and OpenPNM get g clipped to ln g* ± {CLIP:g} (g* = bottleneck), morpho gets ln g and clips "
          "itself.  ")
    print("Rel. error = |G/G_ref − 1| against the reference (SciPy spsolve refined until Kirchhoff's law holds to "
          "~1e-10 in extended precision); rel. diff vs plain spsolve = the same against unrefined spsolve; "
          "residual = max |net current at a free node| / I, from each tool's potentials, summed in extended "
          "precision.")
    header = ["tool — solver", "N", "median time (s)", "ratio to morpho", "rel. error vs reference",
              "rel. diff vs plain spsolve", "residual", "notes"]
    def title(kind: str, info: dict[str, Any]) -> str:
        if kind == "single":
            return (f"One solve, N = {info['n_grains']:,} grains, {info['n_junctions']:,} junctions, T = {SINGLE_T_K} K "
                    f"(ln g spans {info['decades_spanned']:.0f} decades, {info['n_clipped']:,} junctions clipped); "
                    f"median of up to {repeats} run(s)")
        return (f"Temperature sweep, N = {info['n_grains']:,} grains, {info['n_temperatures']} temperatures "
                f"{SWEEP_T_K[0]}–{SWEEP_T_K[1]} K (log-spaced); time = whole sweep (morpho: median of "
                f"{repeats}); errors and residuals = worst over the temperatures")

    for kind in ("single", "sweep"):
        for block in report[kind]:
            n = block["network"]["n_grains"]
            morpho_s = float(np.median(block["rows"][0]["times_s"]))
            print()
            print(table(title(kind, block["network"]), header, [_row_cells(r, n, morpho_s) for r in block["rows"]]))
    if "memory" in report:
        m = report["memory"]
        if "error" in m:
            print(f"\nPeak memory of one morpho solve (N = {m['n_grains']:,}): not measured ({m['error']})")
        else:
            peak = m["peak_during_solve_MiB"]
            during = (f"peak RSS during the solve {peak:.0f} MiB (high-water mark reset before it), RSS before it "
                      f"{m['rss_before_solve_MiB']:.0f} MiB (Python, imports, the network)" if peak is not None else
                      "high-water mark could not be reset")
            print(f"\nMemory of one morpho solve, N = {m['n_grains']:,} (child process): {during}; that solve took "
                  f"{m['solve_s']:.2f} s.")
    print("\n### Targets")
    n1, limit1 = TARGET_SINGLE
    hit = [b for b in report["single"] if b["network"]["n_grains"] == n1]
    if hit:
        t = float(np.median(hit[0]["rows"][0]["times_s"]))
        print(f"- one solve, N = {n1:,}: morpho {t:.2f} s — ≤ {limit1:g} s: {'met' if t <= limit1 else 'NOT met'}")
    else:
        print(f"- one solve, N = {n1:,} ≤ {limit1:g} s: not measured in this run")
    n2, k2, limit2 = TARGET_SWEEP
    hit = [b for b in report["sweep"] if b["network"]["n_grains"] == n2 and b["network"]["n_temperatures"] == k2]
    if hit:
        t = float(np.median(hit[0]["rows"][0]["times_s"]))
        print(f"- {k2}-temperature sweep, N = {n2:,}: morpho {t:.2f} s — ≤ {limit2:g} s: "
              f"{'met' if t <= limit2 else 'NOT met'}")
    else:
        ran = f" (this run: {n_temps} temperatures)" if report["sweep"] else ""
        print(f"- {k2}-temperature sweep, N = {n2:,} ≤ {limit2:g} s: not measured in this run{ran}")
    for kind, label in (("single", "one solve"), ("sweep", "sweep")):
        for block in report[kind]:
            rows = block["rows"]
            peers = [r for r in rows if r["tool"].startswith("OpenPNM") and r["solver"].startswith("default")
                     and r.get("times_s")]
            if not peers or not rows[0].get("times_s"):
                continue
            ratio = float(np.median(peers[0]["times_s"])) / float(np.median(rows[0]["times_s"]))
            print(f"- {label}, N = {block['network']['n_grains']:,}: OpenPNM (its default solver) / morpho = "
                  f"{ratio:.2f} — morpho faster: {'met' if ratio > 1 else 'NOT met'}")
    blocks = report["single"] + report["sweep"]
    if blocks:
        # "Agree with a direct solve": at least as close to the extended-precision reference as
        # SciPy's direct solve.  In double precision with conductances spread over e^36 neither
        # reaches the reference's 1e-10 (see bench/README.md).
        worst = max(b["rows"][0]["rel_error"] for b in blocks)
        worst_sp = max((r["rel_error"] for b in blocks for r in b["rows"] if r["tool"] == "SciPy spsolve"),
                       default=None)
        if worst_sp is None:
            print(f"- morpho against the reference, worst relative error {worst:.1e}; no direct solve in this run")
        else:
            print(f"- morpho against the reference, worst relative error {worst:.1e}; plain spsolve {worst_sp:.1e} — "
                  f"morpho at least as close as the direct solve: {'met' if worst <= worst_sp else 'NOT met'}")
    if "total_s" in meta:
        load = ", ".join(f"{x:.1f}" for x in meta["load_average_end"])
        print(f"\nWhole run {meta['total_s'] / 60:.1f} min; load average (1, 5, 15 min) at the end {load}.")


if __name__ == "__main__":
    sys.exit(main())
