"""Does flushing subnormals out of the optimiser state matter? Late-epoch speed with and without.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.subnormals [--epochs 10]

float32 Adam moments of weights whose gradient is ~0 (MNIST's always-black border pixels feed
the first layer nothing) decay geometrically and end as subnormal numbers, which x86 handles
many times slower. The fused kernels flush them to zero; this measures what that buys.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

import gradwise as gw
from gradwise import runtime
from gradwise.memory import keep_freed_memory


def run(X, y, sizes, epochs, flush: bool) -> tuple[list[float], int]:
    runtime.settings.flush_subnormals = flush
    model = gw.mlp(sizes, seed=0)
    opt = gw.Adam(1e-3)
    times = []
    model.fit(X, y, epochs=epochs, batch_size=128, optimizer=opt, seed=0, verbose=0,
              callbacks=[gw.LambdaCallback(on_epoch_end=lambda e, logs: times.append(logs["time"]))])
    tiny = np.finfo(np.float32).tiny
    subnormal = sum(int(np.sum((np.abs(a) < tiny) & (a != 0))) for s in opt.state
                    for k, a in s.items() if k != "tmp")          # tmp: scratch, not state
    return times, subnormal


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    if not runtime.settings.kernels:
        raise SystemExit("the compiled kernels are off (numba not installed, or GRADWISE_NO_NUMBA): "
                         "the flush lives in the fused optimiser steps")
    keep_freed_memory()         # as gradwise train does (fit leaves malloc alone)
    ds = gw.data.load("mnist", data_dir=args.data_dir)
    X, y = gw.data.scale_pixels(ds.X_train), ds.y_train.astype(np.int64)
    sizes = [784, 512, 512, 10]
    gw.mlp([784, 16, 10]).fit(X[:256], y[:256], verbose=0)        # JIT warm-up
    for flush in (False, True, False, True):
        times, sub = run(X, y, sizes, args.epochs, flush)
        late = statistics.median(times[-3:])
        print(f"flush={'on ' if flush else 'off'}  first epoch {times[0]:.3f}s  last 3 epochs "
              f"{late:.3f}s/epoch  subnormal numbers left in the optimiser state: {sub:,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
