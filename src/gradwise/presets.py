"""The networks that ``gradwise train --model NAME`` builds, in one place.

    mlp         Dense layers of the sizes ``--arch`` gives (784-256-128-10 for MNIST)
    mlp-large   784-800-800-10, the classic large MLP
    cnn         conv32-pool-conv64-pool-dense128 (3x3 kernels, 'same' padding, ReLU)
    cnn-large   conv32-conv32-pool-conv64-conv64-pool-dense256, BatchNorm after each conv
    lenet5      LeCun's 1998 net (tanh, average pooling)

``network(name, n_inputs, n_classes, ...)`` builds any of them; ``mlp`` and ``cnn_preset``
are the two builders behind it. Each setting is either used by the network asked for or
refused with a message (``--act`` means nothing to a CNN, ``--arch`` nothing to mlp-large):
a setting that silently does nothing is a bug a user cannot see.
"""

from __future__ import annotations

import numpy as np

from .errors import SettingError
from .init import INITIALIZERS
from .conv import AvgPool2D, BatchNorm, Conv2D, MaxPool2D
from .layers import Dense, Dropout, Flatten, Layer, LeakyReLU, ReLU, Sigmoid, Tanh
from .model import Sequential
from .optim import AdamW, CosineDecay, LinearWarmup
from .sequence import Embedding, LayerNorm, PositionalEmbedding, TransformerBlock, gpt_normal

ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "tanh": Tanh, "sigmoid": Sigmoid}
DEFAULT_INIT = {"relu": "he_normal", "leaky_relu": "he_normal", "tanh": "glorot_uniform",
                "sigmoid": "glorot_uniform"}
PRESETS = ("mlp", "mlp-large", "cnn", "cnn-large", "lenet5")
IMAGE_PRESETS = ("cnn", "cnn-large", "lenet5")   # these take (N, 1, H, W) images, not rows
HIDDEN = {"mlp": [256, 128], "mlp-large": [800, 800]}
# dropout after each hidden layer (cnn: after its dense layer). None in mlp: its default run is
# a few epochs of MNIST, too short to overfit, and dropout slowed what it learnt in them
# (4 epochs, lr 2e-3, 2 seeds: 97.9-98.0% with 0.2 -> 98.0-98.1% with none, and 20% less time)
DEFAULT_DROPOUT = {"mlp": 0.0, "mlp-large": 0.2, "cnn": 0.2, "cnn-large": 0.2, "lenet5": 0.0}
MAX_LAYER_SIZE = 1 << 20        # a width beyond this is a typo, not a layer (mlp-large has 800)
MAX_WEIGHTS = 1 << 27           # 134M weights: 0.5 GB as float32, about 2 GB while training with Adam


