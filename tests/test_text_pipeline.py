"""The text pipeline: gradwise train --model char-lstm on a tiny text written here, --resume,
gradwise sample, and the one-line refusals."""

import json

import numpy as np
import pytest

import gradwise as gw
from gradwise import cli, textmodels, train

PLAY = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n\n") * 4
TINY = ["--model", "char-lstm", "--iters", "4", "--eval-every", "2", "--context", "16",
        "--batch-size", "4", "--quiet"]


@pytest.fixture
def play(tmp_path):
    path = tmp_path / "play.txt"
    path.write_text(PLAY, encoding="utf-8")
    return path


def test_char_lstm_trains_saves_and_samples(play, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(play), *TINY, "--no-plots", "--out", str(out)]) == 0
    lines = capsys.readouterr().out
    assert "step 2/4  loss" in lines and "step 4/4" in lines and "tokens/s" in lines
    assert "LSTM(64, 256)" in lines and "nats/character" in lines
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]["val_loss"]) == 2 and metrics["val_loss"] == metrics["history"]["val_loss"][-1]
    assert (out / "checkpoint.npz").is_file()

    model = gw.Sequential.load(out / "model")
    text = gw.data.load_text(play)
    assert model.meta["vocab"] == text.vocab and model.meta["context"] == 16
    # val_loss is the mean over the whole validation text, in consecutive windows
    X, y = textmodels.windows(text.val, 16)
    assert len(X) == (len(text.val) - 1) // 16
    assert model.evaluate(X, y)["loss"] == pytest.approx(metrics["val_loss"], rel=1e-5)
    assert model.predict_logits(X[:3]).shape == (3, 16, len(text.vocab))

    assert cli.main(["sample", str(out), "--prompt", "First", "--length", "30", "--top-k", "5"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("First") and len(first) == len("First") + 30 + 1
    assert set(first[:-1]) <= set(text.vocab)
    cli.main(["sample", str(out), "--prompt", "First", "--length", "30", "--top-k", "5"])
    assert capsys.readouterr().out == first                          # the seed fixes the draws


def test_a_stopped_text_run_resumes_to_the_same_weights(play, tmp_path, monkeypatch):
    args = ["train", "--data", str(play), *TINY, "--no-plots"]
    assert cli.main([*args, "--out", str(tmp_path / "full")]) == 0
    stop = textmodels.TextProgress.on_epoch_end

    def ctrl_c_after_the_first_pass(self, epoch, logs):               # what Ctrl-C does
        stop(self, epoch, logs)
        self.model.stop_training = self.model.interrupted = True
    monkeypatch.setattr(textmodels.TextProgress, "on_epoch_end", ctrl_c_after_the_first_pass)
    assert cli.main([*args, "--out", str(tmp_path / "cut")]) == 130
    monkeypatch.undo()
    assert not (tmp_path / "cut" / "model.npz").exists()
    assert cli.main(["train", "--resume", str(tmp_path / "cut"), "--quiet", "--no-plots"]) == 0
    a, b = (gw.Sequential.load(tmp_path / d / "model").state_dict() for d in ("full", "cut"))
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("flags, message", [
    (["--model", "char-lstm", "--epochs", "3"], "--epochs is of no use to model char-lstm (it trains by steps: use --iters)"),
    (["--model", "char-lstm", "--arch", "3-4"], "--arch is of no use to model char-lstm"),
    (["--model", "char-lstm", "--val-split", "0.2"], "--val-split is of no use to model char-lstm"),
    (["--model", "char-lstm", "--augment"], "--augment is for image networks"),
    (["--model", "char-lstm", "--schedule", "step:2:10"], "--schedule 'step:2:10': a text model takes cosine"),
    (["--model", "char-lstm", "--iters", "10", "--eval-every", "4"], "use e.g. --eval-every 2"),
    (["--model", "char-lstm", "--data", "mnist"], "reads a text: give tinyshakespeare or the path"),
    (["--model", "mlp", "--iters", "5"], "--iters is for the text models"),
    (["--model", "mlp", "--data", "tinyshakespeare"], "tinyshakespeare is a text: use --model char-lstm"),
    (["--model", "char-lstm", "--context", "200000"], "but the validation text of tinyshakespeare has 111,540"),
])
def test_settings_a_text_model_has_no_use_for_are_refused(flags, message, capsys):
    assert cli.main(["train", *flags, "--no-plots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and len([e for e in err if "error" in e]) == 1


def test_a_text_model_takes_its_recipe_and_gpt_mini_nanogpts():
    lstm = train.TrainConfig(model="char-lstm").check()
    assert (lstm.data, lstm.batch_size, lstm.iters, lstm.context, lstm.eval_every) == \
        ("tinyshakespeare", 32, 1500, 64, 250)
    assert lstm.epochs is None and lstm.val_split is None
    assert train.TrainConfig().epochs == 3 and train.TrainConfig().batch_size == 128     # the mlp's
    assert train.TrainConfig(model="cnn").epochs == 4
    opt = train.make_optimizer(train.TrainConfig(model="gpt-mini"))
    assert type(opt).__name__ == "AdamW" and opt.beta2 == 0.99 and opt.weight_decay == 0.1
    assert opt.clip_norm == 1.0
    schedule = opt.schedule                                       # steps, as nanoGPT's get_lr
    lr = [schedule(it / 250) for it in (0, 99, 100, 2000)]
    assert lr == pytest.approx([1 / 101, 100 / 101, 1.0, 0.1])


def test_sample_refuses_bad_input_in_one_line(play, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--data", str(play), *TINY, "--iters", "2", "--no-plots", "--out", str(out)]) == 0
    capsys.readouterr()
    for flags, message in ((["--prompt", "Zebra"], "--prompt has 2 character(s) the model has never seen ('Z', 'b')"),
                           (["--prompt", "F" * 17], "--prompt has 17 characters, more than the 16"),
                           (["--temperature", "0"], "--temperature must be a number > 0"),
                           (["--top-k", "0"], "--top-k must be >= 1")):
        assert cli.main(["sample", str(out), *flags]) == 2
        assert message in capsys.readouterr().err
    gw.Sequential([gw.Dense(4, 2)]).save(tmp_path / "image" / "model")
    assert cli.main(["sample", str(tmp_path / "image")]) == 2
    assert "not a text model" in capsys.readouterr().err
