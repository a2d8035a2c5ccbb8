"""gradwise against PyTorch and scikit-learn on the same MLPs, same data, same init, same Adam.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.compare \\
        [--data-dir DIR] [--epochs 10] [--repeats 5] [--json benchmarks/results/compare.json]

(Unset OPENBLAS_CORETYPE for this command only: forcing the Haswell kernel makes NumPy's
matmul 25-35% slower on this machine; the kernel that ran is printed.)

Per model it prints s/epoch (median over every epoch of every repeat; runs alternate between
the frameworks so that drift hits all alike), samples/s, achieved GFLOP/s and its share of
the measured matmul peak, test accuracy after the last epoch, peak memory (RSS high-water
mark of the training, reset before each run), and the ratio gradwise / PyTorch. Then a
per-phase profile of one gradwise epoch (batching, forward, loss, backward, optimiser).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks import machine

import gradwise as gw

MODELS = {"784-128-10": [784, 128, 10], "784-512-512-10": [784, 512, 512, 10],
          "cnn": "cnn"}            # conv32-pool-conv64-pool-128-10 (gradwise.train.cnn_preset)
BATCH, LR, THREADS = 128, 1e-3, 2


# ------------------------------------------------------------------------------ machine facts

def reset_peak_rss() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")     # Linux: reset VmHWM to the current RSS
    except OSError:
        pass


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = a.copy()
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def flops_per_epoch(sizes, n: int) -> float:
    """Forward 2, backward 4 flops per multiply-add and sample (the convention of the notes)."""
    model = build(sizes, seed=0)
    x = np.zeros((1, *input_shape(sizes)), np.float32)
    macs = 0
    for layer in model.layers:
        y = layer.forward(x)
        if isinstance(layer, gw.Conv2D):
            macs += y.shape[2] * y.shape[3] * layer.params["W"].size
        elif isinstance(layer, gw.Dense):
            macs += layer.params["W"].size
        x = y
    return 6.0 * n * macs


def input_shape(sizes) -> tuple:
    return (1, 28, 28) if sizes == "cnn" else (sizes[0],)


def build(sizes, seed: int):
    """The gradwise model: an MLP of these sizes, or the CNN preset."""
    if sizes == "cnn":
        from gradwise.train import cnn_preset
        return cnn_preset("cnn", 784, 10, seed=seed)
    return gw.mlp(sizes, seed=seed)


# ------------------------------------------------------------------------------ the contenders

def initial_weights(sizes, seed: int):
    """He-normal weights and zero biases (W, b) per Conv2D/Dense layer, shared by every framework."""
    return [(layer.params["W"].copy(), layer.params["b"].copy()) for layer in build(sizes, seed).layers
            if "W" in layer.params]


def run_gradwise(sizes, weights, X, y, Xt, yt, epochs, seed):
    model = build(sizes, seed)
    weighted = [layer for layer in model.layers if "W" in layer.params]
    for layer, (W, b) in zip(weighted, weights):
        layer.params["W"][...] = W
        layer.params["b"][...] = b
    times = []
    cb = gw.LambdaCallback(on_epoch_end=lambda e, logs: times.append(logs["time"]))
    model.fit(X, y, epochs=epochs, batch_size=BATCH, optimizer=gw.Adam(LR), seed=seed,
              verbose=0, callbacks=[cb])
    return times, model.evaluate(Xt, yt)["accuracy"]


def run_torch(sizes, weights, X, y, Xt, yt, epochs, seed):
    import torch
    torch.manual_seed(seed)
    layers = []
    for i, (W, b) in enumerate(weights):
        if W.ndim == 4:                                    # the CNN: conv, ReLU, 2x2 max-pool
            mod = torch.nn.Conv2d(W.shape[1], W.shape[0], W.shape[2], padding=W.shape[2] // 2)
            extra = [torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            if i + 1 < len(weights) and weights[i + 1][0].ndim == 2:
                extra.append(torch.nn.Flatten())
            weight = W
        else:
            mod = torch.nn.Linear(*W.shape)
            extra = [torch.nn.ReLU()] if i < len(weights) - 1 else []
            weight = W.T.copy()
        with torch.no_grad():
            mod.weight.copy_(torch.from_numpy(weight))
            mod.bias.copy_(torch.from_numpy(b))
        layers += [mod, *extra]
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xtr, ytr = torch.from_numpy(X), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(seed)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(Xtr[idx]), ytr[idx]).backward()
            opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        acc = float((net(torch.from_numpy(Xt)).argmax(1).numpy() == yt).mean())
    return times, acc


def run_sklearn(sizes, weights, X, y, Xt, yt, epochs, seed):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), solver="adam", batch_size=BATCH,
                        learning_rate_init=LR, max_iter=epochs, alpha=0.0, shuffle=True,
                        random_state=seed, tol=0.0, n_iter_no_change=epochs + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        total = _timed(lambda: clf.fit(X, y))
    return [total / epochs] * epochs, float(clf.score(Xt, yt))


CONTENDERS = {"gradwise": run_gradwise, "pytorch": run_torch, "sklearn": run_sklearn}


# ------------------------------------------------------------------------------ phase profile

def profile_phases(sizes, X, y, seed=0) -> dict:
    """One epoch of gradwise's training step, timed phase by phase."""
    model = build(sizes, seed)
    loss, opt = gw.SoftmaxCrossEntropy(), gw.Adam(LR)
    params, grads = model.params, model.grads
    model.layers[0].needs_input_grad = False
    rng = np.random.default_rng(seed)
    phases = dict.fromkeys(("batching", "forward", "loss", "backward", "optimiser"), 0.0)
    order = rng.permutation(len(X))
    clock = time.perf_counter
    with np.errstate(under="ignore"):
        for i in range(0, len(X), BATCH):
            t0 = clock()
            idx = order[i:i + BATCH]
            xb, yb = X[idx], y[idx]
            t1 = clock()
            out = model.forward(xb, training=True)
            t2 = clock()
            loss.forward(out, yb)
            g = loss.backward()
            t3 = clock()
            model.backward(g)
            t4 = clock()
            opt.step(params, grads)
            t5 = clock()
            for key, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                phases[key] += dt
    return phases


