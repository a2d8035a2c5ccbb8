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

import inspect
import json
import math
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .fileio import atomic_write, read_npz_arrays
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


def build_layers(config: dict, source, arrays: dict[str, np.ndarray] | None = None
                 ) -> tuple[list[Layer], object, dict]:
    """The layers, loss and meta a model record describes (weights not yet loaded).

    Every part of the record is checked before a layer is built: a record edited by hand
    (an unknown option, no layers, a layer far wider than its weights in ``arrays``) raises
    ModelFileError naming the file, the setting and what is wrong, never a TypeError or a
    MemoryError from deep inside.
    """
    if not isinstance(config, dict) or config.get("format") != MODEL_FORMAT:
        found = config.get("format") if isinstance(config, dict) else type(config).__name__
        raise ModelFileError(f"{source}: not a gradwise model (format {found!r})")
    version = config.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{source}: format_version must be a whole number; got {version!r}")
    if version > MODEL_FORMAT_VERSION:
        raise ModelFileError(f"{source} was written by a newer gradwise "
                             f"({config.get('gradwise_version')}); upgrade gradwise to read it")
    specs = config.get("layers")
    if not isinstance(specs, list) or not specs:
        what = "no layers" if specs in (None, []) else f"\"layers\" {specs!r:.40}, not a list of layers"
        raise ModelFileError(f"{source}: the model record has {what}; the file was edited or "
                             f"damaged: save the model again")
    layers = [_build(f"layer {i}", spec, LAYERS, source, _stored_values(arrays, i))
              for i, spec in enumerate(specs)]
    loss = None if not config.get("loss") else _build("loss", config["loss"], LOSSES, source, None)
    meta = config.get("meta") or {}
    if not isinstance(meta, dict):
        raise ModelFileError(f"{source}: \"meta\" must be a JSON object; got {type(meta).__name__}")
    _check_meta(meta, layers, source)
    return layers, loss, meta


MAX_INPUT_VALUES = 1 << 24     # one input of a model (a 28x28 image is 784 values)


def _check_meta(meta: dict, layers: list[Layer], source) -> None:
    """The parts of ``meta`` that gradwise reads (the data set's name, the class names, how
    inputs are prepared) of the types it reads them as; other keys are the owner's own."""
    def bad(key: str, rule: str, value) -> ModelFileError:
        return ModelFileError(f"{source}: meta {key} must be {rule}; got {json.dumps(value)[:60]}; "
                              f"the file was edited or damaged: save the model again")
    if meta.get("data") is not None and not isinstance(meta["data"], str):
        raise bad("\"data\"", "the name of a data set", meta["data"])
    classes = meta.get("classes")
    if classes is not None:
        if not isinstance(classes, list) or not all(isinstance(c, (str, int, float)) for c in classes):
            raise bad("\"classes\"", "a list of class names", classes)
        outputs = next((len(layer.params["b"]) for layer in reversed(layers) if "b" in layer.params), None)
        if classes and outputs is not None and len(classes) != outputs and not (outputs == 1 and len(classes) == 2):
            raise ModelFileError(f"{source}: meta \"classes\" names {len(classes)} classes but the model "
                                 f"has {outputs} outputs; the file was edited or damaged: save the "
                                 f"model again")
    pre = meta.get("preprocessing")
    if pre is None:
        return
    if not isinstance(pre, dict):
        raise bad("\"preprocessing\"", "a JSON object", pre)
    if "scale" in pre and "kind" not in pre and not isinstance(pre["scale"], str):   # a scaler's are numbers
        raise bad("preprocessing \"scale\"", "text (\"pixels / 255\" or \"none\")", pre["scale"])
    if "flatten" in pre and not isinstance(pre["flatten"], bool):
        raise bad("preprocessing \"flatten\"", "true or false", pre["flatten"])
    shape = pre.get("input_shape")
    if shape is not None and (not isinstance(shape, list) or len(shape) > 4
                              or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
                              or math.prod(shape) > MAX_INPUT_VALUES):
        raise bad("preprocessing \"input_shape\"", f"a list of at most 4 sizes >= 1 (e.g. [1, 28, 28]) "
                                                   f"of at most {MAX_INPUT_VALUES:,} values", shape)


MAX_LAYER_SIZE = 1 << 20       # a width, channel count or kernel side beyond this is no real layer
                               # (the widest gradwise preset has 800 units)
SIZE_OPTIONS = ("in_features", "out_features", "in_channels", "out_channels", "num_features")


