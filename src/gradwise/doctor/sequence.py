"""The doctor for sequence models: checks found by experiment on the model itself, and the
rules a watched run of one adds.

    doctor.check_causal(model, ids)          # CAUSAL_LEAK: does position t see the future?
    doctor.check_causal(my_attention, x)     # any function x (B, T, ...) -> y (B, T, ...)
    doctor.check_initial_loss(model, X, y)   # INITIAL_LOSS: the loss at init against ln(V)
    doctor.check_attention(probs)            # ATTENTION_COLLAPSED: all weight on one position?
    exploding_gradient(steps, norms, ...)    # EXPLODING_GRADIENT through time (Recorder, Monitor)

A language model must predict token t + 1 from tokens 0..t only. Attention without its causal
mask (or with the mask off by one) lets position t read the answer: the training loss
collapses towards 0, and the samples, made one token at a time without that future, are
garbage. Nothing in the loss curve says why. The experiment does: change the input at one
position and see whether the output at any *earlier* position moves.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..losses import SoftmaxCrossEntropy
from . import rules
from .findings import Finding, Report

#: Outputs that moved by less than this, relative to the largest output, count as unmoved:
#: float32 rounding is ~1e-7; a real leak through an untrained GPT (N(0, 0.02^2) weights,
#: nearly uniform attention) moves earlier positions by ~1e-3 of the output scale.
CAUSAL_TOL = 1e-5
#: Positions probed one at a time (spread over the sequence, the first and last included):
#: a leak from t to t - 1 only (a mask off by one) is caught at any probed t.
CAUSAL_PROBES = 16
#: The loss at init may exceed ln(V) by this much (nats) before it is a finding. Karpathy's
#: "A Recipe for Training Neural Networks" (2019): "verify loss @ init": an untrained
#: classifier of V classes should score -ln(1/V); logits of std s add about s^2 / 2.
INITIAL_LOSS_MARGIN = 0.5
#: A row of attention weights whose largest weight is above this puts (nearly) all its mass
#: on one position: its entropy is at most 0.41 nats over 64 keys, against ln(64) = 4.16
#: for a uniform row.
ATTENTION_SHARP = 0.95
#: Attention has collapsed when most of its rows (every query of every head but the first,
#: which has one key under a causal mask) are that sharp...
ATTENTION_COLLAPSED_SHARE = 0.5
#: ...and their mean entropy is below this share of a uniform row's, ln(keys). An untrained
#: GPT (N(0, 0.02^2) weights, scores ~1e-3) sits at ~1.0; gpt-mini trained by its recipe
#: (2,000 steps, validation loss 1.875) at 0.54-0.70 a layer on tinyshakespeare's validation
#: text, its sharpest head at 0.39, at most 7% of a head's rows sharp. Queries and keys
#: initialised N(0, 1) (50x GPT-2's) give 0.10-0.15 with 55-70% of the rows sharp on a
#: 17-character text (repeated characters split a row between copies); unscaled scores
#: (no 1/sqrt(d_head)) 50x too large, below 0.02.
ATTENTION_ENTROPY_RATIO = 0.2
#: A gradient norm this many times the median of the SPIKE_WINDOW norms before it is a spike;
#: healthy runs, gpt-mini's and char-lstm's included, stay within ~3x of it step to step.
SPIKE_FACTOR = 10.0
SPIKE_WINDOW = 20
#: The first norms, which set the scale: a spike is measured against their median too
#: (whichever median is lower), so a norm that grows 10x within the first steps, before a
#: running median exists, is one.
SPIKE_HISTORY = 3
#: A spike did harm when, within SPIKE_AFTER steps after it, the loss rose to this many times
#: its median before the spike (or turned NaN/inf): the step it took threw the weights off.
#: A batch's loss varies by ~10-20% in a healthy run of a character model...
LOSS_SPIKE_FACTOR = 1.5
SPIKE_AFTER = 10
#: ...and by at least this share of the run's first loss (ln V at init for a language model):
#: near the end of a classifier's run its loss is ~0.01 and a batch at 0.03 is no harm.
LOSS_SPIKE_RISE = 0.25


def _as_function(f):
    """(callable x -> y, the vocabulary size if f is a gradwise model that embeds ids)."""
    if hasattr(f, "layers") and hasattr(f, "forward"):              # a gradwise model
        first = f.layers[0] if f.layers else None
        vocab = getattr(first, "vocab", None) if getattr(first, "integer_input", False) else None
        return (lambda x: f.forward(x, training=False)), vocab
    if not callable(f):
        raise TypeError(f"check_causal: f must be a gradwise model or a function x -> y; got "
                        f"{type(f).__name__}")
    return f, None


def _changed(x: np.ndarray, t: int, rng: np.random.Generator, vocab: int | None) -> np.ndarray:
    """x with the input at position t replaced in every sequence (other tokens, or new numbers)."""
    x2 = x.copy()
    if x.dtype.kind in "iu":
        top = vocab if vocab is not None else int(x.max()) + 1     # stay among valid ids
        if top < 2:
            raise ValueError("check_causal: the token ids hold a single value; give ids from a "
                             "vocabulary of at least 2 tokens")
        shift = rng.integers(1, top, size=x2[:, t].shape)          # never the same token
        x2[:, t] = (x2[:, t] + shift) % top
    else:
        scale = float(np.std(x)) or 1.0
        x2[:, t] = x2[:, t] + scale * rng.standard_normal(x2[:, t].shape).astype(x.dtype)
    return x2


def check_causal(f, x, *, probes: int = CAUSAL_PROBES, tol: float = CAUSAL_TOL,
                 seed: int = 0) -> Report:
    """Does the output at position s depend on inputs after s? Found by experiment.

    For each probed position t, the input at t alone is changed (another token for integer
    ids, a random shift of the size of the inputs for floats) and f is run again; any
    earlier position s < t whose output moves by more than ``tol`` times the largest output
    is a leak. ``CAUSAL_LEAK`` (error) names the earliest position that moved, the position
    whose change moved it, and by how much; a causal f gives an empty Report.

    Args:
        f: a gradwise model (its forward pass is used) or any function x -> y, e.g. your own
            attention layer.
        x: (B, T, ...) inputs, integer token ids or floats; f(x) must be (B, T, ...).
        probes: how many positions to change, one at a time (spread over 1..T-1).
        tol: the relative change that counts as a move.
        seed: seeds the replacement tokens / numbers.

    >>> import gradwise as gw
    >>> check_causal(gw.CausalSelfAttention(8, 2, 6), np.ones((1, 6, 8), np.float32)).codes()
    []
    """
    fn, vocab = _as_function(f)
    x = np.asarray(x)
    if x.ndim < 2 or x.shape[1] < 2:
        raise ValueError(f"check_causal: x must be (B, T, ...) with T >= 2 positions; got shape "
                         f"{x.shape} (for one sequence use x[None])")
    y0 = np.asarray(fn(x), dtype=np.float64)
    if y0.shape[:2] != x.shape[:2]:
        raise ValueError(f"check_causal: f(x) must keep the (B, T) axes of x {x.shape[:2]}; got "
                         f"{y0.shape} (the function should return one output per position)")
    T = x.shape[1]
    scale = float(np.max(np.abs(y0))) or 1.0
    rng = np.random.default_rng(seed)
    positions = np.unique(np.linspace(1, T - 1, min(probes, T - 1)).round().astype(int))
    leak = None                               # (earliest moved s, changed t, change at s)
    for t in positions:
        y = np.asarray(fn(_changed(x, int(t), rng, vocab)), dtype=np.float64)
        moved = np.abs(y[:, :t] - y0[:, :t]).reshape(len(x), t, -1).max(axis=(0, 2))   # (t,)
        earlier = np.flatnonzero(moved > tol * scale)
        if earlier.size and (leak is None or earlier[0] < leak[0]):
            leak = (int(earlier[0]), int(t), float(moved[earlier[0]]))
    if leak is None:
        return Report([])
    s, t, change = leak
    return Report([Finding(
        "CAUSAL_LEAK", "error",
        f"the output at position {s} changed (by {change:.3g}, {change / scale:.2%} of the largest "
        f"output) when only the input at the later position {t} was changed: each position sees "
        f"the future, so training reads the answer and sampling, which has no future, fails.",
        {"earliest_position": s, "changed_position": t, "change": change,
         "relative_change": change / scale, "probes": int(len(positions))},
        "mask the attention scores above the diagonal before the softmax (scores[..., i, j] = -inf "
        "for j > i: np.triu(np.full((T, T), -np.inf), k=1)); gradwise's CausalSelfAttention and "
        "TransformerBlock do with causal=True",
        f"position {s}")])


def check_initial_loss(model, X, y, *, margin: float = INITIAL_LOSS_MARGIN) -> Report:
    """The loss of an untrained model against ln(V), chance for V classes (tokens).

    A fresh network should be unsure of every token: softmax near uniform, cross-entropy
    near ln(V) (4.17 nats for 65 characters). Much more means confident, wrong logits from
    the start (an output layer initialised too large), and the first steps of training are
    spent shrinking them: the hockey-stick loss curve. ``INITIAL_LOSS`` (warning) when the
    loss exceeds ln(V) by more than ``margin`` nats.

    Args:
        model: a gradwise model whose output is logits over V classes (last axis).
        X, y: a batch: (B, T) ids and (B, T) next ids for a language model, or (N, F) and (N,).
    """
    logits = model.forward(np.asarray(X), training=False)
    V = logits.shape[-1]
    with np.errstate(under="ignore"):
        loss = SoftmaxCrossEntropy().forward(logits, np.asarray(y))
    chance = math.log(V)
    if not loss > chance + margin:            # also quiet for NaN: the NONFINITE rules say that
        return Report([])
    return Report([Finding(
        "INITIAL_LOSS", "warning",
        f"the loss at init is {loss:.3f}, {loss - chance:.2f} nats above ln({V}) = {chance:.3f}, "
        f"the loss of a model that has learned nothing: the logits start large and wrong.",
        {"initial_loss": float(loss), "expected": chance, "excess": float(loss - chance),
         "logit_std": float(np.std(logits))},
        "initialise the output layer small (e.g. N(0, 0.02^2), as GPT-2; gradwise.presets.gpt_mini "
        "does) or scale its weights down, so the first logits are near 0 and the loss near ln(V)",
        "output layer")])


# ----------------------------------------------------------------------------- attention

def _attention_rows(probs) -> np.ndarray:
    """``probs`` as (N, T, T) rows of attention weights (N = batch x heads), checked: a
    ValueError naming what is wrong (shape, NaN, rows that do not sum to 1)."""
    a = np.asarray(probs)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2] or a.dtype.kind not in "iuf":
        raise ValueError(f"check_attention: probs must be attention weights of shape (B, H, T, T), "
                         f"(H, T, T) or (T, T), numbers; got shape {a.shape} and dtype {a.dtype}")
    rows = a.reshape(-1, a.shape[-2], a.shape[-1]).astype(np.float64)      # (N, T, T)
    if not np.all(np.isfinite(rows)):
        raise ValueError("check_attention: probs hold NaN or inf (the scores overflowed before the "
                         "softmax? subtract the row's max first)")
    sums = rows.sum(axis=-1)                                              # (N, T)
    if not np.allclose(sums, 1, atol=1e-3) or rows.min() < 0:
        cols = np.allclose(rows.sum(axis=-2), 1, atol=1e-3)
        raise ValueError("check_attention: each row of probs (a query's weights over the keys, the "
                         "last axis) must be >= 0 and sum to 1; got row sums from "
                         f"{sums.min():.3g} to {sums.max():.3g}"
                         + (" (the columns sum to 1: the softmax ran over the queries' axis; take "
                            "it over the last axis, the keys)" if cols else ""))
    return rows


def attention_summary(probs, *, scores_std: float | None = None) -> dict | None:
    """The numbers ATTENTION_COLLAPSED rests on, from attention weights (B, H, T, T), (H, T,
    T) or (T, T), rows over the keys: the rows' mean entropy against a uniform row's (ln of
    the keys a row may see: i + 1 under a causal mask, T without), the share of rows whose
    largest weight is above ATTENTION_SHARP, and where those weights sit: on the ``first``
    position, the ``diagonal`` (the query itself), the ``previous`` one, or a key that
    ``varies`` from query to query. Rows with a single key (the first query under a mask)
    say nothing and are left out; None when no row has two keys."""
    rows = _attention_rows(probs)
    n, T, _ = rows.shape
    causal = bool(np.all(np.triu(rows, k=1) == 0))
    q = np.arange(1 if causal else 0, T)                                  # queries with >= 2 keys
    if q.size == 0 or T < 2:
        return None
    r = rows[:, q]                                                        # (N, Q, T)
    keys = (q + 1 if causal else np.full(q.size, T)).astype(np.float64)   # (Q,)
    with np.errstate(all="ignore"):                                       # log 0, tiny weights
        ent = -np.sum(np.where(r > 0, r * np.log(r), 0.0), axis=-1)       # (N, Q) nats
    uniform = float(np.mean(np.log(keys)))
    top = r.max(axis=-1)                                                  # (N, Q)
    sharp = top > ATTENTION_SHARP
    where = r.argmax(axis=-1)                                             # (N, Q) key positions
    kinds = {"first": where == 0, "diagonal": where == q, "previous": where == q - 1}
    shares = {k: float(np.mean(v[sharp])) if sharp.any() else 0.0 for k, v in kinds.items()}
    position = max(shares, key=shares.get)
    if shares[position] < 0.5:                                            # not most of the sharp rows
        position = "varies"
    summary = {"mean_entropy": float(ent.mean()), "uniform_entropy": uniform,
               "entropy_ratio": float(ent.mean()) / uniform, "sharp_share": float(sharp.mean()),
               "position": position, "position_share": max(shares.values()),
               "rows": int(sharp.size), "sharp_threshold": ATTENTION_SHARP}
    if scores_std is not None:
        summary["scores_std"] = float(scores_std)
    return summary


def collapsed(summary: dict | None) -> bool:
    """The summary of an attention whose weights sit on one position (ATTENTION_COLLAPSED)."""
    return summary is not None and summary["sharp_share"] >= ATTENTION_COLLAPSED_SHARE \
        and summary["entropy_ratio"] <= ATTENTION_ENTROPY_RATIO


_PLACES = {"first": "the first position of the sequence", "diagonal": "the query's own position",
           "previous": "the position just before the query",
           "varies": "a single key, which changes from query to query"}


def attention_finding(summary: dict, where: str | None = None) -> Finding:
    """ATTENTION_COLLAPSED from a collapsed summary (see ``attention_summary``)."""
    s = summary
    place = _PLACES[s["position"]]
    share = "" if s["position"] == "varies" else f" ({s['position_share']:.0%} of those rows)"
    scale = (f" The scaled scores q.k / sqrt(d_head) have a std of {s['scores_std']:.3g} (healthy: "
             f"of order 1)." if "scores_std" in s else "")
    return Finding(
        "ATTENTION_COLLAPSED", "warning",
        f"the attention has collapsed onto one position: {s['sharp_share']:.0%} of its rows put more "
        f"than {s['sharp_threshold']:.0%} of their weight on one key, {place}{share}; their mean "
        f"entropy is {s['mean_entropy']:.3g} nats against {s['uniform_entropy']:.3g} for a uniform "
        f"row, so each query copies one position instead of mixing the ones it sees.{scale}",
        dict(s),
        "scale the scores by 1/sqrt(d_head) before the softmax (scores = q @ k.T / np.sqrt(hd)); "
        "initialise the query and key projections small (N(0, 0.02^2), as GPT-2: gradwise's "
        "CausalSelfAttention does both); if it collapsed during training, divide the learning "
        "rate by 10 (and clip the gradient norm)",
        where)


def check_attention(probs, *, where: str | None = None) -> Report:
    """Has attention collapsed onto one position? ``ATTENTION_COLLAPSED`` (warning) when at
    least ATTENTION_COLLAPSED_SHARE of the rows put more than ATTENTION_SHARP of their weight
    on one key and the rows' mean entropy is under ATTENTION_ENTROPY_RATIO of a uniform row's;
    the finding says where the weight sits (first position, diagonal, previous, varies).

    Args:
        probs: attention weights, rows a softmax over the keys: (B, H, T, T), (H, T, T) or
            (T, T); e.g. ``layer.attention_weights()`` of a gradwise attention layer after a
            forward pass, or your own attention's softmax.
        where: names the layer in the finding.

    >>> T = 6
    >>> check_attention(np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]).codes()   # uniform
    []
    >>> check_attention(np.eye(T)).codes()                       # every query on itself
    ['ATTENTION_COLLAPSED']
    """
    summary = attention_summary(probs)
    return Report([attention_finding(summary, where)] if collapsed(summary) else [])


def attention_layers(model) -> list[tuple[str, object]]:
    """(name, layer) for each layer of ``model`` that exposes its attention weights."""
    return [(f"layer {i} ({type(layer).__name__})", layer) for i, layer in enumerate(model.layers)
            if callable(getattr(layer, "attention_weights", None))]


#: Sequences of a batch the attention summary reads (its cost is B x H x T^2 logs).
ATTENTION_SAMPLE = 4


def layer_attention_summary(layer) -> dict | None:
    """``attention_summary`` of a gradwise attention layer's last forward pass (its first
    ATTENTION_SAMPLE sequences), with the std of its scaled scores q.k / sqrt(d_head) read
    from the same pass; None before any forward."""
    from ..sequence import TransformerBlock
    att = layer.attention_weights()
    if att is None:
        return None
    cache = layer.cache[1] if isinstance(layer, TransformerBlock) else layer.cache   # attention_forward's
    q, k = cache[1][:1], cache[2][:1]                                     # (1, H, T, hd)
    scores = (q @ k.transpose(0, 1, 3, 2)) / math.sqrt(q.shape[-1])      # (1, H, T, T)
    T = scores.shape[-1]
    seen = np.tril(np.ones((T, T), bool)) if getattr(layer, "causal", True) else np.ones((T, T), bool)
    with np.errstate(all="ignore"):
        std = float(np.std(scores[..., seen].astype(np.float64)))
    return attention_summary(att[:ATTENTION_SAMPLE], scores_std=std)


# ----------------------------------------------------------------------------- gradients

def _running_median(values: np.ndarray, i: int) -> float:
    return float(np.median(values[max(0, i - SPIKE_WINDOW):i]))


def gradient_spikes(steps, norms) -> list[tuple[int, float, float]]:
    """(step, norm, median) of each global gradient norm that is SPIKE_FACTOR or more times a
    median of the norms before it, the SPIKE_WINDOW last ones' or the first SPIKE_HISTORY
    ones' (the lower), and above every one of those first (a norm that shrank as the loss
    fell, then bounces back, has not exploded); a NaN/inf norm after finite ones counts as a
    spike of infinite size."""
    steps, norms = list(steps), np.asarray(norms, dtype=np.float64)
    finite_before, out = [], []
    for s, g in zip(steps, norms):
        if len(finite_before) >= SPIKE_HISTORY:
            first = finite_before[:SPIKE_HISTORY]
            med = min(float(np.median(finite_before[-SPIKE_WINDOW:])), float(np.median(first)))
            if med > 0 and (not math.isfinite(g) or (g >= SPIKE_FACTOR * med and g > max(first))):
                out.append((int(s), float(g), med))
        if math.isfinite(g):
            finite_before.append(g)
        else:
            break                                  # after NaN/inf every number is meaningless
    return out


def _harm(spike_step: int, loss_steps, losses) -> tuple[float, float] | None:
    """(the highest loss within SPIKE_AFTER steps after a spike, the median loss before it)
    when that loss is NaN/inf, or LOSS_SPIKE_FACTOR times the median and higher than it by
    LOSS_SPIKE_RISE of the run's first loss; else None."""
    before = [v for s, v in zip(loss_steps, losses) if s <= spike_step and math.isfinite(v)]
    after = [v for s, v in zip(loss_steps, losses) if spike_step < s <= spike_step + SPIKE_AFTER]
    if not before or not after:
        return None
    med = float(np.median(before[-SPIKE_WINDOW:]))
    worst = max(after, key=lambda v: math.inf if not math.isfinite(v) else v)
    if not math.isfinite(worst) or (med > 0 and worst >= LOSS_SPIKE_FACTOR * med
                                    and worst - med >= LOSS_SPIKE_RISE * abs(before[0])):
        return float(worst), med
    return None


