"""gradwise's gpt-mini against the identical PyTorch model, trained side by side on tinyshakespeare.

    GRADWISE_DATA=/work/shared/data python -m benchmarks.gpt [--iters 2000] \\
        [--json benchmarks/results/gpt.json]

nanoGPT's CPU shakespeare_char run (``gradwise.presets.gpt_mini`` and ``GPT_MINI_RECIPE``:
4 blocks, 4 heads, 128 wide, context 64, batch 12, AdamW lr 1e-3 with 100 warm-up steps and
cosine decay to 1e-4, beta2 0.99, weight decay 0.1, clipping at 1.0), in one process: the
PyTorch model starts from gradwise's initial weights (copied over), both see the same batches,
and they alternate in blocks of ``--block`` steps (10; the one that goes first changes every
block) so that whatever else the machine does slows both alike. Blocks, not single steps:
after its last call OpenBLAS keeps its threads spinning for a while (about 0.1 s), which
would take a core from the PyTorch step that follows each gradwise step. Each step (forward, loss, backward,
clipping, AdamW) is timed; the summary gives the median seconds per iteration of each and
the ratio gradwise / PyTorch, and after the last step the validation loss of both over the
whole validation split (the last 10% of the characters, in windows of 64: each position
predicts the next character from the window so far, as in training).

PyTorch and NumPy's BLAS both use ``--threads`` threads (2: the machine's cores; 1 on a machine
others load, where two threads of either wait on each other's preempted half: both ran 4-5x
slower with 2 threads than with 1 at load average 5).
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

from benchmarks import machine

import gradwise as gw
from gradwise.presets import GPT_MINI_RECIPE, gpt_mini, gpt_mini_optimizer

EVAL_WINDOWS = 256            # windows per forward pass in the validation


# ------------------------------------------------------------------------------ the data

def load_tinyshakespeare(data_dir: str | None) -> tuple[str, np.ndarray, np.ndarray]:
    """(vocab, train ids, val ids) of DIR/tinyshakespeare/input.txt, DIR = --data-dir or
    $GRADWISE_DATA: nanoGPT's split (gw.data.load_text), the first 90% of the characters train."""
    path = Path(data_dir or os.environ.get("GRADWISE_DATA", "")) / "tinyshakespeare" / "input.txt"
    if not path.is_file():
        raise SystemExit(f"benchmarks.gpt: no {path}; set GRADWISE_DATA (or --data-dir) to the folder "
                         f"that holds tinyshakespeare/input.txt")
    text = gw.data.load_text(path)
    return text.vocab, text.train.astype(np.int64), text.val.astype(np.int64)   # int64: torch's targets


def batch(ids: np.ndarray, rng: np.random.Generator, size: int, context: int):
    """``size`` random windows (size, context) and their targets, the next character each."""
    start = rng.integers(0, len(ids) - context, size)                       # (size,)
    rows = start[:, None] + np.arange(context)                              # (size, context)
    return ids[rows], ids[rows + 1]


def val_windows(ids: np.ndarray, context: int):
    """The whole split as non-overlapping windows (N, context) and their targets."""
    n = (len(ids) - 1) // context
    return ids[:n * context].reshape(n, context), ids[1:n * context + 1].reshape(n, context)


# ------------------------------------------------------------------------------ the twin

