"""Cost of watching your own loop: ``Recorder.log`` against the training step it watches.

    python -m benchmarks.doctor.recorder_overhead [--sizes 1k,10k,100k,1M] [--threads 1,2]
        [--repeats 3] [--seconds 1.5] [--json benchmarks/results/recorder-overhead.json]
        [--baseline OLD.json]

A plain NumPy training loop as a learner writes it (nothing from gradwise's engine): a
2-layer ReLU MLP, row-major (X @ W + b), softmax cross-entropy, mini-batch SGD (64 samples
a step), float64 as NumPy gives it, on synthetic data; sizes of about 1k, 10k, 100k and 1M
parameters, with BLAS limited to 1 and to 2 threads (threadpoolctl). After each step it
calls ``rec.log(step, loss=, weights=, grads=, activations=, logits=, labels=)`` with
everything the README shows.

Each configuration runs ``--repeats`` times two training runs of the same length, one
without the Recorder and one with a fresh one, alternated so that drift on a shared machine
hits both. In the watched run every step is timed twice, the user's step and the ``log``
call after it, so the two are interleaved at the finest grain. Reported per configuration
(medians over the repeats):

* step ms: the user's own step (mean over the watched run's steps);
* log ms: the mean ``log`` call, amortised: the cheap calls and the full checks together;
* overhead: all ``log`` time / all step time in the watched run (the bound: <= 10%);
* light us: the median ``log`` call (the cheap one), checks: the share of calls checked in
  full, and end-to-end: the watched run's wall time over the plain run's, minus 1 (noisier:
  it also holds the machine's drift between the two runs).

Runs are ``--seconds`` long (at least 300 steps), so each holds the Recorder's first
checks, which it always takes, as a short training run would. ``--baseline`` embeds an
earlier result file (e.g. one made with the previous Recorder) in the new one, and prints
both.

Environment of the recorded results (benchmarks/results/recorder-overhead.json, with the
Recorder before budgeting as its baseline): a 2-core AMD EPYC VM (KVM), Python 3.11, NumPy
2.4.6 with its bundled OpenBLAS 0.3.31 (pthreads, 'Haswell' kernels); OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset (the benchmark leaves them as the shell has them, and records them);
other jobs shared the two cores (load average 4-5), which makes the 2-thread rows slow and
noisy (OpenBLAS's second thread waits for a core): medians over 3 repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks import machine
from gradwise import doctor

#: name -> (inputs, hidden units, classes): 2-layer MLPs of about 1k, 10k, 100k and 1M parameters
SIZES = {"1k": (32, 24, 10), "10k": (100, 90, 10), "100k": (784, 128, 10), "1M": (784, 1250, 10)}
BATCH = 64
LR = 0.05


def init(sizes, rng):
    d, h, c = sizes
    return [rng.standard_normal((d, h)) * np.sqrt(2 / d), np.zeros(h),
            rng.standard_normal((h, c)) * np.sqrt(2 / h), np.zeros(c)]


def data(sizes, rng, n=4096):
    d, _, c = sizes
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal((d, c))).argmax(axis=1)           # a teacher to learn from
    return X, y


def train_step(p, xb, yb):
    """Forward, backward and SGD update of the user's own loop; returns what they would log."""
    W1, b1, W2, b2 = p
    n = len(xb)
    Z1 = xb @ W1 + b1                                 # (N, H)
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ W2 + b2                                 # (N, C)
    Z = Z2 - Z2.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = -np.mean(np.log(P[rows, yb] + 1e-12))
    P[rows, yb] -= 1
    dZ2 = P / n
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
    dW1 = xb.T @ dZ1
    db1 = dZ1.sum(axis=0)
    grads = [dW1, db1, dW2, db2]
    for w, g in zip(p, grads):
        w -= LR * g
    return loss, grads, A1, Z2


