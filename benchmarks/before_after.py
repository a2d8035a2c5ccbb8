"""The same training in two versions of gradwise, side by side: does a change keep the accuracy
and the speed?

    python -m benchmarks.before_after --before f28d39c [--data mnist] [--epochs 2] [--repeats 3]

``--before`` is a git commit; it is checked out into a temporary worktree and imported from
there, the working tree's ``src/`` is "after". Each model (the default MLP, the CNN, the CNN
with BatchNorm) trains in a fresh process per version, the two alternating repeat after
repeat so that drift of the machine hits both alike. Both runs get the same data, seed and
settings through the API both versions share (``gradwise.train.TrainConfig``,
``build_model``, ``make_optimizer``, ``Sequential.fit``); malloc keeps freed memory in both
(the CLI's setting). Reported: seconds per epoch (median over repeats of the mean of the
epochs after the first, which pays compilation), test accuracy, and after/before ratios.
Results go to ``benchmarks/results/before-after.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import machine

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"mlp": {"model": "mlp"}, "cnn": {"model": "cnn"},
          "cnn-batchnorm": {"model": "cnn", "batchnorm": True}}

CHILD = r"""
import json, sys, time
import numpy as np
import gradwise as gw
from gradwise import memory
from gradwise.train import TrainConfig, build_model, make_optimizer
settings, data, epochs, limit = json.loads(sys.argv[1])
memory.keep_freed_memory()
cfg = TrainConfig(data=data, epochs=epochs, **settings)
ds = gw.data.load(data, download=False)
images = cfg.model != "mlp"
shape = (-1, 1, 28, 28) if images else (-1, 784)
X = (ds.X_train[:limit] / np.float32(255)).reshape(shape).astype(np.float32)
Xt = (ds.X_test / np.float32(255)).reshape(shape).astype(np.float32)
y, yt = ds.y_train[:limit].astype(np.intp), ds.y_test.astype(np.intp)
model = build_model(cfg, 784, 10)
history = model.fit(X, y, epochs=epochs, batch_size=cfg.batch_size, optimizer=make_optimizer(cfg),
                    validation_split=cfg.val_split, seed=cfg.seed, verbose=0)
steps = int(np.ceil(len(X) * (1 - cfg.val_split) / cfg.batch_size))
print(json.dumps({"epoch_seconds": history["time"], "steps_per_epoch": steps,
                  "test_accuracy": model.evaluate(Xt, yt)["accuracy"], "version": gw.__file__}))
"""


def run_child(src: Path, settings: dict, data: str, epochs: int, limit: int | None,
              threads: int | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    if threads:
        env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                   MKL_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps([settings, data, epochs, limit])],
                          capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise SystemExit(f"the run in {src} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="git commit of the version to compare against")
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated: {', '.join(MODELS)}")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads in each run (default: the library's own choice)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "before-after.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
                       check=True, capture_output=True)
        try:
            trees = {"before": tree / "src", "after": ROOT / "src"}
            results = {"cpu": machine.cpu_model(), "cores": os.cpu_count(), "before": args.before,
                       "data": args.data, "epochs": args.epochs, "repeats": args.repeats,
                       "limit": args.limit, "threads": args.threads, "models": {}}
            for name in args.models.split(","):
                runs = {"before": [], "after": []}
                for _ in range(args.repeats):
                    for version, src in trees.items():
                        runs[version].append(run_child(src, MODELS[name], args.data, args.epochs, args.limit,
                                                       args.threads))
                row = {}
                for version, rs in runs.items():
                    per_epoch = [statistics.mean(r["epoch_seconds"][1:] or r["epoch_seconds"]) for r in rs]
                    row[version] = {"seconds_per_epoch": statistics.median(per_epoch),
                                    "ms_per_step": 1000 * statistics.median(per_epoch) / rs[0]["steps_per_epoch"],
                                    "test_accuracy": [r["test_accuracy"] for r in rs], "runs": rs}
                row["ratio_after_over_before"] = row["after"]["seconds_per_epoch"] / row["before"]["seconds_per_epoch"]
                row["same_accuracy"] = row["after"]["test_accuracy"] == row["before"]["test_accuracy"]
                results["models"][name] = row
                print(f"{name:<14} before {row['before']['seconds_per_epoch']:.2f} s/epoch "
                      f"({row['before']['ms_per_step']:.1f} ms/step), after "
                      f"{row['after']['seconds_per_epoch']:.2f} ({row['after']['ms_per_step']:.1f}); "
                      f"after/before {row['ratio_after_over_before']:.3f}; test accuracy "
                      f"{row['before']['test_accuracy'][0]:.4f} -> {row['after']['test_accuracy'][0]:.4f}"
                      f"{' (identical)' if row['same_accuracy'] else ''}", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           capture_output=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"{results['cpu']}, {results['cores']} cores; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