def profile_layers(sizes, X, y, seed=0, steps=100) -> dict:
    """Seconds per epoch spent in each layer's forward and backward (scaled from ``steps``
    batches), and, for each convolution, the share of its unfold (im2col) and fold (col2im)
    loops, timed on their own at the same shapes (col2im only where the input gradient is
    needed); the rest of a convolution is its matmuls."""
    from gradwise import conv, kernels, runtime
    model = build(sizes, seed)
    model.layers[0].needs_input_grad = False
    loss = gw.SoftmaxCrossEntropy()
    clock = time.perf_counter
    t = {}
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        idx = rng.choice(len(X), BATCH, replace=False)
        out = X[idx]
        for i, layer in enumerate(model.layers):
            t0 = clock()
            out = layer.forward(out, training=True)
            key = f"{i} {type(layer).__name__} forward"
            t[key] = t.get(key, 0.0) + clock() - t0
        loss.forward(out, y[idx])
        g = loss.backward()
        for i in reversed(range(len(model.layers))):
            layer = model.layers[i]
            t0 = clock()
            g = layer.backward(g)
            key = f"{i} {type(layer).__name__} backward"
            t[key] = t.get(key, 0.0) + clock() - t0
    scale = len(X) / (steps * BATCH)
    result = {"layers_s": {k: v * scale for k, v in t.items()}}
    if runtime.settings.kernels:               # the compiled loops alone, at each conv's shapes
        x = X[:BATCH]
        for i, layer in enumerate(model.layers):
            y = layer.forward(x)
            if isinstance(layer, conv.Conv2D):
                _, _, (pt, pl, _, _), (n, ho, wo) = layer.cache
                (kh, kw), (sh, sw), (dh, dw) = layer.kernel_size, layer.stride, layer.dilation
                c = x.shape[1]
                cols = np.empty((n, ho, wo, kh * kw * c + 1), np.float32)
                xs = np.ascontiguousarray(x.transpose(0, 2, 3, 1), dtype=np.float32)  # NHWC
                dx = np.empty(xs.shape, np.float32)
                unfold = kernels.im2col_1 if c == 1 else kernels.im2col
                t_unfold = min(_timed(lambda: unfold(xs, cols, kh, kw, sh, sw, dh, dw, pt, pl))
                               for _ in range(20))
                t_fold = min(_timed(lambda: kernels.col2im(cols, dx, kh, kw, sh, sw, dh, dw, pt, pl))
                             for _ in range(20)) if layer.needs_input_grad else 0.0
                result[f"{i} Conv2D im2col_s"] = t_unfold * len(X) / BATCH
                if layer.needs_input_grad:
                    result[f"{i} Conv2D col2im_s"] = t_fold * len(X) / BATCH
            x = y
    return result