def _stored_values(arrays: dict[str, np.ndarray] | None, i: int) -> int | None:
    """How many numbers the file holds for layer ``i`` (None: the arrays are not known)."""
    if arrays is None:
        return None
    return sum(a.size for key, a in arrays.items() if key.split(".", 1)[0] == str(i))


def _build(where: str, spec, table: dict, source, stored: int | None):
    """One layer (or the loss) from its ``{"type": ..., "config": {...}}`` record, checked."""
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ModelFileError(f"{source}: {where} must be {{\"type\": NAME, \"config\": {{...}}}}; "
                             f"got {spec!r:.80}")
    kind, options = spec["type"], spec.get("config", {})
    if kind not in table:
        raise ModelFileError(f"{source}: {where} has unknown type {kind!r}; known: {', '.join(table)}")
    if not isinstance(options, dict):
        raise ModelFileError(f"{source}: {where} ({kind}): \"config\" must be a JSON object; "
                             f"got {options!r:.80}")
    known = [name for name, p in inspect.signature(table[kind]).parameters.items()
             if name != "rng" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ModelFileError(f"{source}: {where} ({kind}) has unknown option {unknown[0]!r}; "
                             f"known: {', '.join(known) or 'none'}")
    _check_sizes(where, kind, options, source, stored)
    if "dtype" in options and not _is_float_dtype(options["dtype"]):
        raise ModelFileError(f"{source}: {where} ({kind}): dtype {options['dtype']!r:.40} is not a "
                             f"floating-point type (float16, float32, float64); the file was "
                             f"edited or damaged")
    try:
        return table[kind](**options)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"{source}: {where} ({kind}): {e}") from None


def _is_float_dtype(name) -> bool:
    try:
        return isinstance(name, str) and np.dtype(name).kind == "f"
    except TypeError:
        return False


def _check_sizes(where: str, kind: str, options: dict, source, stored: int | None) -> None:
    """Before anything is allocated: every size within MAX_LAYER_SIZE, and the weights the
    sizes imply no more than the file holds for the layer."""
    for name, value in options.items():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, int) and not isinstance(v, bool) and v > MAX_LAYER_SIZE:
                raise ModelFileError(f"{source}: {where} ({kind}): {name} {v:,} is beyond the "
                                     f"{MAX_LAYER_SIZE:,} a layer may have; the file was edited "
                                     f"or damaged")
    sizes = [options[name] for name in SIZE_OPTIONS if isinstance(options.get(name), int)]
    kernel = options.get("kernel_size", [])
    kernel = [v for v in (kernel if isinstance(kernel, list) else [kernel]) if isinstance(v, int)]
    implied = math.prod(sizes + kernel) if sizes else 0       # Dense: in x out, Conv2D: x kh x kw
    if stored is not None and implied > stored:
        raise ModelFileError(f"{source}: {where} ({kind}): "
                             + " x ".join(f"{n} {options[n]}" for n in (*SIZE_OPTIONS, "kernel_size")
                                          if n in options)
                             + f" makes {implied:,} weights, but the file holds {stored:,} numbers "
                               f"for it; the file was edited or damaged")


def write_npz(path, arrays: dict[str, np.ndarray], record_key: str, record: dict) -> Path:
    """Atomically write ``arrays`` and the JSON ``record`` (under ``record_key``) to ``path``."""
    text = json.dumps(record)
    payload = {**arrays, record_key: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    return atomic_write(path, lambda f: np.savez(f, **payload))


def read_npz(path, record_key: str, what: str, written_by: str) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and the JSON record of a file ``write_npz`` wrote; ModelFileError, naming
    the file (a ``what``, made by ``written_by``), for anything else."""
    path = Path(path)
    arrays = read_npz_arrays(path, ModelFileError, what=f"gradwise {what}")
    if record_key not in arrays:
        raise ModelFileError(f"{path} has no {what} record: not written by {written_by}")
    try:
        record = json.loads(arrays.pop(record_key).tobytes().decode("utf-8"))
    except ValueError as e:     # UnicodeDecodeError, JSONDecodeError, a 5,000-digit number
        raise ModelFileError(f"{path}: the {what} record is corrupt ({e})") from None
    except RecursionError:      # the parser recurses once per nested [ or {
        raise ModelFileError(f"{path}: the {what} record is corrupt (nested too deeply to be "
                             f"one gradwise writes)") from None
    return arrays, record
