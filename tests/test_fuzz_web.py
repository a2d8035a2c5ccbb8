"""Generated requests to the web API (issue #16): every answer is a JSON 4xx or a 2xx, never a 500.

Bodies for the training endpoint (settings of the wrong type, missing and unknown keys,
huge numbers, deep nesting, bytes that are not JSON, huge strings, odd content types),
images for the predict endpoint (random bytes, a real PNG's header on junk, tiny and odd
PNGs and JPEGs of every mode), and names, queries and headers for the others. Each answer
comes within a few seconds; a refusal is JSON ``{"error": "..."}``.

A settings body that is accepted starts a job: in these tests the job is ``IdleJob`` (it
starts, sends nothing and ends when stopped), stopped at once, so no real training runs;
one test runs the real job, stopped after its first batch, and checks that accepted
settings never make it fail with an exception.

Measured with ``--hypothesis-show-statistics`` (2 cores): 240 generated cases (4 tests
x 60: about 560 requests) and 5 real jobs in about 10 s, 0 server errors (no 500).
"""

from __future__ import annotations

import io
import json
import time
from urllib.parse import quote

import pytest

pytest.importorskip("starlette", reason='the web extra is not installed (pip install -e ".[web]")')
pytest.importorskip("httpx2", reason="the test client needs httpx2 (the dev extra)")

from hypothesis import HealthCheck, event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from benchmarks.web_streams import IdleJob, small_model  # noqa: E402
from gradwise.web import app as webapp  # noqa: E402
from gradwise.web.jobs import MISTAKES, Job  # noqa: E402

LOCAL = "http://127.0.0.1:8000"
SECONDS = 10
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client():
    """One app and client for the module, whose jobs are IdleJobs (no real training)."""
    app = webapp.create_app(webapp.Served(small_model(), "small"))
    real_job = webapp.Job
    webapp.Job = IdleJob
    try:
        with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as c:
            c.app_state = app.state.gradwise
            yield c
    finally:
        webapp.Job = real_job
        stop_job(app.state.gradwise)


def stop_job(state) -> None:
    job = state["job"]
    if job is not None:
        job.stop()
        job.join(30)
        assert not job.running


def assert_clean(response, started: float) -> dict | None:
    """A 2xx, or a 4xx whose body is JSON {"error": text}; within SECONDS. The JSON body."""
    seconds = time.perf_counter() - started
    assert seconds < SECONDS, f"the answer took {seconds:.1f} s"
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("error"), str) and body["error"], body
        assert "Traceback" not in body["error"]
        return body
    return response.json() if "json" in response.headers.get("content-type", "") else None


def request(client, method: str, url: str, **kwargs):
    started = time.perf_counter()
    response = client.request(method, url, **kwargs)
    event(f"{method} {url.split('/api/')[1].split('/files/')[0]}: {response.status_code}")
    return assert_clean(response, started), client


# ----------------------------------------------------------------------------- settings

FIELDS = ["data", "network", "hidden", "activation", "optimizer", "lr", "epochs", "batch_size",
          "seed", "mistakes"]
json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-3, 70), st.integers(10**18, 10**300),
    st.floats(), st.floats(1e-7, 20), st.text(max_size=10),
    st.sampled_from(["mnist-mini", "mnist", "fashion-mnist", "mlp", "cnn", "relu", "tanh", "adam",
                     "sgd", "momentum", "rmsprop", "", "1e-3", "NaN", *MISTAKES]),
    st.integers(10, 40_000).map(lambda n: "x" * n))
json_values = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=8)


def body_text(value) -> bytes:
    """JSON as a browser's JSON.stringify would not always write it: NaN and Infinity too."""
    return json.dumps(value, allow_nan=True).encode()


@FUZZ
@given(settings_=st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), json_values,
                                 max_size=6))
@example(settings_={"lr": float("nan")})
@example(settings_={"epochs": 10**300, "hidden": [2**63]})
def test_generated_settings_are_refused_as_json_or_start_a_job(client, settings_):
    state = client.app_state
    body, _ = request(client, "POST", "/api/train", content=body_text(settings_),
                      headers={"content-type": "application/json"})
    if body is not None and body.get("status") == "started":
        status, _ = request(client, "GET", "/api/train")
        assert status["status"] in ("starting", "running", "stopped")
        request(client, "POST", "/api/train/stop")
    stop_job(state)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                     st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n),
                     st.integers(1, 5_000).map(lambda n: b'{"hidden": ' + b"1" * n + b"}"),
                     st.integers(1, 30_000).map(lambda n: b'{"data": "' + b"a" * n + b'"}')),
       ctype=st.sampled_from(["application/json", "application/json; charset=latin-1", "text/plain",
                              "", "application/x-www-form-urlencoded", "multipart/form-data",
                              "APPLICATION/JSON", "application/json\x00"]))
@example(raw=b'{"epochs": 1e999}', ctype="application/json")
@example(raw=b"\xff\xfe{}", ctype="application/json")
def test_bodies_that_are_not_settings_are_refused_as_json(client, raw, ctype):
    headers = {"content-type": ctype} if ctype else {}
    try:
        body, _ = request(client, "POST", "/api/train", content=raw, headers=headers)
    finally:
        stop_job(client.app_state)
    assert body is None or body.get("status") == "started" or "error" in body


# ----------------------------------------------------------------------------- images

