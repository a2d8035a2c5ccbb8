"""Character-level language models in the one training pipeline (gradwise.train).

    gradwise train --data tinyshakespeare --model char-lstm      # or --model gpt-mini
    gradwise sample runs/NAME --prompt "ROMEO:" --length 300

What differs from the image networks, and lives here:

* the data is a text (``gradwise.data.TextData``): token ids and a vocabulary; the model
  reads windows of ``context`` characters and predicts, at every position, the next one;
* training counts optimiser steps (``iters``), each on ``batch_size`` windows drawn at
  random from the training text, nanoGPT's ``get_batch`` (``Windows``); every
  ``eval_every`` steps is one "epoch" of ``Sequential.fit``: a line, a validation pass, a
  checkpoint, one point of the curves;
* the validation loss is the mean cross-entropy, in nats per character, over the whole
  validation text cut into consecutive windows (``validation_windows``), not an estimate
  from a few random batches;
* the learning rate follows nanoGPT's schedule: linear warm-up, then a cosine down to a
  tenth of the peak at the last step (``schedule``), and gradients are clipped to norm 1
  (backpropagation through time can explode).

Everything else (fit, checkpoints, --resume, Ctrl-C, divergence, metrics.json, curves) is
the images' own code.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np

from .callbacks import Callback
from .data.text import TextData, encode
from .errors import SettingError


@dataclass(frozen=True)
class Recipe:
    """The defaults of a text model, each a flag of ``gradwise train``."""
    batch_size: int            # windows per step
    context: int               # characters per window: the model's context
    iters: int                 # optimiser steps
    eval_every: int            # steps between validation passes (one line, checkpoint, point)
    lr: float                  # peak learning rate
    opt: str                   # optimiser
    betas: tuple               # Adam's
    weight_decay: float
    warmup: int                # steps of linear warm-up
    min_lr_factor: float       # the cosine ends at this share of the peak, at the last step
    clip: float                # global gradient-norm clipping


# char-lstm: one LSTM layer of 256 units on 64-wide embeddings (0.35M parameters; char-rnn's
# default is two layers of 128), windows of 64 characters, 32 per step, Adam 2e-3 with a
# cosine to 2e-4, clipping at 1: validation loss 1.65 in 9 minutes on the loaded 2-core VM
# (README; 1000 steps ended at 1.72: the cosine slows it too early).
CHAR_LSTM = Recipe(batch_size=32, context=64, iters=1500, eval_every=250, lr=2e-3, opt="adam",
                   betas=(0.9, 0.999), weight_decay=0.0, warmup=0, min_lr_factor=0.1, clip=1.0)


def recipe(model: str) -> Recipe:
    """The defaults of ``model`` (gpt-mini: nanoGPT's CPU shakespeare_char configuration,
    ``presets.GPT_MINI_RECIPE``; eval_every 250 as its eval_interval)."""
    if model == "char-lstm":
        return CHAR_LSTM
    from .presets import GPT_MINI_RECIPE as r
    return Recipe(batch_size=r["batch_size"], context=r["context"], iters=r["iters"], eval_every=250,
                  lr=r["lr"], opt="adamw", betas=r["betas"], weight_decay=r["weight_decay"],
                  warmup=r["warmup"], min_lr_factor=r["min_lr"] / r["lr"], clip=r["clip"])


TEXT_MODELS = ("char-lstm", "gpt-mini")


def build(name: str, vocab_size: int, *, context: int, seed: int | None = 0):
    """The network ``name`` for a vocabulary of ``vocab_size`` characters and windows of
    ``context`` characters: (B, T) ids -> (B, T, V) logits."""
    if name == "char-lstm":
        from .recurrent import char_lstm
        return char_lstm(vocab_size, seed=seed)
    from .presets import gpt_mini
    return gpt_mini(vocab_size, context=context, seed=seed)


# ----------------------------------------------------------------------------- schedule

class StepSchedule:
    """nanoGPT's learning rate as a factor of the peak, at step ``it`` (0-based): linear
    warm-up ``(it + 1) / (warmup + 1)`` for ``warmup`` steps, then half a cosine from 1 to
    ``min_factor`` at step ``iters``. ``fit`` reports fractional epochs (``epoch + batch /
    steps``), each ``steps_per_epoch`` steps: the step is ``epoch * steps_per_epoch``."""

    def __init__(self, iters: int, warmup: int, min_factor: float, steps_per_epoch: int) -> None:
        self.iters, self.warmup, self.min_factor = iters, min(warmup, iters - 1), min_factor
        self.steps_per_epoch = steps_per_epoch

    def __call__(self, epoch: float) -> float:
        it = round(epoch * self.steps_per_epoch)
        if it < self.warmup:
            return (it + 1) / (self.warmup + 1)
        progress = min(1.0, (it - self.warmup) / max(1, self.iters - self.warmup))
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(cfg, optimizers: dict, lr: float):
    """The optimiser of a text run: ``cfg.opt`` with the recipe's betas (Adam, AdamW) and
    clipping, and nanoGPT's schedule (``--schedule cosine``, the default) or none."""
    r = recipe(cfg.model)
    if cfg.schedule not in ("cosine", "none"):
        raise SettingError("schedule", f"{cfg.schedule!r}: a text model takes cosine (warm-up, then "
                                       f"a cosine to a tenth of --lr at the last step) or none")
    schedule = (StepSchedule(cfg.iters, r.warmup, r.min_lr_factor, cfg.eval_every)
                if cfg.schedule == "cosine" else None)
    kwargs = {"weight_decay": cfg.weight_decay, "schedule": schedule, "clip_norm": r.clip}
    if cfg.opt in ("adam", "adamw"):
        kwargs["betas"] = r.betas
    if cfg.opt in ("sgd", "rmsprop"):
        kwargs["momentum"] = 0.9 if cfg.momentum is None else cfg.momentum
    elif cfg.momentum is not None:
        raise SettingError("momentum", f"is of no use to {cfg.opt} (its betas play that part); "
                                       f"use it with sgd or rmsprop")
    return optimizers[cfg.opt](lr, **kwargs)