def _clip_text(clip_norm: float | None) -> str:
    return (f" Clipping at {clip_norm:g} is on (the norms above are before it), yet the loss "
            f"still jumped: the learning rate is too high for this model." if clip_norm
            else " The gradient is not clipped.")


def _clip_fix(clip_norm: float | None) -> str:
    if clip_norm:
        return (f"clipping at {clip_norm:g} is on: divide the learning rate by 3-10 (or warm it up "
                f"over the first few hundred steps), and clip lower (e.g. clip_norm=1.0 if it is higher)")
    return ("clip the global gradient norm (e.g. 1.0 or 5.0): clip_norm= on the optimiser "
            "(gw.Adam(2e-3, clip_norm=1.0)), or in your loop, before the update, "
            "g *= min(1, c / ||g||) over all the gradients together (gw.clip_grad_norm(grads, c)); "
            "then, if it persists, lower the learning rate")


def exploding_gradient(steps, norms, loss_steps=(), losses=(), *, clip_norm: float | None = None,
                       trace=None) -> list[Finding]:
    """EXPLODING_GRADIENT from the global gradient norm over the steps: the growth the MLP
    rule (``rules.exploding_gradient``, on ``trace``) names, or spikes through time, what
    backpropagation through an RNN or LSTM makes (the same weights multiplied T times) and a
    deep transformer without clipping: a norm SPIKE_FACTOR times its running median, after
    which the loss jumps (LOSS_SPIKE_FACTOR times its median within SPIKE_AFTER steps) or
    turns NaN/inf. Spikes the loss shrugs off are no finding: clipping would cost nothing,
    but nothing is wrong.

    Args:
        steps, norms: the steps and the global gradient norms at them (before clipping, if
            the optimiser clips: ``Optimizer.grad_norm``).
        loss_steps, losses: the steps and the losses at them (every step, if you have it).
        clip_norm: the clipping threshold in use, if any: the finding then says clipping is
            on and what to change instead.
        trace: a Recorder's trace, for the growth rule.
    """
    found = []
    if trace is not None:
        found = [dataclasses.replace(f, message=f.message + _clip_text(clip_norm).replace(
                     " yet the loss still jumped", " yet it grew"), fix=_clip_fix(clip_norm),
                                     evidence={**f.evidence, "clip_norm": clip_norm})
                 for f in rules.exploding_gradient(trace)]
    harmful = []
    for s, g, med in gradient_spikes(steps, norms):
        harm = _harm(s, loss_steps, losses)
        if harm is not None or not math.isfinite(g):
            harmful.append((s, g, med, harm))
    if not harmful or found:
        return found
    s, g, med, harm = harmful[0]                   # the first: where it started
    loss_text = ("" if harm is None else
                 f" and the loss then rose to {harm[0]:.4g} (median {harm[1]:.4g} before)" if math.isfinite(harm[0])
                 else " and the loss then turned NaN/inf")
    size = f"{g / med:.3g} times" if math.isfinite(g) else "NaN/inf, after"
    ev = {"step": s, "spike_norm": g, "median_norm": med, "spike_factor": g / med,
          "spikes": len(harmful), "clip_norm": clip_norm}
    if harm is not None:
        ev.update(loss_after=harm[0], loss_median=harm[1])
    return [Finding(
        "EXPLODING_GRADIENT", "error",
        f"the gradient norm spiked to {size} its median before ({med:.3g}) at step {s}{loss_text}: "
        f"gradients explode through time (an RNN or LSTM multiplies the same weights at every "
        f"step; deep stacks compound too), and one such step throws the weights off."
        f" {len(harmful)} harmful spike(s)." + _clip_text(clip_norm),
        ev, _clip_fix(clip_norm), f"step {s}")]