def torch_twin(model: gw.Sequential, heads: int):
    """The PyTorch model that computes what ``model`` (a gpt_mini) computes, with its weights."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):
            B, T, D = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, heads, D // heads).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)    # (B, H, T, hd)
            x = x + self.proj(y.transpose(1, 2).reshape(B, T, D))
            return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self, vocab, context, d, layers):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Parameter(torch.zeros(context, d))
            self.blocks = nn.ModuleList(Block(d) for _ in range(layers))
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

        def forward(self, ids):
            x = self.tok(ids) + self.pos[:ids.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln(x))

    emb, pos, *blocks, ln, head = model.layers
    twin = GPT(emb.vocab, pos.context, emb.dim, len(blocks)).to(getattr(torch, emb.params["table"].dtype.name))
    with torch.no_grad():
        for layer, key, tensor, transposed in twin_parameters(model, twin):
            tensor.copy_(torch.from_numpy(layer.params[key].T.copy() if transposed else layer.params[key]))
    return twin


def twin_parameters(model: gw.Sequential, twin) -> list[tuple]:
    """(gradwise layer, parameter name, the PyTorch tensor of the same numbers, transposed?)
    for every parameter: torch keeps a Linear's weight as (out, in), gradwise as (in, out)."""
    emb, pos, *blocks, ln, head = model.layers
    pairs = [(emb, "table", twin.tok.weight, False), (pos, "table", twin.pos, False)]
    for ours, theirs in zip(blocks, twin.blocks):
        for name in ("ln1", "ln2"):
            pairs += [(ours, f"{name}_gamma", getattr(theirs, name).weight, False),
                      (ours, f"{name}_beta", getattr(theirs, name).bias, False)]
        for name in ("qkv", "proj", "fc", "out"):
            pairs += [(ours, f"{name}_W", getattr(theirs, name).weight, True),
                      (ours, f"{name}_b", getattr(theirs, name).bias, False)]
    return pairs + [(ln, "gamma", twin.ln.weight, False), (ln, "beta", twin.ln.bias, False),
                    (head, "W", twin.head.weight, True), (head, "b", twin.head.bias, False)]


# ------------------------------------------------------------------------------ the steps

def gradwise_step(model, loss, opt, xb, yb, it) -> float:
    opt.set_epoch(it)                                  # the schedule counts steps
    value = loss.forward(model.forward(xb, training=True), yb)
    model.backward(loss.backward())
    opt.step(model.params, model.grads)                # clips to 1.0, then AdamW
    return value


def torch_step(twin, opt, schedule, xb, yb, it) -> float:
    import torch
    import torch.nn.functional as F
    for group in opt.param_groups:
        group["lr"] = GPT_MINI_RECIPE["lr"] * schedule(it)
    logits = twin(xb)
    value = F.cross_entropy(logits.view(-1, logits.shape[-1]), yb.view(-1))
    opt.zero_grad(set_to_none=True)
    value.backward()
    torch.nn.utils.clip_grad_norm_(twin.parameters(), GPT_MINI_RECIPE["clip"])
    opt.step()
    return value.item()


def gradwise_val_loss(model, X, Y) -> float:
    loss, total = gw.SoftmaxCrossEntropy(), 0.0
    with np.errstate(under="ignore"):
        for i in range(0, len(X), EVAL_WINDOWS):
            xb, yb = X[i:i + EVAL_WINDOWS], Y[i:i + EVAL_WINDOWS]
            total += loss.forward(model.forward(xb), yb) * len(xb)
    return total / len(X)


def torch_val_loss(twin, X, Y) -> float:
    import torch
    import torch.nn.functional as F
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(X), EVAL_WINDOWS):
            xb, yb = torch.from_numpy(X[i:i + EVAL_WINDOWS]), torch.from_numpy(Y[i:i + EVAL_WINDOWS])
            logits = twin(xb)
            total += float(F.cross_entropy(logits.view(-1, logits.shape[-1]), yb.reshape(-1))) * len(xb)
    return total / len(X)


