"""The README's main command, ``gradwise train``, timed as a user meets it: a fresh process
each run, the whole command from start to exit, plots included; the median of several runs,
and where the seconds went.

    python -m benchmarks.main_job [--runs 5] [--seeds] [--before SRC [--before-label before]]
                                  [--label after] [-- TRAIN FLAGS]

Each run is ``gradwise train`` (the console script of this environment) in an empty folder,
so it writes ``runs/mnist-DATE-TIME/`` as it would for a user. The phases come from that run's
``metrics.json`` (``timings``: seconds ``train.run`` spent on data, training, evaluation,
saving and plots); start-up is the rest of the command: the process's wall time minus the
time inside ``train.run`` (interpreter, imports, argument parsing, exit).

``--seeds``: run k trains with ``--seed k`` (0, 1, ...), so that the runs that give the
median also give the test accuracy over as many seeds (mean and lowest).

``--before SRC`` also runs another copy of gradwise (its ``src/`` folder, e.g. a
``git worktree add /tmp/gw-before COMMIT``), imported through PYTHONPATH; the two alternate
run after run so that a change in the machine's load hits both alike. Other processes share
the machine's cores: the load average is printed with every table, and each run's
``os.getloadavg()`` before it started is kept. Results go to
``benchmarks/results/main-job.json`` (one table per label, the last measurement of each).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import machine

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "main-job.json"
PHASES = ("start-up", "data", "build", "training", "evaluation", "saving", "plots")
PHASE_WORDS = {"start-up": "start-up and imports (wall time outside train.run)",
               "data": "data: load, verify, scale",
               "build": "model, optimiser, config.toml",
               "training": "training (fit: every epoch, validation, checkpoints)",
               "evaluation": "evaluation on the test set",
               "saving": "saving model.npz/.json, metrics.json",
               "plots": "plots (4 PNGs)"}


def gradwise_command() -> list[str]:
    """``gradwise`` as the README's set-up installs it, else the module it runs."""
    script = Path(sys.executable).with_name("gradwise")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gradwise.cli"]


def one_run(flags: list[str], src: Path | None) -> dict:
    """One ``gradwise train`` in a fresh process and an empty folder: wall time, phases, accuracy."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    folder = Path(tempfile.mkdtemp(prefix="gradwise-main-job-"))
    try:
        load = os.getloadavg()[0]
        start = time.perf_counter()
        done = subprocess.run([*gradwise_command(), "train", *flags], cwd=folder, env=env,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"gradwise train failed ({done.returncode}):\n{done.stderr[-2000:]}")
        (run_dir,) = (folder / "runs").iterdir()
        metrics = json.loads((run_dir / "metrics.json").read_text())
        files = sorted(p.name for p in run_dir.iterdir())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    timings = metrics.get("timings", {})
    phases = {"start-up": wall - timings["total"]} if "total" in timings else {}
    phases.update({k: v for k, v in timings.items() if k != "total"})
    return {"wall": wall, "phases": phases, "accuracy": metrics["test"]["accuracy"],
            "epochs": len(metrics["history"]["loss"]), "files": files, "load_before": load,
            "output": done.stdout}


def summary(runs: list[dict]) -> dict:
    """Medians over the runs of the whole command and of each phase."""
    phases = {p: statistics.median(r["phases"][p] for r in runs) for p in PHASES
              if all(p in r["phases"] for r in runs)}
    accuracy = [r["accuracy"] for r in runs]
    return {"whole_command_median_s": statistics.median(r["wall"] for r in runs),
            "whole_command_s": [round(r["wall"], 3) for r in runs],
            "phase_median_s": {k: round(v, 3) for k, v in phases.items()},
            "test_accuracy": accuracy, "test_accuracy_mean": round(statistics.mean(accuracy), 5),
            "test_accuracy_lowest": min(accuracy), "seeds": [r["seed"] for r in runs],
            "epochs": runs[0]["epochs"],
            "files": runs[0]["files"], "load_before_each_run": [round(r["load_before"], 2) for r in runs]}


def table(results: dict[str, dict]) -> str:
    """The phases side by side, one column per label."""
    width = max(10, *(len(label) + 2 for label in results))
    rows = [f"{'phase (median, s)':<52}" + "".join(f"{label:>{width}}" for label in results)]
    for phase in PHASES:
        if any(phase in r["phase_median_s"] for r in results.values()):
            rows.append(f"{PHASE_WORDS[phase]:<52}" + "".join(
                f"{r['phase_median_s'][phase]:>{width}.2f}" if phase in r["phase_median_s"]
                else f"{'-':>{width}}" for r in results.values()))
    rows.append(f"{'whole command':<52}" + "".join(f"{r['whole_command_median_s']:>{width}.2f}"
                                                   for r in results.values()))
    rows.append(f"{'test accuracy (mean of runs, %)':<52}" + "".join(
        f"{100 * r['test_accuracy_mean']:>{width}.2f}" for r in results.values()))
    rows.append(f"{'test accuracy (lowest run, %)':<52}" + "".join(
        f"{100 * r['test_accuracy_lowest']:>{width}.2f}" for r in results.values()))
    return "\n".join(rows)


def blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    import numpy  # noqa: F401  (loads the BLAS threadpoolctl reports)
    return ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
                     f"{i['num_threads']} threads" for i in threadpool_info() if i["user_api"] == "blas")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per version (default 5)")
    parser.add_argument("--before", type=Path, help="src/ folder of the version to compare with")
    parser.add_argument("--label", default="after", help="name of this tree's table (default after)")
    parser.add_argument("--before-label", default="before",
                        help="name of --before's table (default before)")
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument("--seeds", action="store_true", help="run k trains with --seed k")
    parser.add_argument("flags", nargs="*", help="train flags after --, e.g. -- --epochs 1")
    args = parser.parse_args(argv)
    versions = {args.label: None} if args.before is None else {args.before_label: args.before,
                                                                args.label: None}
    print(f"{machine.describe()} ({machine.cpu_model()}; {blas()}); load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print(f"command: gradwise train {' '.join(args.flags)}{' --seed K' if args.seeds else ''}  "
          f"({args.runs} runs each"
          f"{', alternating' if len(versions) > 1 else ''})", flush=True)
    runs: dict[str, list[dict]] = {label: [] for label in versions}
    for i in range(args.runs):
        for label, src in versions.items():
            r = one_run(args.flags + (["--seed", str(i)] if args.seeds else []), src)
            r["seed"] = i if args.seeds else None
            runs[label].append(r)
            print(f"  run {i + 1} {label:>8}: {r['wall']:.2f} s, test accuracy "
                  f"{100 * r['accuracy']:.2f}% (load {r['load_before']:.2f})"
                  f"{f', seed {i}' if args.seeds else ''}", flush=True)
    results = {label: summary(rs) for label, rs in runs.items()}
    print()
    print(table(results))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    first = runs[args.label][0]["output"].strip().splitlines()     # with --seeds: seed 0, the default
    print("\nthe first run's output:\n" + "\n".join(first))
    if not args.no_save:
        saved = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        saved.update({"machine": {"cpu": machine.cpu_model(), **machine.cores(), "blas": blas()},
                      "command": (f"gradwise train {' '.join(args.flags)}"
                                  f"{' --seed K (run K)' if args.seeds else ''}").strip(),
                      "measured": time.strftime("%Y-%m-%d %H:%M"),
                      "load_average_after": [round(x, 2) for x in os.getloadavg()]})
        saved.setdefault("tables", {}).update(results)
        saved["example_output"] = first
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(saved, indent=2) + "\n")
        print(f"\nsaved in {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
