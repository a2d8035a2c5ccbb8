"""The doctor on sequence models (issue #18): EXPLODING_GRADIENT through time,
ATTENTION_COLLAPSED, and the Monitor and ``gradwise doctor`` on text models. Each rule fires
on a broken model and stays quiet on the correct one, on gradwise models and in a user's own
NumPy loop; the text is a tiny one made here (never ../shared)."""

import json
import math

import numpy as np
import pytest

import gradwise as gw
from gradwise import cli, doctor, presets
from gradwise.doctor import rules
from gradwise.doctor import sequence as sq

WORDS = "the cat sat on a mat and a dog ran to its bed".split()


def tiny_text(words: int = 4000, seed: int = 0) -> str:
    """Sentences of 3-8 words drawn from WORDS: 17 characters, a few kB, learnable."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < words:
        out += list(rng.choice(WORDS, rng.integers(3, 9))) + ["."]
    return " ".join(out).replace(" .", ".\n")


@pytest.fixture(scope="module")
def text_ids():
    text = tiny_text()
    vocab = sorted(set(text))
    return np.array([vocab.index(c) for c in text]), len(vocab)


def tiny_gpt(V: int, *, seed: int = 0):
    return presets.gpt_mini(V, context=16, dim=16, layers=1, heads=2, seed=seed)


def tiny_lstm(V: int, *, recurrent_scale: float = 1.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    lstm = gw.LSTM(16, 64, rng=rng)
    lstm.params["U"] *= recurrent_scale
    return gw.Sequential([gw.Embedding(V, 16, rng=rng), lstm, gw.Dense(64, V, rng=rng)])


def diagnose(model, ids, optimizer, steps=60):
    return doctor.diagnose_text(model, ids, context=16, batch_size=8, optimizer=optimizer,
                                steps=steps, every=5)


def errors(report):
    return report.codes()


# ----------------------------------------------------------------------------- attention

def causal_softmax(scores: np.ndarray) -> np.ndarray:
    T = scores.shape[-1]
    s = scores + np.triu(np.full((T, T), -np.inf), k=1)
    with np.errstate(under="ignore"):
        p = np.exp(s - s.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)


def test_check_attention_is_quiet_on_mixed_rows_and_names_where_one_hot_rows_sit():
    T = 8
    assert doctor.check_attention(causal_softmax(np.zeros((T, T)))).codes() == []   # uniform
    for probs, place in [(np.eye(T), "diagonal"), (np.eye(T, k=-1) + np.eye(T) * (np.arange(T) == 0)[:, None], "previous"),
                         (np.tile(np.eye(T)[0], (T, 1)), "first")]:
        found = doctor.check_attention(probs[None, None], where="my attention").get("ATTENTION_COLLAPSED")
        assert found is not None and found.severity == "warning" and found.where == "my attention"
        assert found.evidence["position"] == place and found.evidence["sharp_share"] == 1.0
        assert found.evidence["entropy_ratio"] < 1e-9
        assert found.evidence["uniform_entropy"] == pytest.approx(np.mean(np.log(np.arange(2, T + 1))))


def test_check_attention_on_a_users_own_attention_with_unscaled_logits(rng):
    B, H, T, hd = 2, 4, 16, 8
    q, k = rng.standard_normal((2, B, H, T, hd))
    scores = q @ k.transpose(0, 1, 3, 2)                       # (B, H, T, T)
    assert doctor.check_attention(causal_softmax(scores / np.sqrt(hd))).codes() == []
    found = doctor.check_attention(causal_softmax(50 * scores)).get("ATTENTION_COLLAPSED")
    assert found is not None and found.evidence["sharp_share"] > 0.9
    assert found.evidence["position"] == "varies"             # one key a query, not the same one
    assert "sqrt(d_head)" in found.fix
    assert not gw.doctor.findings.numbers_not_in_evidence(found)


def test_check_attention_refuses_what_is_not_attention_weights(rng):
    p = causal_softmax(rng.standard_normal((2, 6, 6)))
    with pytest.raises(ValueError, match="columns sum to 1"):
        doctor.check_attention(p.transpose(0, 2, 1))          # softmax over the queries' axis
    with pytest.raises(ValueError, match=r"\(B, H, T, T\)"):
        doctor.check_attention(np.ones((4, 5)) / 5)
    with pytest.raises(ValueError, match="NaN"):
        doctor.check_attention(np.full((3, 3), np.nan))


@pytest.mark.parametrize("make", [lambda g: gw.CausalSelfAttention(8, 2, 6, rng=g),
                                  lambda g: gw.TransformerBlock(8, 2, 6, rng=g)])
def test_attention_layers_expose_their_last_weights(make, rng):
    layer = make(rng)
    assert layer.attention_weights() is None                   # before any forward
    layer.forward(rng.standard_normal((3, 5, 8)).astype(np.float32))
    att = layer.attention_weights()
    assert att.shape == (3, 2, 5, 5) and np.allclose(att.sum(axis=-1), 1, atol=1e-5)
    assert np.all(np.triu(att, k=1) == 0)                      # causal: no weight on the future


def test_the_monitor_names_collapsed_attention_in_a_gpt_and_not_in_the_correct_one(text_ids):
    ids, V = text_ids
    good = diagnose(tiny_gpt(V), ids, gw.AdamW(1e-3, clip_norm=1.0))
    assert errors(good) == [], str(good)
    model = tiny_gpt(V)
    model.layers[2].params["qkv_W"][:, :32] *= 50              # queries, keys N(0, 1): 50x GPT-2's
    found = diagnose(model, ids, gw.AdamW(1e-3, clip_norm=1.0)).get("ATTENTION_COLLAPSED")
    assert found is not None and found.where == "layer 2 (TransformerBlock)"
    assert found.evidence["scores_std"] > 5 and found.evidence["sharp_share"] > 0.5
    assert found.evidence["entropy_ratio"] < sq.ATTENTION_ENTROPY_RATIO and "sqrt(d_head)" in found.fix


# ----------------------------------------------------------------------------- exploding gradients

def test_exploding_gradient_rule_on_series():
    steps = list(range(1, 41))
    norms = [1.0] * 40
    losses = [3.0] * 40
    assert sq.exploding_gradient(steps, norms, steps, losses) == []
    norms[20] = 50.0                                            # a spike...
    assert sq.exploding_gradient(steps, norms, steps, losses) == []   # ...the loss shrugs off
    losses[22] = 6.0                                            # ...after which the loss jumps
    (found,) = sq.exploding_gradient(steps, norms, steps, losses)
    assert found.code == "EXPLODING_GRADIENT" and found.severity == "error"
    assert found.evidence["step"] == 21 and found.evidence["spike_factor"] == pytest.approx(50)
    assert found.evidence["clip_norm"] is None and "clip_norm=" in found.fix
    assert "not clipped" in found.message and not gw.doctor.findings.numbers_not_in_evidence(found)
    (clipped,) = sq.exploding_gradient(steps, norms, steps, losses, clip_norm=1.0)
    assert "Clipping at 1 is on" in clipped.message and "learning rate" in clipped.fix
    shrunk = [1.0] * 5 + [0.01] * 30 + [0.2] * 5                # a norm that fell, then bounced
    assert sq.exploding_gradient(steps, shrunk, steps, [3.0] * 5 + [0.01] * 30 + [0.05] * 5) == []
    blown = [1.0] * 30 + [20.0, np.inf] + [np.nan] * 8          # grew, then overflowed
    (nan,) = sq.exploding_gradient(steps, blown, steps, [3.0] * 31 + [np.nan] * 9)
    assert nan.evidence["step"] == 31


def test_an_lstm_with_large_recurrent_weights_and_no_clipping_explodes_the_correct_one_does_not(text_ids):
    ids, V = text_ids
    good = diagnose(tiny_lstm(V), ids, gw.Adam(2e-3, clip_norm=1.0))
    assert errors(good) == [], str(good)
    bad = diagnose(tiny_lstm(V, recurrent_scale=3.0), ids, gw.SGD(10.0))
    found = bad.get("EXPLODING_GRADIENT")
    assert found is not None and found.evidence["clip_norm"] is None, str(bad)
    assert found.evidence["spike_factor"] >= sq.SPIKE_FACTOR and "clip_norm=" in found.fix


def users_rnn_loop(*, U_scale: float, lr: float, clip: float | None, steps: int = 150, seed: int = 0):
    """A character RNN in plain NumPy, trained by hand with backpropagation through time:
    h_t = tanh(x_t Wx + h_{t-1} Wh + b), logits h_t Wy + c; optional clipping of the global
    gradient norm; a Recorder logged at every step."""
    ids, V = np.array([ord(c) % 17 for c in tiny_text(1500)]), 17
    rng = np.random.default_rng(seed)
    Hn, T, B = 32, 20, 8
    Wx = rng.standard_normal((V, Hn)) * 0.1
    Wh = rng.standard_normal((Hn, Hn)) / np.sqrt(Hn) * U_scale
    b, Wy, c = np.zeros(Hn), rng.standard_normal((Hn, V)) * 0.1, np.zeros(V)
    rec = doctor.Recorder(["Wx", "Wh", "b", "Wy", "c"], budget=None)
    with np.errstate(all="ignore"):
        for step in range(steps):
            starts = rng.integers(0, len(ids) - T - 1, B)
            x, y = ids[starts[:, None] + np.arange(T)], ids[starts[:, None] + np.arange(T) + 1]
            hs, loss = [np.zeros((B, Hn))], 0.0
            ps = []
            for t in range(T):                                  # forward through time
                hs.append(np.tanh(Wx[x[:, t]] + hs[-1] @ Wh + b))
                z = hs[-1] @ Wy + c
                p = np.exp(z - z.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                loss -= np.mean(np.log(p[np.arange(B), y[:, t]] + 1e-12)) / T
                ps.append(p)
            grads = [np.zeros_like(a) for a in (Wx, Wh, b, Wy, c)]
            dh_next = np.zeros((B, Hn))
            for t in reversed(range(T)):                        # backward through time
                dz = ps[t].copy()
                dz[np.arange(B), y[:, t]] -= 1
                dz /= B * T
                grads[3] += hs[t + 1].T @ dz
                grads[4] += dz.sum(axis=0)
                da = (dz @ Wy.T + dh_next) * (1 - hs[t + 1] ** 2)
                np.add.at(grads[0], x[:, t], da)
                grads[1] += hs[t].T @ da
                grads[2] += da.sum(axis=0)
                dh_next = da @ Wh.T
            if clip is not None:                                # g *= min(1, c / ||g||)
                norm = np.sqrt(sum(np.sum(g * g) for g in grads))
                grads_step = [g * min(1.0, clip / norm) for g in grads]
            else:
                grads_step = grads
            for w, g in zip((Wx, Wh, b, Wy, c), grads_step):
                w -= lr * g
            rec.log(step, loss=loss, weights=[Wx, Wh, b, Wy, c], grads=grads)   # before clipping
    return rec.report(clip_norm=clip)


def test_a_users_own_rnn_loop_explodes_without_clipping_and_is_quiet_with_it():
    bad = users_rnn_loop(U_scale=2.0, lr=2.0, clip=None)      # recurrent weights 2x He's
    found = bad.get("EXPLODING_GRADIENT")
    assert found is not None, str(bad)
    # a spike against the running median, or (when the Recorder's time budget placed its
    # checks so) the MLP rule's steady growth: either is the explosion, measured
    assert (found.evidence.get("spike_factor", 0) >= sq.SPIKE_FACTOR
            or found.evidence.get("growth", 0) > 100), found.evidence
    assert "not clipped" in found.message and "g *= min(1, c / ||g||)" in found.fix
    assert not gw.doctor.findings.numbers_not_in_evidence(found)
    good = users_rnn_loop(U_scale=2.0, lr=2.0, clip=1.0)      # the same loop, clipped at 1
    assert good.codes() == [], str(good)
    growth = users_rnn_loop(U_scale=1.0, lr=5.0, clip=None).get("EXPLODING_GRADIENT")
    assert growth.evidence["growth"] > 100 and "clip_norm=" in growth.fix   # the MLP rule's case


def test_the_verdicts_on_a_language_model_are_judged_against_ln_vocab(text_ids):
    ids, V = text_ids
    watch = sq.SequenceWatch(tiny_lstm(V))
    verdicts = [rules.finding(code, "error", code.lower()) for code in ("STALLED", "NOT_LEARNING")]
    for loss, kept in [(0.95, ["STALLED", "NOT_LEARNING"]),   # near ln V: nothing learned
                       (0.7, ["STALLED", "LEARNING"]),        # letter frequencies, then stuck
                       (0.45, ["LEARNING"])]:                 # a trained model's plateau
        watch.losses = [loss * math.log(V)] * 30
        assert [f.code for f in watch._verdict_on_tokens(verdicts)] == kept, loss


# ----------------------------------------------------------------------------- gradwise doctor

def test_gradwise_doctor_on_a_text_model_runs_a_short_watched_run(tmp_path, capsys):
    path = tmp_path / "tiny.txt"
    path.write_text(tiny_text(), encoding="utf-8")
    rc = cli.main(["doctor", "--data", str(path), "--model", "char-lstm", "--iters", "60",
                   "--batch-size", "8", "--context", "16", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["ok"] and report["codes"] == [], report
    assert any(f["code"] == "LEARNING" for f in report["findings"])


def test_gradwise_doctor_on_gpt_mini_checks_causality_and_the_loss_at_init(tmp_path, capsys):
    """gpt-mini (0.8M parameters) for a few steps only: the suite stays fast; the watched
    run's verdicts on it are measured in the README."""
    path = tmp_path / "tiny.txt"
    path.write_text(tiny_text(), encoding="utf-8")
    rc = cli.main(["doctor", "--data", str(path), "--model", "gpt-mini", "--iters", "6",
                   "--batch-size", "2", "--context", "16"])
    out = capsys.readouterr().out
    assert "the first 6 of 6 steps of 2 windows of 16" in out
    for code in ("CAUSAL_LEAK", "INITIAL_LOSS", "INPUT_SCALE", "INIT_TOO_SMALL", "INIT_TOO_LARGE",
                 "EXPLODING_GRADIENT", "ATTENTION_COLLAPSED"):
        assert code not in out, out
    assert rc in (0, 1)


@pytest.mark.parametrize("flag", ["--sorted", "--raw-pixels", "--verify"])
def test_gradwise_doctor_refuses_image_flags_for_a_text_model(flag, tmp_path, capsys):
    path = tmp_path / "tiny.txt"
    path.write_text(tiny_text(100), encoding="utf-8")
    assert cli.main(["doctor", "--data", str(path), "--model", "char-lstm", flag]) == 2
    assert f"{flag} is for the image networks" in capsys.readouterr().err