def image_bytes(fmt: str, mode: str, size: tuple[int, int], background: int, line: tuple) -> bytes:
    """A picture as a user might send one: any mode and size, a stroke drawn on it."""
    im = Image.new("L", size, background).convert(mode) if mode != "L" else Image.new("L", size, background)
    ink = 255 - background
    ImageDraw.Draw(im).line([line[:2], line[2:4]], fill=ink if mode in ("L", "1", "I", "I;16") else
                            (ink,) * len(mode) if mode != "P" else ink, width=line[4])
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


FORMAT_MODES = {"PNG": ["L", "1", "P", "RGB", "RGBA", "LA", "I;16"], "JPEG": ["L", "1", "RGB"]}
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


@st.composite
def image_requests(draw):
    """(body, Content-Type): mostly an image labelled as what it is, else its bytes cut,
    junk after a real header, random bytes or nothing, or a label that is wrong."""
    fmt = draw(st.sampled_from(["PNG", "PNG", "JPEG"]))
    side = st.integers(1, 400)
    data = image_bytes(fmt, draw(st.sampled_from(FORMAT_MODES[fmt])), (draw(side), draw(side)),
                       draw(st.sampled_from([0, 255, 128, draw(st.integers(0, 255))])),
                       (draw(side), draw(side), draw(side), draw(side), draw(st.integers(1, 40))))
    kind = draw(st.sampled_from(["image"] * 5 + ["cut", "junk-after-header", "bytes", "empty"]))
    if kind == "cut":
        data = data[:draw(st.integers(0, len(data)))]
    elif kind == "junk-after-header":
        data = data[:draw(st.integers(8, 40))] + draw(st.binary(max_size=200))
    elif kind == "bytes":
        data = draw(st.binary(max_size=400))
    elif kind == "empty":
        data = b""
    ctype = draw(st.one_of(st.just(CONTENT_TYPES[fmt]), st.just(CONTENT_TYPES[fmt] + "; q=1"),
                           st.sampled_from(["image/png", "image/jpeg", "image/gif", "application/json",
                                            "", "IMAGE/PNG"])))
    return data, ctype


@FUZZ
@given(sent=image_requests())
def test_generated_images_get_a_prediction_or_a_json_refusal(client, sent):
    body_bytes, ctype = sent
    headers = {"content-type": ctype} if ctype else {}
    body, _ = request(client, "POST", "/api/predict", content=body_bytes, headers=headers)
    if body is not None and "error" not in body:
        assert len(body["probabilities"]) == 10 and len(body["input"]) == 28


# ----------------------------------------------------------------------------- the rest

@FUZZ
@given(name=st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s and "?" not in s
                                                    and "#" not in s),
       since=st.one_of(st.text(max_size=12), st.integers().map(str)),
       length=st.sampled_from([None, "abc", "-1", "99999999999999999999", "0", "1e3"]))
def test_other_endpoints_answer_generated_names_queries_and_headers(client, name, since, length):
    request(client, "GET", f"/api/run/files/{quote(name, safe='')}")
    request(client, "GET", "/api/model")
    request(client, "POST", "/api/train/use")
    request(client, "POST", "/api/train/stop")
    headers = {"content-type": "application/json"}
    if length is not None:
        headers["content-length"] = length
    try:
        request(client, "POST", "/api/train", content=b"{}", headers=headers)
    except Exception as e:                         # the client refusing to send a bad header
        assert type(e).__module__.startswith(("httpx", "h11")), e
    state = client.app_state
    if state["job"] is not None:
        with client.stream("GET", "/api/train/events", params={"since": since}) as s:
            assert s.status_code < 500
            if s.status_code == 200:
                stop_job(state)                     # the stream ends with the job
                for _ in s.iter_lines():
                    pass
            else:
                s.read()
                assert "error" in json.loads(s.text)
    stop_job(state)


def test_accepted_settings_never_make_the_real_job_fail(monkeypatch):
    """The settings TrainSettings accepts, on the real job (stopped after its first batch
    event): it ends finished, stopped or diverged, never 'failed' with an exception."""
    monkeypatch.setattr(webapp, "Job", Job)         # not the module's IdleJob
    app = webapp.create_app(webapp.Served(small_model(), "small"))
    accepted = st.fixed_dictionaries({}, optional={
        "network": st.sampled_from(["mlp", "cnn"]),
        "hidden": st.lists(st.integers(1, 256), max_size=4),
        "activation": st.sampled_from(["relu", "tanh", "sigmoid"]),
        "optimizer": st.sampled_from(["sgd", "momentum", "adam", "rmsprop"]),
        "lr": st.floats(1e-6, 10.0), "batch_size": st.integers(1, 128),
        "seed": st.integers(0, 2**31 - 1),
        "mistakes": st.lists(st.sampled_from(sorted(MISTAKES)), max_size=5)})

    @settings(max_examples=5, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(body=accepted)
    def run(body):
        with TestClient(app, base_url=LOCAL) as c:
            r = c.post("/api/train", json={**body, "data": "mnist-mini", "epochs": 1})
            assert r.status_code == 202, r.text
            job = app.state.gradwise["job"]
            job.stop()                              # it ends after its first batch
            job.join(60)
            assert not job.running, f"{body}: no batch within 60 s"
            end = job.events[-1]
            assert end["type"] == "end" and end["status"] != "failed", (body, end)

    run()