def trace_series(trace, key: str) -> tuple[list, list]:
    """(steps, values) of the records of a Recorder's trace that hold ``key``."""
    pairs = [(r["step"], r[key]) for r in trace if r.get(key) is not None]
    return [s for s, _ in pairs], [v for _, v in pairs]


def exploding_gradient_in_trace(trace, clip_norm: float | None = None) -> list[Finding]:
    """``exploding_gradient`` on a Recorder's trace: the norms of its checks, the losses of
    every call."""
    return exploding_gradient(*trace_series(trace, "grad_norm"), *trace_series(trace, "loss"),
                              clip_norm=clip_norm, trace=trace)


# ----------------------------------------------------------------------------- the Monitor's part

def is_sequence_model(model) -> bool:
    """A model of sequence layers: token ids in (an Embedding first), or recurrent or
    attention layers."""
    from ..recurrent import LSTM, RNN
    from ..sequence import CausalSelfAttention, TransformerBlock
    layers = getattr(model, "layers", None) or []
    return bool(layers) and (getattr(layers[0], "integer_input", False) or any(
        isinstance(layer, (RNN, LSTM, CausalSelfAttention, TransformerBlock)) for layer in layers))


#: Parameters of a sequence model whose scale is chosen, not fan-in scaled: embedding tables
#: (a lookup, not a weighted sum: N(0, 1) in PyTorch, N(0, 0.02^2) in GPT-2) and the
#: attention and transformer weights (GPT-2's N(0, 0.02^2), the residual projections 0.02 /
#: sqrt(2 * layers): tiny for their fan-in by design, LayerNorm sets the scale). The init
#: rules judge only the Dense and recurrent layers' W.
_FAN_IN_SCALED = ("Dense", "RNN", "LSTM")


