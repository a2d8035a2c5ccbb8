"""Cost of watching: the default MNIST run with and without doctor.Monitor, alternated.

    GRADWISE_DATA=/path/to/data python -m benchmarks.doctor.overhead [--repeats 3] [--epochs 3]

Prints the seconds of each run and the ratio (with Monitor / without); the goal is < 1.10.
Without MNIST at hand it uses mnist-mini (--data mnist-mini).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from gradwise import doctor
from gradwise.train import TrainConfig, build, prepare


def one_run(cfg: TrainConfig, prepared, monitor: bool) -> float:
    X, y = prepared.X_train, prepared.y_train
    model, optimizer = build(cfg, prepared)
    callbacks = [doctor.Monitor()] if monitor else []
    start = time.perf_counter()
    model.fit(X, y, epochs=cfg.epochs, batch_size=cfg.batch_size, optimizer=optimizer,
              seed=cfg.seed, verbose=0, callbacks=callbacks)
    seconds = time.perf_counter() - start
    if monitor:
        assert callbacks[0].report().ok, str(callbacks[0].report())
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    cfg = TrainConfig(data=args.data, epochs=args.epochs)
    data, _ = prepare(cfg)
    plain, watched = [], []
    for _ in range(args.repeats):                       # alternate, so drift hits both alike
        plain.append(one_run(cfg, data, False))
        watched.append(one_run(cfg, data, True))
    p, w = statistics.median(plain), statistics.median(watched)
    print(f"default MLP on {args.data}, {args.epochs} epochs, median of {args.repeats}: "
          f"without Monitor {p:.2f}s, with Monitor {w:.2f}s; overhead x{w / p:.3f} "
          f"({100 * (w / p - 1):+.1f}%)")
    print(f"runs without: {np.round(plain, 2).tolist()}  with: {np.round(watched, 2).tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
