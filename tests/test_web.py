"""The web app's API with Starlette's test client: every endpoint, good and bad input."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

pytest.importorskip("starlette", reason='the web extra is not installed (pip install -e ".[web]")')
pytest.importorskip("httpx2", reason="the test client needs httpx2 (the dev extra)")

from PIL import Image, ImageDraw  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from gradwise.train import RunError  # noqa: E402
from gradwise.web import app as webapp  # noqa: E402
from gradwise.web.jobs import MISTAKES, SettingsError, TrainSettings, first_layer_images  # noqa: E402


LOCAL = "http://127.0.0.1:8000"          # the test client's address: a name the app answers to


def local(app) -> TestClient:
    """A test client that calls the app by a local name (the app answers no other host)."""
    return TestClient(app, base_url=LOCAL)


@pytest.fixture(scope="module")
def quick():
    return webapp.quick_model()


@pytest.fixture
def client(quick):
    app = webapp.create_app(webapp.Served(quick, "quick"))
    with local(app) as c:
        yield c
        job = app.state.gradwise["job"]
        if job is not None:                      # never leave a worker thread behind
            job.stop()
            job.join(30)


def png(draw=None, size=(280, 280), mode="L") -> bytes:
    im = Image.new(mode, size, 255)
    if draw:
        draw(ImageDraw.Draw(im))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def one(d):
    d.line([(140, 40), (140, 240)], fill=0, width=20)


def seven(d):
    d.line([(70, 50), (210, 50), (120, 240)], fill=0, width=20)


def post_image(client, body, ctype="image/png"):
    return client.post("/api/predict", content=body, headers={"content-type": ctype})


def events(client, **params) -> list[dict]:
    out = []
    with client.stream("GET", "/api/train/events", **params) as s:
        assert s.status_code == 200
        assert s.headers["content-type"].startswith("text/event-stream")
        for line in s.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))
    return out


# ----------------------------------------------------------------------------- pages

def test_pages_and_own_assets_are_served(client):
    for path, text in (("/", "Draw a digit"), ("/learn", "Make it fail"),
                       ("/static/draw.js", "/api/predict"), ("/static/learn.js", "EventSource"),
                       ("/static/style.css", "#pad")):
        r = client.get(path)
        assert r.status_code == 200, path
        assert text in r.text, path
    for page in ("/", "/learn", "/static/draw.js", "/static/learn.js", "/static/common.js"):
        assert "http" not in client.get(page).text      # no CDN, no outside address: works offline


@pytest.mark.parametrize("path", ["/static/nothing.js", "/static/../app.py", "/static/%2e%2e/app.py",
                                  "/static/../../__init__.py", "/api/nothing"])
def test_nothing_else_is_served(client, path):
    assert client.get(path).status_code == 404


def test_only_local_host_names_are_answered(client):
    # a page on another site that points a DNS name at 127.0.0.1 cannot use the API
    assert client.get("/api/model", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/api/model", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_model_info(client):
    info = client.get("/api/model").json()
    assert info["name"] == "quick" and info["data"] == "mnist-mini"
    assert info["classes"] == [str(i) for i in range(10)]
    assert info["layers"][0].startswith("Dense(784")


# ----------------------------------------------------------------------------- predict

@pytest.mark.parametrize("draw, digit", [(one, 1), (seven, 7)])
def test_predict_a_drawn_digit(client, draw, digit):
    r = post_image(client, png(draw))
    assert r.status_code == 200
    a = r.json()
    assert a["predicted"] == digit and a["label"] == str(digit)
    assert np.array(a["input"]).shape == (28, 28)
    assert 0 <= np.min(a["input"]) and np.max(a["input"]) == 255
    assert sum(a["probabilities"]) == pytest.approx(1, abs=1e-4)
    assert [act["size"] for act in a["activations"]] == [128]          # one hidden layer
    ru = a["runner_up"]
    assert ru["class"] != digit and ru["class"] == int(np.argsort(a["probabilities"])[-2])
    assert len(ru["examples"]) == webapp.EXAMPLES_PER_CLASS
    assert np.array(ru["examples"]).shape == (webapp.EXAMPLES_PER_CLASS, 28, 28)


def test_predict_matches_the_cli_preprocessing(client, quick):
    from gradwise.preprocess import decode_grayscale, mnist_style, model_input
    body = png(seven)
    a = post_image(client, body).json()
    digit = mnist_style(decode_grayscale(body))
    np.testing.assert_array_equal(a["input"], digit)
    np.testing.assert_allclose(a["probabilities"], quick.predict_proba(model_input(digit[None], quick.meta))[0],
                               atol=1e-5)


def test_predict_accepts_jpeg_and_transparent_png(client):
    im = Image.open(io.BytesIO(png(one))).convert("RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG")
    assert post_image(client, buf.getvalue(), "image/jpeg").json()["predicted"] == 1
    rgba = Image.new("RGBA", (200, 200), (0, 0, 0, 0))               # ink on a transparent page
    ImageDraw.Draw(rgba).line([(100, 20), (100, 180)], fill=(0, 0, 0, 255), width=14)
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    assert post_image(client, buf.getvalue()).json()["predicted"] == 1


@pytest.mark.parametrize("body, ctype, status, words", [
    (b"", "image/png", 400, "empty"),
    (b"hello", "text/plain", 415, "image/png"),
    (b"not a png at all", "image/png", 422, "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, "image/png", 422, "the drawing"),
    ("blank", "image/png", 422, "blank"),
    ("huge", "image/png", 422, "pixels is more than"),
    ("big", "image/png", 413, "larger than"),
])
def test_predict_refuses_bad_images(client, body, ctype, status, words):
    if body == "blank":
        body = png()
    elif body == "huge":                                  # small file, too many pixels
        body = png(size=(3000, 3000))
        assert len(body) < webapp.MAX_IMAGE_BYTES
    elif body == "big":
        body = b"\x89PNG" + b"\0" * (webapp.MAX_IMAGE_BYTES + 1)
    r = post_image(client, body, ctype)
    assert r.status_code == status
    assert words in r.json()["error"]
    assert post_image(client, png(one)).status_code == 200           # and the server goes on


def test_oversized_body_is_refused_while_streaming(client):
    # no Content-Length: a chunked body is cut off as soon as it passes the limit
    def chunks():
        for _ in range(webapp.MAX_IMAGE_BYTES // 4096 + 2):
            yield b"\0" * 4096
    r = client.post("/api/predict", content=chunks(), headers={"content-type": "image/png"})
    assert r.status_code == 413


def test_predict_wants_post(client):
    assert client.get("/api/predict").status_code == 405


# ----------------------------------------------------------------------------- run files

def test_run_files_only_from_the_served_run(quick, tmp_path):
    (tmp_path / "curves.png").write_bytes(png())
    (tmp_path / "model.npz").write_bytes(b"weights")
    (tmp_path / ".secret.png").write_bytes(b"x")
    app = webapp.create_app(webapp.Served(quick, "run", tmp_path))
    with local(app) as c:
        assert c.get("/api/model").json()["files"] == ["curves.png"]
        r = c.get("/api/run/files/curves.png")
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        for name in ("model.npz", ".secret.png", "..%2Fcurves.png", "nothing.png", "..%2F..%2Fetc%2Fpasswd"):
            assert c.get(f"/api/run/files/{name}").status_code == 404, name
    with local(webapp.create_app(webapp.Served(quick, "no folder"))) as c:
        assert c.get("/api/run/files/curves.png").status_code == 404


# ----------------------------------------------------------------------------- training

def test_training_status_when_idle(client):
    state = client.get("/api/train").json()
    assert state["status"] == "idle" and state["mistakes"] == MISTAKES
    assert client.get("/api/train/events").status_code == 404
    assert client.post("/api/train/stop").status_code == 409
    assert client.post("/api/train/use").status_code == 409


def test_a_run_streams_curves_weights_and_findings(client):
    r = client.post("/api/train", json={"epochs": 1, "mistakes": ["unscaled"]})
    assert r.status_code == 202
    busy = client.post("/api/train", json={"epochs": 1})
    assert busy.status_code == 409 and "one run at a time" in busy.json()["error"]
    ev = events(client)
    kinds = [e["type"] for e in ev]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert ev[-1]["status"] == "finished"
    assert kinds.count("batch") >= 20 and kinds.count("epoch") == 1
    codes = [e["code"] for e in ev if e["type"] == "finding"]
    assert "INPUT_SCALE" in codes
    w = [e for e in ev if e["type"] == "weights"]
    assert len(w[0]["images"]) == 16 and len(w[0]["images"][0]) == 784
    assert all(0 <= v <= 255 for v in w[-1]["images"][0])
    assert client.get("/api/train").json()["status"] == "finished"
    # resuming the stream after the 3rd event gives the rest, from the 4th on
    assert events(client, headers={"last-event-id": "3"}) == ev[3:]
    assert client.get("/api/train/events", params={"since": "x"}).status_code == 400


def test_the_trained_model_can_be_served_on_the_draw_page(client):
    assert client.post("/api/train", json={"epochs": 2, "hidden": [32]}).status_code == 202
    ev = events(client)
    assert ev[-1]["status"] == "finished"
    assert ev[-2]["type"] in ("finding", "weights", "epoch", "sweep", "verified")
    info = client.post("/api/train/use").json()
    assert info["name"] == "trained on the learn page" and info["data"] == "mnist-mini"
    assert info["layers"][0] == "Dense(784, 32)"
    assert post_image(client, png(one)).status_code == 200


@pytest.mark.parametrize("mistake, code, fix_helped", [
    ("unscaled", "INPUT_SCALE", True), ("uniform_init", "INIT_TOO_LARGE", True), (None, None, None),
])
def test_after_the_run_the_doctor_tries_its_fixes_and_sweeps_the_lr(client, mistake, code, fix_helped):
    """The page's experiments (doctor.experiments on the untrained copy): a sweep event with
    the grid and the rate to use, and under a finding with a mechanical fix its outcome."""
    body = {"epochs": 1, "mistakes": [mistake] if mistake else [], "experiments": True}
    assert client.post("/api/train", json=body).status_code == 202
    ev = events(client)
    assert ev[-1]["status"] == "finished", ev[-1]
    kinds = [e["type"] for e in ev]
    assert kinds.index("experiments") < kinds.index("sweep") < len(kinds) - 1
    (sweep,) = [e for e in ev if e["type"] == "sweep"]
    assert len(sweep["grid"]) >= 5 and sweep["lr"] in [g[0] for g in sweep["grid"]]
    assert sweep["current"] == pytest.approx(1e-3)
    tried = {e["code"]: e for e in ev if e["type"] == "verified" or (e["type"] == "finding" and e.get("tried"))}
    if code is None:                   # a healthy run: no fix is claimed to help
        assert not any(e.get("verified", {}).get("helped") for e in tried.values()), tried
    else:
        assert code in tried, (code, sorted(tried))
        assert tried[code]["verified"]["helped"] is fix_helped and tried[code]["tried"].startswith(
            tried[code]["verified"]["fix"])


def test_experiments_are_off_unless_asked(client):       # the page's checkbox asks
    assert client.post("/api/train", json={"epochs": 1}).status_code == 202
    kinds = [e["type"] for e in events(client)]
    assert "experiments" not in kinds and "sweep" not in kinds and kinds[-1] == "end"


@pytest.mark.parametrize("mistake, codes", [
    (None, set()), ("unscaled", {"INPUT_SCALE"}), ("uniform_init", {"INIT_ALL_POSITIVE", "INIT_TOO_LARGE"}),
])
def test_a_cnn_learns_on_the_page_and_serves_the_draw_page(client, mistake, codes):
    """network: cnn trains the CNN preset; its first convolution's kernels come as 3x3 images;
    the doctor names an injected mistake; the model it made draws on the draw page."""
    body = {"epochs": 1, "network": "cnn", "mistakes": [mistake] if mistake else []}
    assert client.post("/api/train", json=body).status_code == 202
    ev = events(client)
    assert ev[-1]["status"] == "finished", ev[-1]
    w = [e for e in ev if e["type"] == "weights"]
    assert len(w[0]["images"]) == 16 and len(w[0]["images"][0]) == 9
    found = {e["code"] for e in ev if e["type"] == "finding" and e["severity"] != "info"}
    assert found & codes if codes else True, (mistake, found)
    if mistake is None:
        epoch = [e for e in ev if e["type"] == "epoch"][-1]
        assert epoch["val_accuracy"] > 0.8                     # it learns
        info = client.post("/api/train/use").json()
        assert info["layers"][0] == "Conv2D(1, 32, padding=1)"
        assert post_image(client, png(one)).json()["predicted"] == 1


def test_stop_ends_the_run_after_the_current_batch(client):
    assert client.post("/api/train", json={"epochs": 50, "batch_size": 8}).status_code == 202
    assert client.post("/api/train/stop").status_code == 202
    ev = events(client)
    assert ev[-1]["status"] == "stopped"
    assert sum(e["type"] == "epoch" for e in ev) < 50
    assert client.post("/api/train/use").status_code == 409         # a stopped run is not served


@pytest.mark.parametrize("mistake, codes", [
    ("unscaled", {"INPUT_SCALE"}),
    ("uniform_init", {"INIT_ALL_POSITIVE", "INIT_TOO_LARGE"}),
    ("lr_x100", {"LR_TOO_HIGH", "NONFINITE", "EXPLODING_GRADIENT"}),
    ("class_order", {"CLASS_ORDERED"}),
    ("sigmoid_mse", {"OUTPUT_LOSS_MISMATCH", "SATURATION"}),
])
def test_every_injected_mistake_is_named_by_the_doctor(client, mistake, codes):
    assert client.post("/api/train", json={"epochs": 1, "mistakes": [mistake]}).status_code == 202
    ev = events(client)
    found = {e["code"] for e in ev if e["type"] == "finding" and e["severity"] != "info"}
    assert found & codes, (mistake, found)
    assert ev[-1]["type"] == "end"


@pytest.mark.parametrize("body, words", [
    ({"epochs": 0}, "epochs"), ({"epochs": True}, "epochs"), ({"epochs": 1.5}, "epochs"),
    ({"epochs": 10**9}, "epochs"), ({"lr": -1}, "lr"), ({"lr": "fast"}, "lr"),
    ({"lr": 1e9}, "lr"), ({"hidden": [64] * 9}, "hidden"), ({"hidden": [0]}, "hidden"),
    ({"hidden": "64"}, "hidden"), ({"data": "../../etc"}, "data"), ({"optimizer": "magic"}, "optimizer"),
    ({"mistakes": ["rm -rf"]}, "mistakes"), ({"mistakes": "unscaled"}, "mistakes"),
    ({"batch_size": -5}, "batch_size"), ({"colour": "red"}, "unknown setting"), ([1, 2], "JSON object"),
    ({"network": "transformer"}, "network"), ({"experiments": "yes"}, "experiments"),
])
def test_bad_settings_are_refused_by_name(client, body, words):
    r = client.post("/api/train", json=body)
    assert r.status_code == 422
    assert words in r.json()["error"]
    assert client.get("/api/train").json()["status"] == "idle"      # nothing started


def test_bad_json_and_bodies(client):
    r = client.post("/api/train", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]
    r = client.post("/api/train", content=b"epochs=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = client.post("/api/train", content=b"[" + b"1," * webapp.MAX_JSON_BYTES + b"1]",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/api/train", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert client.get("/api/model").status_code == 200


def test_settings_parse_defaults_and_dedupes():
    s = TrainSettings.parse({"mistakes": ["lr_x100", "unscaled", "lr_x100"], "lr": 1})
    assert s.mistakes == ["lr_x100", "unscaled"] and s.lr == 1.0 and s.data == "mnist-mini"
    with pytest.raises(SettingsError, match="lr"):
        TrainSettings.parse({"lr": float("nan")})


def test_first_layer_images_survive_nan_and_zero_weights():
    W = np.zeros((784, 20))
    W[0, 1] = np.nan
    W[:, 2] = -1
    imgs = first_layer_images(W)
    assert len(imgs) == 16 and imgs[0] == [128] * 784
    assert imgs[2] == [0] * 784


# ----------------------------------------------------------------------------- which model

def test_load_served_picks_the_given_run_then_the_newest_then_a_quick_model(tmp_path, quick, capsys):
    root = tmp_path / "runs"
    assert webapp.load_served(None, runs_root=root).name == "quick model"
    (root / "old").mkdir(parents=True)
    (root / "new").mkdir()
    quick.save(root / "old" / "model")
    quick.save(root / "new" / "model")
    assert webapp.load_served(None, runs_root=root).name == "new"
    assert webapp.load_served(root / "old").name == "old"
    with pytest.raises(RunError, match="no run folder"):
        webapp.load_served(tmp_path / "missing")


def test_cli_serve_refuses_a_bad_port(capsys):
    from gradwise.cli import main
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_cli_serve_names_a_busy_port(capsys):
    import socket

    from gradwise.cli import main
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["serve", "--port", str(s.getsockname()[1])]) == 2
    assert "pick a free port" in capsys.readouterr().err


def test_a_model_that_takes_no_images_answers_422(tmp_path):
    import gradwise as gw
    xor = gw.mlp([2, 4, 1], seed=0)
    xor.meta = {"data": "xor", "classes": ["0", "1"], "preprocessing": {"flatten": True}}
    served = webapp.Served(xor, "xor")
    assert served.examples == {}                              # the xor set holds no images
    with local(webapp.create_app(served)) as c:
        r = post_image(c, png(one))
        assert r.status_code == 422 and "28x28" in r.json()["error"]
        assert c.get("/api/model").status_code == 200


@pytest.mark.parametrize("sizes, last", [([784, 16, 1], None), ([784, 16, 10], "Softmax")])
def test_predict_gives_what_predict_proba_gives(sizes, last):
    """One sigmoid output and a Softmax layer alike: the page's numbers are predict_proba's."""
    import gradwise as gw
    from gradwise.preprocess import decode_grayscale, mnist_style, model_input
    net = gw.mlp(sizes, seed=0)
    if last:
        net.layers.append(gw.Softmax())
    net.meta = {"data": "mnist", "classes": [str(i) for i in range(sizes[-1])],
                "preprocessing": {"scale": "pixels / 255", "flatten": True}}
    body = png(seven)
    with local(webapp.create_app(webapp.Served(net, "net"))) as c:
        a = post_image(c, body).json()
    expected = net.predict_proba(model_input(mnist_style(decode_grayscale(body))[None], net.meta))[0]
    np.testing.assert_allclose(a["probabilities"], expected, atol=1e-5)


def test_activations_are_picked_by_the_layer_hook_not_the_class_name():
    import gradwise as gw

    class Shifted(gw.Layer):                   # a ReLU by another name
        activation = "relu"

        def forward(self, x, training=False):
            return np.maximum(x, 0) + 1

    net = gw.Sequential([gw.Dense(4, 3, rng=np.random.default_rng(0)), Shifted(), gw.Dense(3, 2)])
    _, acts = webapp.forward_with_activations(net, np.ones((1, 4), np.float32))
    assert [(a["layer"], a["kind"], a["size"]) for a in acts] == [(1, "Shifted", 3)]


def test_a_cnn_run_is_served_with_channel_activations():
    from gradwise.train import cnn_preset
    net = cnn_preset("cnn", 784, 10, seed=0)
    net.meta = {"data": "mnist", "classes": [str(i) for i in range(10)],
                "preprocessing": {"scale": "pixels / 255", "flatten": False, "input_shape": [1, 28, 28]}}
    with local(webapp.create_app(webapp.Served(net, "cnn"))) as c:
        a = post_image(c, png(seven)).json()
        assert [act["size"] for act in a["activations"]] == [32, 64, 128]   # channels, then units
        assert sum(a["probabilities"]) == pytest.approx(1, abs=1e-4)


def test_a_finding_that_no_longer_holds_is_withdrawn_from_the_page():
    """The page shows what the library reports now: a finding from early steps is withdrawn
    (with the step) once the run recovers, and sent again if it comes back."""
    from gradwise.doctor import Report
    from gradwise.doctor.rules import finding
    from gradwise.web.jobs import _Watcher

    class Sink:
        def __init__(self):
            self.events = []

        def emit(self, event):
            self.events.append(event)

    sink = Sink()
    watcher = _Watcher(sink, every=1, initial=Report([]))
    watcher.monitor.model = object()
    jump = finding("LR_TOO_HIGH", "error", "the loss jumped", {}, "lower it")
    reports = iter([Report([jump]), Report([]), Report([jump])])
    watcher.monitor.report = lambda: next(reports)
    for step in (10, 20, 30):
        watcher.send_findings(step)
    kinds = [(e["type"], e.get("step")) for e in sink.events]
    assert kinds == [("finding", None), ("withdrawn", 20), ("finding", None)]


def test_experiments_that_fail_leave_the_runs_own_end(client, monkeypatch):
    from gradwise.doctor import experiments

    def broken(*a, **k):
        raise RuntimeError("sweep broke")
    monkeypatch.setattr(experiments, "lr_sweep", broken)
    assert client.post("/api/train", json={"epochs": 1, "experiments": True}).status_code == 202
    ev = events(client)
    assert {"type": "experiments", "error": "RuntimeError: sweep broke"} in ev
    assert ev[-1]["status"] == "finished"
