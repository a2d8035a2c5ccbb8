"""One way to write a model down: its architecture as JSON, its state as named arrays.

A model's *state* is every array that defines it: each layer's parameters and buffers
(BatchNorm's running statistics), named ``"<layer index>.<name>"`` (``"0.W"``,
``"1.running_mean"``). ``Sequential.save``, the checkpoints of a run and the web page all
go through the functions here, so whatever one of them writes the others can read: a
model with buffers resumes as it saves.

A file is a NumPy ``.npz`` of plain arrays plus one uint8 array holding a JSON record
(``"__config__"`` for a model, ``"__meta__"`` for a checkpoint), written atomically (to a
temporary file, then renamed). It never holds a pickle and is read with
``allow_pickle=False``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .fileio import atomic_write
from .layers import LAYERS, Layer
from .losses import LOSSES
from .version import __version__

MODEL_FORMAT = "gradwise-model"
MODEL_FORMAT_VERSION = 1


def state_arrays(layers: list[Layer]) -> dict[str, np.ndarray]:
    """The state of a list of layers, by name: ``{"0.W": ..., "0.b": ..., "1.running_mean": ...}``."""
    return {f"{i}.{name}": array for i, layer in enumerate(layers) for name, array in layer.state().items()}


def load_state(layers: list[Layer], arrays: dict[str, np.ndarray], source) -> None:
    """Copy ``arrays`` (as ``state_arrays`` names them) into the layers' own arrays, checking
    that each is there with the right shape."""
    for i, layer in enumerate(layers):
        for name, target in layer.state().items():
            key = f"{i}.{name}"
            if key not in arrays:
                raise ModelFileError(f"{source}: missing weights {key!r}")
            if arrays[key].shape != target.shape:
                raise ModelFileError(f"{source}: weights {key!r} have shape {arrays[key].shape}, "
                                     f"the layer expects {target.shape}")
            target[...] = arrays[key]


def model_config(model) -> dict:
    """The JSON record that rebuilds ``model`` (without its arrays)."""
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "gradwise_version": __version__,
        "layers": [{"type": type(layer).__name__, "config": layer.get_config()} for layer in model.layers],
        "loss": None if model.loss is None else {"type": type(model.loss).__name__,
                                                 "config": model.loss.get_config()},
        "meta": model.meta,
    }


def build_layers(config: dict, source) -> tuple[list[Layer], object, dict]:
    """The layers, loss and meta a model record describes (weights not yet loaded)."""
    if config.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{source}: not a gradwise model (format {config.get('format')!r})")
    if config.get("format_version", 0) > MODEL_FORMAT_VERSION:
        raise ModelFileError(f"{source} was written by a newer gradwise "
                             f"({config.get('gradwise_version')}); upgrade gradwise to read it")
    layers = []
    for i, spec in enumerate(config["layers"]):
        if spec["type"] not in LAYERS:
            raise ModelFileError(f"{source}: layer {i} has unknown type {spec['type']!r}")
        layers.append(LAYERS[spec["type"]](**spec["config"]))
    loss = None
    if config.get("loss"):
        spec = config["loss"]
        loss = LOSSES[spec["type"]](**spec.get("config", {}))
    return layers, loss, config.get("meta") or {}


def write_npz(path, arrays: dict[str, np.ndarray], record_key: str, record: dict) -> Path:
    """Atomically write ``arrays`` and the JSON ``record`` (under ``record_key``) to ``path``."""
    text = json.dumps(record)
    payload = {**arrays, record_key: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    return atomic_write(path, lambda f: np.savez(f, **payload))


def read_npz(path, record_key: str, what: str, written_by: str) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the JSON record of a file ``write_npz`` wrote; ModelFileError, naming
    the file (a ``what``, made by ``written_by``), for anything else."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ModelFileError(f"{path} is not a readable gradwise {what} ({e})") from e
    if record_key not in arrays:
        raise ModelFileError(f"{path} has no {what} record: not written by {written_by}")
    try:
        record = json.loads(arrays.pop(record_key).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path}: the {what} record is corrupt ({e})") from e
    return arrays, record