# ----------------------------------------------------------------------------- data

@dataclass
class TextTrainingData:
    """A text as the pipeline hands it to a model: the TextData, the window length, and
    the validation text as consecutive windows (X_test, y_test: (N, T) ids and the ids one
    position on). X_train, y_train are the training text cut the same way, for tools that
    want fixed batches (the doctor); training itself draws random windows (Windows)."""

    name: str
    text: TextData
    context: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self) -> list[str]:
        return list(self.text.vocab)

    @property
    def n_inputs(self) -> int:
        return self.context

    def meta(self, model: str) -> dict:
        """What a model trained on this text keeps in ``model.meta``."""
        return {"data": self.name, "vocab": self.text.vocab, "context": self.context,
                "model": model}


def windows(ids: np.ndarray, context: int) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` cut into consecutive windows of ``context`` and their targets (the next id at
    every position): every id is a target once, but for the last ``(len - 1) % context``."""
    n = (len(ids) - 1) // context
    x = ids[:n * context].reshape(n, context)            # (N, T)
    y = ids[1:n * context + 1].reshape(n, context)       # (N, T): one position on
    return x, y


def prepare_text(cfg, text: TextData) -> TextTrainingData:
    """The text of a run, cut for ``cfg.context``; SettingError when a split is shorter
    than one window."""
    for split, ids in (("training", text.train), ("validation", text.val)):
        if len(ids) <= cfg.context:
            raise SettingError("context", f"{cfg.context} characters per window, but the {split} "
                                          f"text of {text.name} has {len(ids):,}; use a smaller "
                                          f"--context or a longer text")
    return TextTrainingData(text.name, text, cfg.context, *windows(text.train, cfg.context),
                            *windows(text.val, cfg.context))


class Windows:
    """nanoGPT's ``get_batch``: each step, ``batch_size`` windows of ``context`` ids starting
    at uniformly random positions of the training text, and their targets one position on.
    Drawn from the run's generator, so a seed (and a resumed checkpoint) fixes them."""

    def __init__(self, ids: np.ndarray, context: int, batch_size: int, steps: int,
                 rng: np.random.Generator) -> None:
        self.ids, self.context, self.batch_size, self.rng = ids, context, batch_size, rng
        self.steps, self.samples = steps, steps * batch_size
        self.offsets = np.arange(context)                              # (T,)

    def epoch(self):
        for b in range(self.steps):
            starts = self.rng.integers(0, len(self.ids) - self.context, self.batch_size)   # (B,)
            rows = starts[:, None] + self.offsets                      # (B, T) positions
            yield b, self.ids[rows], self.ids[rows + 1]                # inputs, next ids


def rounds(cfg) -> int:
    """The "epochs" of a text run: validation passes, one every ``eval_every`` steps."""
    return math.ceil(cfg.iters / cfg.eval_every)


# ----------------------------------------------------------------------------- progress

class TextProgress(Callback):
    """A line per validation pass, in steps and tokens/s:
    ``step 250/1500  loss 2.1927  val_loss 1.9167  lr 1.93e-03  4,646 tokens/s  120.9s``;
    with a bar (tokens/s, running loss) on a terminal."""

    def __init__(self, cfg, *, bar: bool = True, file=None) -> None:
        self.iters, self.every, self.bar, self.file = cfg.iters, cfg.eval_every, bar, file
        self.tokens_per_step = cfg.batch_size * cfg.context
        self._tqdm = None

    def on_epoch_begin(self, epoch, logs):
        self.start, self.trained = time.perf_counter(), 0.0
        if self.bar:
            from tqdm.auto import tqdm
            self._tqdm = tqdm(total=logs["steps"] * self.tokens_per_step, unit="token", unit_scale=True,
                              leave=False, disable=None, file=self.file or sys.stderr, dynamic_ncols=True,
                              desc=f"steps {epoch * self.every + 1}-{(epoch + 1) * self.every}")

    def on_batch_end(self, batch, logs):
        self.trained = time.perf_counter() - self.start          # training time, without validation
        if self._tqdm is not None:
            self._tqdm.update(logs["input"].size)
            if batch % 20 == 0:
                self._tqdm.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs):
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        step = min((epoch + 1) * self.every, self.iters)
        steps = step - epoch * self.every
        speed = steps * self.tokens_per_step / max(self.trained, 1e-9)
        logs["tokens_per_second"] = speed
        parts = [f"step {step}/{self.iters}", f"loss {logs['loss']:.4f}"]
        if "val_loss" in logs:
            parts.append(f"val_loss {logs['val_loss']:.4f}")
        parts += [f"lr {logs['lr']:.2e}", f"{speed:,.0f} tokens/s", f"{logs['time']:.1f}s"]
        print("  ".join(parts), file=self.file or sys.stdout, flush=True)


# ----------------------------------------------------------------------------- sampling

def text_model_meta(model, source) -> tuple[str, int]:
    """The vocabulary and context a text model records; ValueError naming ``source`` for a
    model of another kind."""
    vocab, context = model.meta.get("vocab"), model.meta.get("context")
    if not isinstance(vocab, str) or not isinstance(context, int) or isinstance(context, bool):
        kind = model.meta.get("data") or "no text"
        raise ValueError(f"{source}: not a text model (trained on {kind}); sample needs a run of "
                         f"gradwise train --model char-lstm or gpt-mini")
    return vocab, context


def sample(model, prompt: str, *, length: int = 500, temperature: float = 1.0,
           top_k: int | None = None, seed: int | None = 0) -> str:
    """``length`` characters that ``model`` writes after ``prompt``, one at a time: the logits
    of the last position of the last ``context`` characters, divided by ``temperature``,
    cut to the ``top_k`` most likely, turned into probabilities and drawn from.

    Raises ValueError naming the flag for a prompt with characters outside the vocabulary
    or longer than the model's context, a length < 0, a temperature <= 0, a top-k < 1.
    """
    vocab, context = text_model_meta(model, "the model")
    if length < 0:
        raise ValueError(f"--length must be >= 0; got {length}")
    if not 0 < temperature < math.inf:
        raise ValueError(f"--temperature must be a number > 0 (1 samples the model as it is, lower "
                         f"is more conservative); got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"--top-k must be >= 1 (1 always takes the most likely character); got {top_k}")
    if len(prompt) > context:
        raise ValueError(f"--prompt has {len(prompt)} characters, more than the {context} the model "
                         f"reads (its context); give at most {context}")
    ids = list(encode(prompt, vocab, "--prompt")) if prompt else [vocab.index("\n") if "\n" in vocab else 0]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(length):
        logits = model.predict_logits(np.array([ids[-context:]]))[0, -1].astype(np.float64)   # (V,)
        logits /= temperature
        if top_k is not None and top_k < len(logits):
            logits[logits < np.sort(logits)[-top_k]] = -np.inf             # keep the k largest
        p = np.exp(logits - logits.max())
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        ids.append(nxt)
        out.append(vocab[nxt])
    return prompt + "".join(out)