def one_run(sizes, steps: int, watch: bool, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    X, y = data(sizes, rng)
    p = init(sizes, rng)
    rec = doctor.Recorder(["W1", "b1", "W2", "b2"]) if watch else None
    step_t = np.empty(steps)
    log_t = np.zeros(steps)
    clock = time.perf_counter
    begin = clock()
    for step in range(steps):
        i = (step * BATCH) % (len(X) - BATCH)
        xb, yb = X[i:i + BATCH], y[i:i + BATCH]
        t0 = clock()
        loss, grads, A1, Z2 = train_step(p, xb, yb)
        t1 = clock()
        if watch:
            rec.log(step, loss=loss, weights=p, grads=grads, activations=[A1], logits=Z2, labels=yb)
            log_t[step] = clock() - t1
        step_t[step] = t1 - t0
    wall = clock() - begin
    out = {"wall_s": wall, "step_s": float(step_t.mean()), "steps": steps}
    if watch:
        checked = sum("weight_norm" in r for r in rec.trace)
        out.update(log_s=float(log_t.mean()), light_s=float(np.median(log_t)),
                   overhead=float(log_t.sum() / step_t.sum()), checked=checked / steps,
                   codes=rec.report().codes())
    return out


def measure(name: str, threads: int, repeats: int, seconds: float) -> dict:
    sizes = SIZES[name]
    with threadpool_limits(threads):
        one_run(sizes, 30, False)                     # warm up (the first steps are slow:
        probe = one_run(sizes, 100, False)            # cold caches), then size the runs
        steps = max(300, int(seconds / max(probe["step_s"], 1e-6)))
        plain, watched = [], []
        for r in range(repeats):                      # alternated: drift hits both alike
            plain.append(one_run(sizes, steps, False, seed=r))
            watched.append(one_run(sizes, steps, True, seed=r))
    med = statistics.median
    return {"size": name, "params": sum(a.size for a in init(sizes, np.random.default_rng(0))),
            "layers": list(sizes), "threads": threads, "steps": steps, "repeats": repeats,
            "step_ms": 1e3 * med(w["step_s"] for w in watched),
            "plain_step_ms": 1e3 * med(p["step_s"] for p in plain),
            "log_ms": 1e3 * med(w["log_s"] for w in watched),
            "light_us": 1e6 * med(w["light_s"] for w in watched),
            "overhead": med(w["overhead"] for w in watched),
            "overhead_runs": [w["overhead"] for w in watched],
            "end_to_end": med(w["wall_s"] / p["wall_s"] - 1 for p, w in zip(plain, watched)),
            "checked": med(w["checked"] for w in watched),
            "codes": watched[0]["codes"]}


def environment() -> dict:
    blas = [{k: i.get(k) for k in ("internal_api", "version", "threading_layer", "architecture",
                                    "num_threads")} for i in threadpool_info()]
    return {"cpu": machine.cpu_model(), **machine.cores(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "numpy": np.__version__, "python": platform.python_version(), "blas": blas,
            **{v: os.environ.get(v) for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                              "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}}


def table(rows) -> str:
    head = (f"{'size':>5} {'params':>9} {'threads':>7} {'steps':>6} {'step ms':>8} {'log ms':>8} "
            f"{'overhead':>8} {'light us':>8} {'checks':>7} {'end-to-end':>10}")
    lines = [head]
    for r in rows:
        lines.append(f"{r['size']:>5} {r['params']:>9,} {r['threads']:>7} {r['steps']:>6} "
                     f"{r['step_ms']:>8.3f} {r['log_ms']:>8.3f} {100 * r['overhead']:>7.1f}% "
                     f"{r['light_us']:>8.1f} {100 * r['checked']:>6.1f}% "
                     f"{100 * r['end_to_end']:>+9.1f}%")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each run")
    parser.add_argument("--json", default="benchmarks/results/recorder-overhead.json")
    parser.add_argument("--baseline", help="an earlier result file to embed and print alongside")
    args = parser.parse_args(argv)
    env = environment()
    blas = ", ".join(f"{b['internal_api']} {b['version']}" for b in env["blas"])
    print(f"{env['cpu']}, {env['cores']} cores, NumPy {env['numpy']}, {blas}; "
          f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']}; "
          f"load {env['load_average']}")
    rows = []
    for name in args.sizes.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            rows.append(measure(name, threads, args.repeats, args.seconds))
            print(table(rows[-1:]).splitlines()[-1] if len(rows) > 1 else table(rows), flush=True)
    out = {"environment": env, "batch": BATCH, "rows": rows,
           "worst_overhead": max(r["overhead"] for r in rows)}
    if args.baseline:
        base = json.loads(Path(args.baseline).read_text())
        out["baseline"] = base
        print("\nbaseline:\n" + table(base["rows"]))
    print(f"\nworst overhead {100 * out['worst_overhead']:.1f}% of the user's step (bound: 10%)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