def mlp(sizes: list[int], *, activation: str = "relu", init: str | None = None,
        dropout: float = 0.0, seed: int | None = None, dtype=np.float32) -> Sequential:
    """A multi-layer perceptron: Dense layers of the given sizes with an activation between.

    The last layer is linear (raw logits, for SoftmaxCrossEntropy). ``init`` defaults to
    he_normal for ReLU and glorot_uniform for tanh/sigmoid.

    >>> mlp([784, 256, 10], seed=0)
    Sequential([Dense(in_features=784, out_features=256, dtype='float32'), ReLU(), Dense(in_features=256, out_features=10, dtype='float32')])
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: need at least an input and an output size; got {sizes}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"mlp: unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    init = init or DEFAULT_INIT[activation]
    rng = np.random.default_rng(seed)
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:                      # no activation after the output layer
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(Dropout(dropout))
    return Sequential(layers)


def cnn_preset(name: str, n_inputs: int, n_classes: int, *, dropout: float = 0.0,
               seed: int | None = 0, batchnorm: bool = False, init: str | None = None) -> Sequential:
    """The image networks, for (N, 1, H, W) input:

    cnn:       conv32-pool-conv64-pool-dense128 (3x3 kernels, 'same' padding, ReLU);
               ``batchnorm`` adds BatchNorm after each convolution.
    cnn-large: conv32-conv32-pool-conv64-conv64-pool-dense256, BatchNorm after each
               convolution (a small VGG: two 3x3 convolutions see 5x5, with one more ReLU).
    lenet5:    LeCun's 1998 net (tanh, average pooling).

    ``init`` draws every weight array with that initialiser; None keeps each preset's own
    (he_normal for the ReLU nets, glorot_uniform for lenet5).
    """
    side = int(round(n_inputs ** 0.5))
    if side * side != n_inputs or side % 4:
        raise SettingError("model", f"{name} needs square images with a side divisible by 4; "
                          f"got {n_inputs} inputs")
    rng = np.random.default_rng(seed)
    he, glorot = init or "he_normal", init or "glorot_uniform"

    def conv(c_in, c_out, norm):
        return [Conv2D(c_in, c_out, 3, padding=1, init=he, rng=rng), *([BatchNorm(c_out)] if norm else []),
                ReLU()]

    if name in ("cnn", "cnn-large"):
        if name == "cnn":
            layers, width = [*conv(1, 32, batchnorm), MaxPool2D(2), *conv(32, 64, batchnorm), MaxPool2D(2)], 128
        else:
            layers, width = [*conv(1, 32, True), *conv(32, 32, True), MaxPool2D(2),
                             *conv(32, 64, True), *conv(64, 64, True), MaxPool2D(2)], 256
        layers += [Flatten(), Dense(64 * (side // 4) ** 2, width, init=he, rng=rng), ReLU()]
        layers += [Dropout(dropout)] if dropout else []
        return Sequential(layers + [Dense(width, n_classes, init=he, rng=rng)])
    if name != "lenet5":
        raise SettingError("model", f"{name!r}: the image presets are {', '.join(IMAGE_PRESETS)}")
    last = (side // 2 - 4) // 2                                 # 28 -> 14 -> 10 -> 5
    return Sequential([Conv2D(1, 6, 5, padding=2, init=glorot, rng=rng), Tanh(), AvgPool2D(2),
                       Conv2D(6, 16, 5, init=glorot, rng=rng), Tanh(), AvgPool2D(2), Flatten(),
                       Dense(16 * last * last, 120, init=glorot, rng=rng), Tanh(),
                       Dense(120, 84, init=glorot, rng=rng), Tanh(),
                       Dense(84, n_classes, init=glorot, rng=rng)])


def parse_arch(arch: str) -> list[int]:
    """'784-256-10' -> [784, 256, 10], with a message that shows a good example on error."""
    try:
        sizes = [int(part) for part in str(arch).replace(",", "-").split("-")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise SettingError("arch", f"{arch!r}: expected layer sizes joined by '-', input first and "
                          f"classes last, e.g. 784-256-128-10")
    if max(sizes) > MAX_LAYER_SIZE:
        raise SettingError("arch", f"{arch!r}: a layer of {max(sizes):,} units is beyond the "
                                   f"{MAX_LAYER_SIZE:,} a layer may have; e.g. 784-256-128-10")
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if weights > MAX_WEIGHTS:           # refused before anything is allocated (no MemoryError)
        raise SettingError("arch", f"{arch!r} makes {weights:,} weights ({4 * weights / 2**30:,.1f} GiB "
                                   f"as float32); at most {MAX_WEIGHTS:,} are built: use smaller "
                                   f"layers, e.g. 784-256-128-10")
    return sizes


def network(name: str, n_inputs: int, n_classes: int, *, arch: str | None = None,
            act: str | None = None, init: str | None = None, dropout: float | None = None,
            batchnorm: bool | None = None, seed: int | None = 0, data: str = "the data") -> Sequential:
    """The network ``name`` for ``n_inputs`` inputs and ``n_classes`` classes.

    A setting left at None takes the preset's own default; one given that the preset has
    no use for is refused (SettingError names it).
    """
    if name not in PRESETS:
        raise SettingError("model", f"{name!r}: choose one of {', '.join(PRESETS)}")
    if act is not None and act not in ACTIVATIONS:
        raise SettingError("act", f"{act!r}: choose one of {', '.join(ACTIVATIONS)}")
    if init is not None and init not in INITIALIZERS:
        raise SettingError("init", f"{init!r}: choose one of {', '.join(INITIALIZERS)}")
    if name in IMAGE_PRESETS:
        unused = [flag for flag, value in (("arch", arch), ("act", act)) if value is not None]
        if name == "lenet5" and dropout:
            unused.append("dropout")
        if name == "lenet5" and batchnorm:
            unused.append("batchnorm")
        if unused:
            raise SettingError(unused[0], f"is of no use to model {name} (its layers are fixed; "
                                          f"choose them with model mlp)")
        dropout = DEFAULT_DROPOUT[name] if dropout is None else dropout
        return cnn_preset(name, n_inputs, n_classes, dropout=dropout, seed=seed,
                          batchnorm=bool(batchnorm), init=init)
    if batchnorm:
        raise SettingError("batchnorm", f"is for the image networks (cnn, cnn-large), not {name}")
    if arch is not None and name != "mlp":
        raise SettingError("arch", f"is of no use to model {name} (its hidden sizes are fixed: "
                                   f"{'-'.join(map(str, HIDDEN[name]))}); choose sizes with model mlp")
    if arch is None:
        sizes = [n_inputs, *HIDDEN[name], n_classes]
    else:
        sizes = parse_arch(arch)
        if sizes[0] != n_inputs:
            raise SettingError("arch", f"{arch}: the first size must be the input size of {data}, "
                              f"{n_inputs}; got {sizes[0]}")
        if sizes[-1] != n_classes:
            raise SettingError("arch", f"{arch}: the last size must be the number of classes of "
                              f"{data}, {n_classes}; got {sizes[-1]}")
    dropout = DEFAULT_DROPOUT[name] if dropout is None else dropout
    return mlp(sizes, activation=act or "relu", init=init, dropout=dropout, seed=seed)


# ----------------------------------------------------------------------------- gpt-mini
# nanoGPT's shakespeare_char run on a CPU (its README: --block_size=64 --batch_size=12
# --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0,
# "val loss 1.88"). The recipe, for whoever trains it (gradwise train, benchmarks/gpt.py):
GPT_MINI_RECIPE = {
    "batch_size": 12,         # windows per step
    "context": 64,            # tokens per window (the model's context)
    "iters": 2000,            # optimiser steps
    "lr": 1e-3,               # AdamW's peak learning rate
    "warmup": 100,            # steps of linear warm-up, lr (it + 1) / 101 of the peak at step it
    "min_lr": 1e-4,           # the cosine decay's floor, reached at the last step
    "betas": (0.9, 0.99),     # beta2 0.99: a small model on small batches (nanoGPT's comment)
    "weight_decay": 0.1,      # decoupled (AdamW), on every parameter (nanoGPT spares biases and
                              # LayerNorm; gradwise's AdamW has one setting for all)
    "clip": 1.0,              # global gradient-norm clipping
}


def gpt_mini(vocab_size: int, *, context: int = 64, dim: int = 128, layers: int = 4, heads: int = 4,
             seed: int | None = 0, dtype=np.float32) -> Sequential:
    """nanoGPT's CPU shakespeare_char model: a character-level GPT of 0.8M parameters.

    Embedding + PositionalEmbedding, ``layers`` pre-norm TransformerBlocks (causal attention
    with ``heads`` heads, MLP 4x wide with GELU), a final LayerNorm, and a Dense to
    ``vocab_size`` logits; no dropout. Weights draw N(0, 0.02^2) as in GPT-2, the two
    projections into the residual stream 0.02 / sqrt(2 * layers); biases 0, LayerNorm 1 and 0.

    To train it as nanoGPT does, use ``GPT_MINI_RECIPE`` and ``gpt_mini_optimizer()``::

        model, loss = gpt_mini(len(vocab)), SoftmaxCrossEntropy()
        opt = gpt_mini_optimizer()                   # AdamW, warm-up + cosine, clip 1.0
        for it in range(GPT_MINI_RECIPE["iters"]):
            xb, yb = ...                             # (12, 64) ids, targets shifted by one
            opt.set_epoch(it)                        # the schedule counts steps
            loss.forward(model.forward(xb, training=True), yb)
            model.backward(loss.backward())
            opt.step(model.params, model.grads)

    (``model.fit`` works too: X (N, T) ids, y (N, T) next ids; its schedule counts epochs.)

    Args:
        vocab_size: the number of distinct tokens V.
        context: the most tokens the model reads (T); longer inputs are refused.
        dim, layers, heads: width D, number of blocks, attention heads (D divisible by heads).
        seed: seeds the initial weights.

    Shape:
        ``model.predict_logits(ids)``: (B, T) integer ids in [0, V), T <= context ->
        (B, T, V) logits; position t's logits are the prediction of token t + 1 from tokens
        0..t.
    """
    rng = np.random.default_rng(seed)
    proj_std = 0.02 / np.sqrt(2 * layers)
    return Sequential([
        Embedding(vocab_size, dim, rng=rng, dtype=dtype),
        PositionalEmbedding(context, dim, rng=rng, dtype=dtype),
        *[TransformerBlock(dim, heads, context, proj_std=float(proj_std), rng=rng, dtype=dtype)
          for _ in range(layers)],
        LayerNorm(dim, dtype=dtype),
        Dense(dim, vocab_size, init=gpt_normal(), rng=rng, dtype=dtype),
    ])


def gpt_mini_optimizer(iters: int = GPT_MINI_RECIPE["iters"]) -> AdamW:
    """AdamW as ``GPT_MINI_RECIPE`` says, with its schedule over ``iters`` steps: call
    ``opt.set_epoch(step)`` before each step (step 0, 1, ...; the schedule counts steps)."""
    r = GPT_MINI_RECIPE
    warmup = min(r["warmup"], max(1, iters - 1))
    schedule = LinearWarmup(warmup, then=CosineDecay(max(1, iters - warmup), r["min_lr"] / r["lr"]),
                            start_factor=1 / (warmup + 1))
    return AdamW(r["lr"], betas=r["betas"], weight_decay=r["weight_decay"], clip_norm=r["clip"],
                 schedule=schedule)
