"""Checkpoints: everything needed to continue a run as if it had never stopped.

One file, ``checkpoint.npz``, written atomically at the end of every epoch: the model's state
(parameters and buffers, written by gradwise.serialize as ``Sequential.save`` writes them),
the optimiser's state (step count, learning rate, moment estimates), the random-number
state of shuffling and dropout, the epoch just finished and the history so far. Resuming
from it gives the same final weights, bit for bit, as the uninterrupted run with the same
seed and data. Plain data only (arrays and JSON), no pickle.
"""

from __future__ import annotations

from pathlib import Path

from . import serialize
from .callbacks import Callback, History
from .errors import ModelFileError
from .model import Sequential

CHECKPOINT_FORMAT = "gradwise-checkpoint"


def save_checkpoint(path, model, optimizer, epoch: int, history: History) -> Path:
    """Write model + optimiser + random state + history after ``epoch`` (0-based)."""
    opt_state = optimizer.state_dict()
    arrays = {f"model/{name}": a for name, a in model.state_dict().items()}   # params and buffers
    for i, state in enumerate(opt_state["state"]):
        for key, value in state.items():
            arrays[f"optim/{i}/{key}"] = value
    meta = {"format": CHECKPOINT_FORMAT, "epoch": epoch, "model": model.get_config(),
            "optimizer": {"type": type(optimizer).__name__, "t": opt_state["t"],
                          "lr": opt_state["lr"], "n_state": len(opt_state["state"])},
            "training_state": model.training_state(), "history": history.to_dict()}
    return serialize.write_npz(path, arrays, "__meta__", meta)


def load_checkpoint(path) -> dict:
    """Read a checkpoint: {"epoch", "model" (Sequential), "optimizer_state", "training_state",
    "history" (History), "optimizer_type"}."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no checkpoint at {path}: nothing to resume (the run never finished "
                             f"an epoch, or the folder is wrong)")
    try:
        arrays, meta = serialize.read_npz(path, "__meta__", "checkpoint", "gradwise's Checkpoint")
    except ModelFileError as e:
        raise ModelFileError(f"{e}; delete it to start over") from e
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ModelFileError(f"{path} is not a gradwise checkpoint")
    weights = {k.removeprefix("model/"): v for k, v in arrays.items() if k.startswith("model/")}
    model = Sequential.from_config(meta["model"], weights, path)
    states = [{} for _ in range(meta["optimizer"]["n_state"])]
    for key, value in arrays.items():
        if key.startswith("optim/"):
            _, i, name = key.split("/", 2)
            states[int(i)][name] = value
    history = History()
    saved = meta["history"]
    history.epoch = list(saved.pop("epoch", []))
    history.history = {k: list(v) for k, v in saved.items()}
    return {"epoch": meta["epoch"], "model": model, "history": history,
            "optimizer_type": meta["optimizer"]["type"],
            "optimizer_state": {"t": meta["optimizer"]["t"], "lr": meta["optimizer"]["lr"],
                                "state": states},
            "training_state": meta["training_state"]}


class Checkpoint(Callback):
    """Save a full checkpoint (atomically) at the end of every epoch.

    Args:
        path: the checkpoint file (``RUN/checkpoint.npz``).
        optimizer: the optimiser passed to fit (its state is saved too).
        history: the History that fit fills (pass the one you give fit, or None to keep
            this callback's own record).
    """

    def __init__(self, path, optimizer, history: History | None = None) -> None:
        self.path, self.optimizer = Path(path), optimizer
        self.history = history if history is not None else History()
        self._own_history = history is None

    def on_epoch_end(self, epoch, logs):
        if self._own_history:
            self.history.on_epoch_end(epoch, logs)
        save_checkpoint(self.path, self.model, self.optimizer, epoch, self.history)