def run(iters: int, data_dir: str | None, seed: int, threads: int, log_every: int,
        block: int = 10) -> dict:
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(threads)
    threadpool_limits(threads, user_api="blas")        # NumPy's OpenBLAS: as many as PyTorch
    r = GPT_MINI_RECIPE
    vocab, train, val = load_tinyshakespeare(data_dir)
    model = gpt_mini(len(vocab), context=r["context"], seed=seed)
    twin = torch_twin(model, heads=4)
    loss, opt = gw.SoftmaxCrossEntropy(), gpt_mini_optimizer(iters)
    topt = torch.optim.AdamW(twin.parameters(), lr=r["lr"], betas=r["betas"], eps=1e-8,
                             weight_decay=r["weight_decay"])
    schedule = gpt_mini_optimizer(iters).schedule      # the same factors for PyTorch's lr
    rng = np.random.default_rng(seed)
    times = {"gradwise": [], "pytorch": []}
    losses = {"gradwise": [], "pytorch": []}
    start = time.perf_counter()
    for first in range(0, iters, block):
        steps = range(first, min(first + block, iters))
        data = [batch(train, rng, r["batch_size"], r["context"]) for _ in steps]
        order = ("gradwise", "pytorch") if (first // block) % 2 == 0 else ("pytorch", "gradwise")
        for who in order:
            for it, (xb, yb) in zip(steps, data):
                t0 = time.perf_counter()
                with np.errstate(under="ignore"):
                    value = (gradwise_step(model, loss, opt, xb, yb, it) if who == "gradwise" else
                             torch_step(twin, topt, schedule, torch.from_numpy(xb), torch.from_numpy(yb), it))
                times[who].append(time.perf_counter() - t0)
                losses[who].append(value)
        if log_every and (first == 0 or (steps[-1] + 1) % log_every == 0 or steps[-1] == iters - 1):
            g, p = (statistics.median(times[k][-log_every:]) for k in ("gradwise", "pytorch"))
            print(f"step {steps[-1]:5d}  loss gradwise {losses['gradwise'][-1]:.4f} pytorch "
                  f"{losses['pytorch'][-1]:.4f}  s/iter {g * 1e3:.1f} ms vs {p * 1e3:.1f} ms "
                  f"({g / p:.2f}x)", flush=True)
    wall = time.perf_counter() - start
    skip = min(10, iters // 10)                        # the first steps warm caches and allocators
    med = {k: statistics.median(v[skip:]) for k, v in times.items()}
    mean = {k: statistics.fmean(v[skip:]) for k, v in times.items()}
    result = {
        "benchmark": "gpt-mini (nanoGPT shakespeare_char, CPU config) vs identical PyTorch model",
        "machine": {"cpu": machine.cpu_model(), **machine.cores(), "threads": threads,
                    "python": platform.python_version(), "numpy": np.__version__,
                    "torch": torch.__version__, "load_average_at_end": list(os.getloadavg())},
        "recipe": {**GPT_MINI_RECIPE, "iters": iters, "seed": seed},
        "alternation": f"blocks of {block} steps, the first framework changing every block",
        "params": model.num_params(),
        "seconds_per_iter_median": med, "seconds_per_iter_mean": mean,
        "ratio_median": med["gradwise"] / med["pytorch"], "ratio_mean": mean["gradwise"] / mean["pytorch"],
        "train_loss_last_50_mean": {k: statistics.fmean(v[-50:]) for k, v in losses.items()},
        "wall_seconds": wall,
    }
    if iters >= 500:                                    # a validation loss means something by then
        Xv, Yv = val_windows(val, r["context"])
        result["val_loss"] = {"gradwise": gradwise_val_loss(model, Xv, Yv),
                              "pytorch": torch_val_loss(twin, Xv, Yv)}
        result["val_loss_gap"] = result["val_loss"]["gradwise"] - result["val_loss"]["pytorch"]
        result["val_windows"] = len(Xv)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--block", type=int, default=10, help="steps of one framework before the other's")
    parser.add_argument("--json", default=None,
                        help="write the result here (e.g. benchmarks/results/gpt.json)")
    args = parser.parse_args(argv)
    result = run(args.iters, args.data_dir, args.seed, args.threads, args.log_every, args.block)
    med = result["seconds_per_iter_median"]
    print(f"{machine.describe()}: gradwise {med['gradwise'] * 1e3:.1f} ms/iter, PyTorch "
          f"{med['pytorch'] * 1e3:.1f} ms/iter: {result['ratio_median']:.2f}x (median over "
          f"{args.iters} alternated steps)")
    if "val_loss" in result:
        v = result["val_loss"]
        print(f"validation loss: gradwise {v['gradwise']:.4f}, PyTorch {v['pytorch']:.4f} "
              f"(gap {result['val_loss_gap']:+.4f}, {result['val_windows']} windows)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