class SequenceWatch:
    """What ``doctor.Monitor`` adds on a model of sequence layers (``is_sequence_model``):

    * at **every** step, the global gradient norm (before clipping: the optimiser's
      ``grad_norm`` when it clips, else the norm of the model's gradients, one dot product
      per array) and the loss, for EXPLODING_GRADIENT's spikes through time;
    * at the Monitor's checks, the attention summary of each attention layer's last forward
      pass (ATTENTION_COLLAPSED), and the (B, T, V) logits and (B, T) targets as B*T
      predictions of one token each, which the Recorder's per-sample rules read;
    * in the report: no init verdicts on embedding tables and attention weights (see
      ``_FAN_IN_SCALED``) nor INIT_TOO_SMALL on the output layer (small on purpose: logits
      near 0, the loss at ln V), no input-scale check on token ids, and NOT_LEARNING judged
      on the loss against ln V.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.attention = attention_layers(model)
        self.summaries: dict[str, list] = {name: [] for name, _ in self.attention}
        self.steps: list[int] = []
        self.norms: list[float] = []
        self.losses: list[float] = []
        self.fan_in_scaled = set()                 # the names the init findings give their W
        self.head = set()                          # ... and the output layer's
        for i, layer in enumerate(model.layers):
            if type(layer).__name__ in _FAN_IN_SCALED:
                names = {f"{i}.W", f"layer {i} ({type(layer).__name__}) W"}
                self.fan_in_scaled |= names
                self.head = names                  # the last one wins

    @classmethod
    def of(cls, model) -> "SequenceWatch | None":
        return cls(model) if is_sequence_model(model) else None

    def on_batch_end(self, logs: dict) -> None:
        """Every step: the loss and the global gradient norm."""
        opt = self.model.optimizer
        norm = getattr(opt, "grad_norm", None) if getattr(opt, "clip_norm", None) else None
        if norm is None:
            with np.errstate(over="ignore", invalid="ignore"):
                norm = math.sqrt(sum(float(np.vdot(g, g)) for g in self.model.grads))
        self.steps.append(int(logs["step"]))
        self.norms.append(float(norm))
        self.losses.append(float(logs["loss"]))

    def on_check(self, output, target):
        """At a check: the attention summaries; returns the outputs and targets one token a
        row, (B*T, V) and (B*T,), for the Recorder."""
        for name, layer in self.attention:
            with np.errstate(all="ignore"):
                try:
                    self.summaries[name].append(layer_attention_summary(layer))
                except ValueError:                 # NaN weights: NONFINITE says it
                    self.summaries[name].append(None)
        if output is not None and target is not None and output.ndim == 3 and target.ndim == 2 \
                and output.shape[:2] == target.shape:
            return output.reshape(-1, output.shape[-1]), target.reshape(-1)
        return output, target

    def findings(self, found: list[Finding], clip_norm: float | None) -> list[Finding]:
        """The Monitor's findings with the sequence rules in, and the verdicts that do not
        apply to these layers out."""
        ids = self.model.layers[0].integer_input
        keep = [f for f in found if not (
            (f.code.startswith("INIT_") and f.where is not None and f.where not in self.fan_in_scaled)
            # a small output layer is GPT-2's, and INITIAL_LOSS's fix: logits near 0 at init
            or (f.code == "INIT_TOO_SMALL" and f.where in self.head)
            or (ids and f.code in ("INPUT_SCALE", "INPUT_WRAPPED", "NONFINITE_INPUT")))]
        growth = [f for f in keep if f.code == "EXPLODING_GRADIENT" and "growth" in f.evidence]
        keep = [f for f in keep if f.code != "EXPLODING_GRADIENT" or f in growth]
        if not growth:
            keep += exploding_gradient(self.steps, self.norms, self.steps, self.losses, clip_norm=clip_norm)
        for name, summaries in self.summaries.items():
            last = summaries[-rules.PERSIST:]
            if last and all(collapsed(s) for s in last):
                keep.append(attention_finding(last[-1], name))
        return self._verdict_on_tokens(keep)

    def _verdict_on_tokens(self, found: list[Finding]) -> list[Finding]:
        """The verdicts judged per token against ln(V). The generic NOT_LEARNING measures the
        accuracy from the most common class's share towards 100%, but no model predicts text
        that well (gpt-mini, trained, gets ~48% of the characters): a short healthy run sits
        near 10% of that way. The loss fallen LEARNING_SHARE of the way from ln(V) to 0 (4.17
        -> 3.75 nats for 65 characters: letter frequencies, learned in the first steps) is a
        start; a run that did not get that far is not learning. SINGLE_CLASS likewise: the
        most common token (a space) everywhere is that first stage, unless the loss stayed
        near ln(V). And a loss that no longer falls (STALLED) LEARNED_SHARE of the way down
        (below 2.09 nats for 65 characters; gpt-mini ends at 1.75) is a trained model's
        plateau: 100 more steps of gpt-mini at its last learning rate gain 3%."""
        verdicts = ("NOT_LEARNING", "SINGLE_CLASS", "STALLED")
        try:
            V = self.model.num_outputs()
        except ValueError:
            return found
        losses = [v for v in self.losses if math.isfinite(v)]
        if not any(f.code in verdicts for f in found) or V < 2 or len(losses) < rules.MIN_CHECKS \
                or len(losses) < len(self.losses):           # NaN/inf: NONFINITE's case
            return found
        k = max(1, len(losses) // 5)
        chance, end = math.log(V), float(np.mean(losses[-k:]))
        share = (chance - end) / chance
        if share < rules.LEARNING_SHARE:
            return found
        drop = {"NOT_LEARNING", "LEARNING", "SINGLE_CLASS"} | (
            {"STALLED"} if share >= rules.LEARNED_SHARE else set())
        if not any(f.code in drop - {"LEARNING"} for f in found):
            return found
        how = ("learns" if share >= rules.LEARNED_SHARE else "has started to learn")
        then = ("" if share >= rules.LEARNED_SHARE else "; train longer to judge it")
        note = Finding("LEARNING", "info",
                       f"the run {how}: the loss is {end:.4g} nats a token against ln({V}) = "
                       f"{chance:.4g} at chance, {share:.0%} of the way to 0 (which no model of "
                       f"text nears: its accuracy stays far from 100% too){then}.",
                       {"measure": "loss", "chance": chance, "end": end, "share": share, "vocab": V}, "")
        return [f for f in found if f.code not in drop] + [note]
