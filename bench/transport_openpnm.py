"""OpenPNM driver of the transport benchmark (``bench/transport.py``); runs in ``bench/.venv-openpnm``.

It never runs in morpho's venv and imports nothing from morpho: ``bench/transport.py`` writes the
network to an .npz in a temporary folder and starts this script with the OpenPNM venv's Python::

    python transport_openpnm.py NETWORK.npz OUT.json --solver default|ScipyCG|PyamgRugeStuben|...
                                [--mode single|sweep] [--repeats 3] [--budget 60]

The .npz holds ``coords`` (n, 3), ``conns`` (m, 2), ``source`` and ``drain`` (pore indices) and
``g`` (k, m): the junction conductances in siemens, already clipped by ``bench/transport.py``
(ln g within +-18 of the bottleneck value), one row per temperature.  OpenPNM is driven through
its documented v3 API, as its users drive it: ``op.network.Network(coords=, conns=)``, a
``op.phase.Phase`` with ``throat.electrical_conductance``, ``op.algorithms.OhmicConduction``,
``set_value_BC`` (1 V on the source, 0 V on the drain), ``run(solver=...)`` and
``rate(pores=source)``.  ``--solver default`` calls ``run()`` without a solver, i.e. OpenPNM's own
default (``Workspace().settings.default_solver``).

``single``: the first row of ``g``, set up and solved ``--repeats`` times (fewer once the runs add
up to ``--budget`` seconds); each run builds the network, phase and algorithm afresh (the
workspace is cleared in between).  ``sweep``: the network, phase, algorithm and boundary
conditions are built once, then for each row of ``g`` the phase's conductances are replaced and
the algorithm is run again (``settings['cache'] = False`` so that OpenPNM rebuilds its matrix from
the new conductances; with its default ``cache = True`` it keeps the matrix of the first
temperature and its later answers are wrong, checked on a 10^4-grain network).  The
sweep stops after ``--budget`` seconds and reports how many temperatures it did.

``--newton-maxiter N`` sets ``settings['newton_maxiter']`` of the algorithm (OpenPNM's default is
5000: ``OhmicConduction`` is a ``ReactiveTransport`` whose Newton loop calls the linear solver
again while its residual test fails, which it keeps failing when an iterative solver stops at its
iteration limit); ``1`` = one linear solve.

The result JSON has the times, the conductance ``rate(source) / 1 V``, OpenPNM's convergence flag
and the exit codes of the linear solves; the potentials go to ``OUT.json.volts.npy`` (one row per
temperature) so that ``bench/transport.py`` computes every tool's Kirchhoff residual the same way.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import warnings

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("network")
    parser.add_argument("out")
    parser.add_argument("--solver", default="default")
    parser.add_argument("--mode", choices=["single", "sweep"], default="single")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--newton-maxiter", type=int, default=None,
                        help="set OhmicConduction.settings['newton_maxiter'] (default: OpenPNM's, 5000)")
    args = parser.parse_args()

    t_import = time.perf_counter()
    import openpnm as op

    import_s = time.perf_counter() - t_import
    data = np.load(args.network)
    coords, conns = data["coords"], data["conns"]
    src, drn, g_all = data["source"], data["drain"], data["g"]
    n = coords.shape[0]
    volts = np.zeros((0, n))
    ws = op.Workspace()
    default_name = ws.settings.default_solver
    if args.solver == "default":
        solver_name = default_name

        def make_solver():
            return None
    else:
        solver_name = args.solver
        cls = getattr(op.solvers, args.solver, None) or getattr(op.solvers, args.solver + "Solver", None)
        if cls is None:
            json.dump({"error": f"openpnm.solvers has no {args.solver!r}"}, open(args.out, "w"))  # noqa: SIM115
            return 0
        solver_name = cls.__name__

        class Recording(cls):
            """The same solver; only records the exit code of the linear solve for the report."""

            def solve(self, A, b, **kwargs):
                x, info = super().solve(A, b, **kwargs)
                exit_codes.append(int(np.asarray(info).ravel()[0]) if np.size(info) else 0)
                return x, info

        def make_solver():
            return Recording()

    exit_codes: list[int] = []

    def setup(g: np.ndarray):
        pn = op.network.Network(coords=coords, conns=conns)
        ph = op.phase.Phase(network=pn)
        ph["throat.electrical_conductance"] = g
        alg = op.algorithms.OhmicConduction(network=pn, phase=ph)
        alg.set_value_BC(pores=src, values=1.0)
        alg.set_value_BC(pores=drn, values=0.0)
        if args.newton_maxiter is not None:
            alg.settings["newton_maxiter"] = args.newton_maxiter
        return pn, ph, alg

    out: dict = {"openpnm_version": op.__version__, "solver": solver_name, "default_solver": default_name,
                 "import_s": import_s, "mode": args.mode, "n_pores": int(n), "n_throats": int(conns.shape[0]),
                 "newton_maxiter": args.newton_maxiter}
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        if args.mode == "single":
            runs = []
            for _ in range(max(args.repeats, 1)):
                ws.clear()
                t0 = time.perf_counter()
                _, _, alg = setup(g_all[0])
                t1 = time.perf_counter()
                alg.run(solver=make_solver())
                t2 = time.perf_counter()
                conductance = float(alg.rate(pores=src)[0]) / 1.0
                t3 = time.perf_counter()
                runs.append({"setup_s": t1 - t0, "run_s": t2 - t1, "rate_s": t3 - t2, "total_s": t3 - t0})
                if sum(r["total_s"] for r in runs) > args.budget:
                    break
            volts = np.asarray(alg["pore.voltage"], dtype=np.float64)[None, :]
            out.update(runs=runs, conductance_S=conductance, converged=bool(getattr(alg.soln, "is_converged", True)),
                       newton_iterations=getattr(alg.soln, "num_iter", None), linear_exit_codes=exit_codes[-50:],
                       linear_solves=len(exit_codes))
        else:
            t0 = time.perf_counter()
            _, ph, alg = setup(g_all[0])
            alg.settings["cache"] = False
            setup_s = time.perf_counter() - t0
            per_t, conductances, converged, volts_rows, solves = [], [], [], [], []
            for k in range(g_all.shape[0]):
                t1 = time.perf_counter()
                ph["throat.electrical_conductance"] = g_all[k]
                alg.run(solver=make_solver())
                conductances.append(float(alg.rate(pores=src)[0]) / 1.0)
                per_t.append(time.perf_counter() - t1)
                converged.append(bool(getattr(alg.soln, "is_converged", True)))
                volts_rows.append(np.asarray(alg["pore.voltage"], dtype=np.float64).copy())
                solves.append(len(exit_codes))
                if setup_s + sum(per_t) > args.budget and k + 1 < g_all.shape[0]:
                    break
            out.update(setup_s=setup_s, per_temperature_s=per_t, total_s=setup_s + sum(per_t),
                       n_temperatures=int(g_all.shape[0]), n_done=len(per_t), conductance_S=conductances,
                       converged=converged, linear_exit_codes=exit_codes[-200:], linear_solves_cumulative=solves)
            volts = np.stack(volts_rows)
        caught = sorted({f"{w.category.__name__}: {str(w.message)[:200]}" for w in wlist})
    out["warnings"] = caught
    out["peak_rss_MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    np.save(args.out + ".volts.npy", volts)  # potentials, one row per temperature done
    with open(args.out, "w") as fh:
        json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
