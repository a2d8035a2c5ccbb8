"""char-lstm beside the identical PyTorch model: seconds per training step, side by side.

    python -m benchmarks.char_lstm [--steps 20] [--repeats 3]

Both train the same network (Embedding(65, 64) -> LSTM(64, 256) -> Linear(256, 65), the
weights copied from gradwise's into PyTorch's) on the same random windows of tinyshakespeare
(32 x 64 characters a step), with Adam 2e-3 and gradient clipping at norm 1, in the same
process, alternating blocks of ``--steps`` steps so a busy neighbour slows both alike. It
prints and writes to ``benchmarks/results/char-lstm-THREADS.json``: the median seconds per step of
each, their ratio (gradwise / PyTorch) and the loss each reached after the same steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import gradwise as gw
from gradwise import textmodels
from gradwise.recurrent import char_lstm

from . import machine

RESULTS = Path(__file__).parent / "results" / "char-lstm-{threads}.json"   # PyTorch's threads


def torch_twin(ours):
    """PyTorch's char-lstm with gradwise's weights (W, U transposed; b split over two biases)."""
    import torch
    emb, lstm, dense = ours.layers
    V, D = emb.params["table"].shape
    H = lstm.hidden

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.lstm, self.out = torch.nn.Embedding(V, D), torch.nn.LSTM(D, H, batch_first=True), \
                torch.nn.Linear(H, V)

        def forward(self, x):
            return self.out(self.lstm(self.emb(x))[0])

    net = Net()
    with torch.no_grad():
        net.emb.weight.copy_(torch.from_numpy(emb.params["table"]))
        net.lstm.weight_ih_l0.copy_(torch.from_numpy(lstm.params["W"].T.copy()))
        net.lstm.weight_hh_l0.copy_(torch.from_numpy(lstm.params["U"].T.copy()))
        net.lstm.bias_ih_l0.copy_(torch.from_numpy(lstm.params["b"] / 2))
        net.lstm.bias_hh_l0.copy_(torch.from_numpy(lstm.params["b"] / 2))
        net.out.weight.copy_(torch.from_numpy(dense.params["W"].T.copy()))
        net.out.bias.copy_(torch.from_numpy(dense.params["b"]))
    return net


def main(argv=None) -> dict:
    import torch
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--torch-threads", type=int, default=2, help="PyTorch's threads (default 2, its "
                   "default on 2 cores; gradwise's LSTM uses one BLAS thread)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    text = gw.data.load("tinyshakespeare", quiet=True)
    r = textmodels.CHAR_LSTM
    ours = char_lstm(len(text.vocab), seed=0)
    ours.loss, ours.optimizer = gw.SoftmaxCrossEntropy(), gw.Adam(r.lr, clip_norm=r.clip)
    net = torch_twin(ours)
    opt = torch.optim.Adam(net.parameters(), lr=r.lr)
    rng = np.random.default_rng(0)
    batches = [b[1:] for b in textmodels.Windows(text.train, r.context, r.batch_size,
                                                 args.steps * args.repeats, rng).epoch()]

    def run_ours(block):
        return [ours.train_step(x, y)[0] for x, y in block]

    def run_torch(block):
        losses = []
        for x, y in block:
            logits = net(torch.from_numpy(x.astype(np.int64)))
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                     torch.from_numpy(y.astype(np.int64)).reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), r.clip)
            opt.step()
            losses.append(loss.item())
        return losses

    run_ours(batches[:2]), run_torch(batches[:2])           # warm up (first calls allocate)
    times = {"gradwise": [], "pytorch": []}
    losses = {"gradwise": [], "pytorch": []}
    for k in range(args.repeats):
        block = batches[k * args.steps:(k + 1) * args.steps]
        for name, fn in (("gradwise", run_ours), ("pytorch", run_torch)):
            start = time.perf_counter()
            losses[name] += fn(block)
            times[name].append((time.perf_counter() - start) / args.steps)
    ours_s, theirs_s = statistics.median(times["gradwise"]), statistics.median(times["pytorch"])
    result = {"machine": {"cpu": machine.cpu_model(), **machine.cores(), "load_average": list(_load())},
              "model": "Embedding(65, 64) -> LSTM(64, 256) -> Dense(256, 65), batch 32 x 64, Adam 2e-3, clip 1",
              "steps_per_block": args.steps, "repeats": args.repeats, "torch_threads": args.torch_threads,
              "seconds_per_step": {"gradwise": ours_s, "pytorch": theirs_s},
              "blocks": times, "ratio_gradwise_over_pytorch": ours_s / theirs_s,
              "last_loss": {k: v[-1] for k, v in losses.items()}}
    print(f"{machine.describe()}: gradwise {ours_s:.3f} s/step, PyTorch {theirs_s:.3f} s/step, "
          f"ratio {ours_s / theirs_s:.2f}; loss after {len(losses['gradwise'])} steps "
          f"{losses['gradwise'][-1]:.4f} / {losses['pytorch'][-1]:.4f}")
    Path(str(RESULTS).format(threads=args.torch_threads)).write_text(json.dumps(result, indent=2) + "\n")
    return result


def _load():
    import os
    return os.getloadavg()


if __name__ == "__main__":
    main()