# ------------------------------------------------------------------------------ main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="folder with mnist/ (default: $GRADWISE_DATA, then the cache)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="784-128-10,784-512-512-10",
                        help=f"comma-separated, from {', '.join(MODELS)} (the CNN takes ~1 min/epoch: "
                             f"run it alone with --models cnn --epochs 2 --repeats 1)")
    parser.add_argument("--skip", default="", help="contenders to leave out, e.g. sklearn")
    parser.add_argument("--json", default="benchmarks/results/compare.json")
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    from gradwise.memory import keep_freed_memory
    # gradwise's fit sets malloc to keep freed blocks, for the whole process: set it before
    # anything runs, so every contender, PyTorch included, trains under the same malloc
    # (it speeds PyTorch up too: 34 -> 28.6 ms per CNN step)
    kept = keep_freed_memory()
    torch.set_num_threads(THREADS)
    threadpool_limits(THREADS)
    blas = [f"{i['internal_api']} {i.get('version')} {i.get('architecture')} ({i['num_threads']} threads)"
            for i in threadpool_info() if i["user_api"] == "blas"]
    ds = gw.data.load("mnist", data_dir=args.data_dir)
    X, Xt = gw.data.scale_pixels(ds.X_train), gw.data.scale_pixels(ds.X_test)
    y, yt = ds.y_train.astype(np.int64), ds.y_test.astype(np.int64)
    peak = matmul_peak_gflops()
    from gradwise import runtime
    print(f"gradwise {gw.__version__}, numpy {np.__version__}, torch {torch.__version__}, "
          f"python {platform.python_version()}; BLAS: {'; '.join(blas)}; numba kernels: "
          f"{'on' if runtime.settings.kernels else 'off'}; malloc keeps freed memory (all contenders): "
          f"{'yes' if kept else 'no'}")
    print(f"matmul peak (2048^3 float32): {peak:.0f} GFLOP/s; {args.epochs} epochs x {args.repeats} "
          f"repeats, batch {BATCH}, Adam {LR}, {THREADS} threads\n")
    gw.mlp([784, 16, 10], seed=0).fit(X[:512], y[:512], epochs=1, verbose=0)   # JIT warm-up:
    if "cnn" in args.models.split(","):          # numba compiles each kernel at its first call
        build("cnn", 0).fit(X[:256].reshape(-1, 1, 28, 28), y[:256], epochs=1, verbose=0)
    skip = {s for s in args.skip.split(",") if s}
    results = {"machine": {"cpu": machine.cpu_model(), **machine.cores(), "blas": blas, "matmul_peak_gflops": peak, "numba": runtime.settings.kernels,
                           "malloc_keeps_freed_memory": kept,
                           "numpy": np.__version__, "torch": torch.__version__},
               "models": {}}
    for name in args.models.split(","):
        sizes = MODELS[name]
        weights = initial_weights(sizes, seed=0)
        Xm, Xtm = (X.reshape(-1, 1, 28, 28), Xt.reshape(-1, 1, 28, 28)) if sizes == "cnn" else (X, Xt)
        who_runs = [k for k in CONTENDERS if k not in skip and not (k == "sklearn" and sizes == "cnn")]
        per = {k: {"epoch_times": [], "accuracy": [], "peak_rss_mb": []} for k in who_runs}
        for rep in range(args.repeats):
            for who in per:                                   # alternate the frameworks
                reset_peak_rss()
                times, acc = CONTENDERS[who](sizes, weights, Xm, y, Xtm, yt, args.epochs, rep)
                per[who]["epoch_times"] += times
                per[who]["accuracy"].append(acc)
                per[who]["peak_rss_mb"].append(peak_rss_mb())
        flops = flops_per_epoch(sizes, len(X))
        print(f"== {name} ==")
        print(f"{'':<10} {'s/epoch':>8} {'samples/s':>10} {'GFLOP/s':>8} {'% peak':>7} {'test acc':>9} "
              f"{'peak RSS':>9}")
        summary = {}
        for who, r in per.items():
            s = statistics.median(r["epoch_times"])
            summary[who] = {**r, "s_per_epoch": s, "samples_per_s": len(X) / s,
                            "gflops": flops / s / 1e9, "share_of_peak": flops / s / 1e9 / peak,
                            "test_accuracy": statistics.mean(r["accuracy"]),
                            "peak_rss_mb": max(r["peak_rss_mb"])}
            print(f"{who:<10} {s:8.3f} {len(X) / s:10,.0f} {flops / s / 1e9:8.1f} "
                  f"{100 * flops / s / 1e9 / peak:6.1f}% {100 * summary[who]['test_accuracy']:8.2f}% "
                  f"{summary[who]['peak_rss_mb']:7.0f}MB")
        if "pytorch" in summary:
            ratio = summary["gradwise"]["s_per_epoch"] / summary["pytorch"]["s_per_epoch"]
            diff = 100 * (summary["gradwise"]["test_accuracy"] - summary["pytorch"]["test_accuracy"])
            summary["ratio_gradwise_over_pytorch"] = ratio
            summary["accuracy_diff_points"] = diff
            print(f"gradwise / PyTorch s/epoch: {ratio:.2f}   accuracy difference: {diff:+.2f} points")
        phases = profile_phases(sizes, Xm, y)
        total = sum(phases.values())
        summary["gradwise_phases_s"] = phases
        print("gradwise per-phase profile (one epoch): " + ", ".join(
            f"{k} {v:.3f}s ({100 * v / total:.0f}%)" for k, v in phases.items()) + "\n")
        if sizes == "cnn":
            layers = profile_layers(sizes, Xm, y)
            summary["gradwise_layers"] = layers
            print("gradwise per-layer profile (s per epoch): " + ", ".join(
                f"{k} {v:.2f}" for k, v in {**layers["layers_s"], **{k: v for k, v in layers.items()
                                                                    if k != "layers_s"}}.items()) + "\n")
        results["models"][name] = summary
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1))
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
