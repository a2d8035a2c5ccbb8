"""The web server against a hostile caller (issue #16): each test is one thing that went wrong.

Idle event streams that starved predictions of threads, cross-site POSTs, a host name kept
for the tests, a symlink served from a run folder, a GIF taken for a PNG, JSON nested
8,000 deep, and a form message that said "got None". The streams are tried on a real
uvicorn server (loopback, a free port); the rest with Starlette's test client.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import time

import numpy as np
import pytest

pytest.importorskip("starlette", reason='the web extra is not installed (pip install -e ".[web]")')
pytest.importorskip("uvicorn", reason='the web extra is not installed (pip install -e ".[web]")')
pytest.importorskip("httpx2", reason="the test client needs httpx2 (the dev extra)")

from PIL import Image, ImageDraw  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from benchmarks.web_streams import (IdleJob, measure, open_stream, refused_stream,  # noqa: E402
                                    running_server, small_model)
from gradwise.web import app as webapp  # noqa: E402
from gradwise.web import guards  # noqa: E402
from gradwise.web.jobs import TrainSettings  # noqa: E402

LOCAL = "http://127.0.0.1:8000"          # the address the test client says it calls


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture
def app(model):
    return webapp.create_app(webapp.Served(model, "small"))


@pytest.fixture
def client(app):
    with TestClient(app, base_url=LOCAL) as c:
        yield c
        job = app.state.gradwise["job"]
        if job is not None:
            job.stop()
            job.join(30)


def image(fmt: str, mode: str = "L") -> bytes:
    im = Image.new(mode, (280, 280), 255)
    ImageDraw.Draw(im).line([(140, 40), (140, 240)], fill=0, width=20)
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


# ----------------------------------------------------------------------------- event streams

@pytest.mark.slow
def test_sixty_idle_event_streams_leave_predictions_fast():
    """Each stream used to hold a worker thread: 60 made a prediction take 9-10 s. The bound
    is generous (the benchmark measures a few ms); a shared, loaded machine stays under it."""
    r = measure(streams=60, predictions=10)
    assert r["accepted"] == 60
    assert statistics.median(r["with_streams"]) < 0.5, r["with_streams"]
    assert max(r["with_streams"]) < 2.0, r["with_streams"]


def test_event_streams_past_the_limit_are_refused_and_a_closed_one_frees_its_place(model):
    app = webapp.create_app(webapp.Served(model, "small"), max_event_streams=2)
    job = app.state.gradwise["job"] = IdleJob(TrainSettings()).start()
    socks = []
    try:
        with running_server(app) as (host, port):
            for _ in range(2):
                sock, status = open_stream(host, port)
                socks.append(sock)
                assert status == 200
            status, reply = refused_stream(host, port)
            assert status == 503
            message = json.loads(reply[reply.index("{"):])["error"]
            assert "2 event streams" in message and "close" in message, message
            socks.pop().close()                                   # a tab closed: its place is free
            deadline = time.monotonic() + 10
            while True:
                sock, status = open_stream(host, port)
                socks.append(sock)
                if status == 200 or time.monotonic() > deadline:
                    break
                socks.pop().close()
                time.sleep(0.1)
            assert status == 200
            for sock in socks:
                sock.close()
            job.stop()
            job.join(10)
    finally:
        for sock in socks:
            sock.close()
        job.stop()


def test_a_stream_wakes_on_each_new_event_and_ends_with_the_run(client, app):
    """No thread polls for events: the job's emit wakes the stream, which ends with the run."""
    job = app.state.gradwise["job"] = IdleJob(TrainSettings()).start()
    seen = []
    with client.stream("GET", "/api/train/events") as s:
        for line in s.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:])["type"])
                if seen == ["start"]:
                    job.stop()
    assert seen == ["start", "end"]


# ----------------------------------------------------------------------------- same origin

POSTS = [("/api/predict", {"content": b"x", "headers": {"content-type": "image/png"}}),
         ("/api/train", {"json": {"epochs": 1}}),
         ("/api/train/stop", {}), ("/api/train/use", {})]


@pytest.mark.parametrize("path, body", POSTS)
@pytest.mark.parametrize("headers", [
    {"origin": "http://evil.example"}, {"origin": "null"}, {"origin": "http://127.0.0.1:9999"},
    {"origin": "https://127.0.0.1:8000"}, {"referer": "http://evil.example/page.html"},
    {"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"},
    {"origin": "http://127.0.0.1:8000", "sec-fetch-site": "cross-site"},
])
def test_a_post_from_another_site_is_refused(client, path, body, headers):
    extra = body.get("headers", {})
    r = client.post(path, **{**body, "headers": {**extra, **headers}})
    assert r.status_code == 403, (path, headers, r.text)
    assert "another site" in r.json()["error"] and "127.0.0.1:8000" in r.json()["error"]
    assert client.get("/api/train").json()["status"] == "idle"            # nothing started


@pytest.mark.parametrize("headers", [
    {"origin": "http://127.0.0.1:8000"}, {"referer": "http://127.0.0.1:8000/learn"},
    {"origin": "http://127.0.0.1:8000", "sec-fetch-site": "same-origin"},
    {"sec-fetch-site": "none"}, {},                                        # typed / curl: no page
])
def test_a_post_from_the_page_itself_or_no_page_is_answered(client, headers):
    r = client.post("/api/train/stop", headers=headers)
    assert r.status_code == 409 and "no training run" in r.json()["error"]


def test_reads_from_another_origin_are_not_refused(client):
    assert client.get("/api/model", headers={"origin": "http://evil.example"}).status_code == 200


# ----------------------------------------------------------------------------- host names

def test_testserver_is_not_a_host_name_the_product_answers(model):
    app = webapp.create_app(webapp.Served(model, "small"))
    with TestClient(app) as c:                                  # Host: testserver
        r = c.get("/api/model")
        assert r.status_code == 400
        assert "'testserver'" in r.json()["error"] and "--host" in r.json()["error"]
    app_for_tests = webapp.create_app(webapp.Served(model, "small"), allowed_hosts=["testserver"])
    with TestClient(app_for_tests) as c:                        # only when a test says so
        assert c.get("/api/model").status_code == 200


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1", "[::1]:8000", "LocalHost"])
def test_local_names_are_answered(client, host):
    assert client.get("/api/model", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "[::2]:8000", "localhost:8000:1",
                                  "", "[::1", "0.0.0.0:8000"])
def test_other_names_are_not(client, host):
    r = client.get("/api/model", headers={"host": host})
    assert r.status_code == 400 and "does not answer to the host name" in r.json()["error"]


def test_the_hosts_answered_are_the_bound_address_and_local_names():
    local = {"localhost", "127.0.0.1", "[::1]"}
    assert set(guards.allowed_hosts("127.0.0.1")) == local
    assert set(guards.allowed_hosts("::1")) == local
    assert set(guards.allowed_hosts("192.168.1.20")) == local | {"192.168.1.20"}
    assert set(guards.allowed_hosts("fe80::1")) == local | {"[fe80::1]"}
    assert set(guards.allowed_hosts("gradwise.lan")) == local | {"gradwise.lan"}
    assert "*" not in guards.allowed_hosts("0.0.0.0")
    assert "testserver" not in guards.allowed_hosts("0.0.0.0")


def test_serve_on_an_address_answers_to_it_and_the_local_names_only(monkeypatch, model):
    """Listening on another address once meant answering to any host name at all."""
    import uvicorn

    from gradwise import web
    seen = {}
    monkeypatch.setattr(web, "_check_port_free", lambda host, port: None)
    monkeypatch.setattr(webapp, "load_served", lambda run, **kw: webapp.Served(model, "small"))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    web.serve(host="192.168.1.20", port=8123, log=lambda line: None)
    assert seen["host"] == "192.168.1.20"
    with TestClient(seen["app"], base_url="http://192.168.1.20:8123") as c:
        assert c.get("/api/model").status_code == 200
        assert c.get("/api/model", headers={"host": "localhost:8123"}).status_code == 200
        assert c.get("/api/model", headers={"host": "evil.example"}).status_code == 400


# ----------------------------------------------------------------------------- run files

@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_a_symlink_in_the_run_folder_is_not_served(model, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "curves.png").write_bytes(image("PNG"))
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    (run / "loss.png").symlink_to(secret)                         # outside the folder
    (run / "again.png").symlink_to(run / "curves.png")            # inside, still a link
    (run / "folder.png").mkdir()
    with TestClient(webapp.create_app(webapp.Served(model, "run", run)), base_url=LOCAL) as c:
        assert c.get("/api/model").json()["files"] == ["curves.png"]
        assert c.get("/api/run/files/curves.png").status_code == 200
        for name in ("loss.png", "again.png", "folder.png"):
            r = c.get(f"/api/run/files/{name}")
            assert r.status_code == 404, name
            assert "root:x" not in r.text
            assert name in r.json()["error"]


def test_a_run_file_named_png_that_is_not_a_png_is_not_served(model, tmp_path):
    (tmp_path / "curves.png").write_bytes(b"<html><script>alert(1)</script>")
    (tmp_path / "photo.png").write_bytes(image("GIF"))
    with TestClient(webapp.create_app(webapp.Served(model, "run", tmp_path)), base_url=LOCAL) as c:
        assert c.get("/api/model").json()["files"] == []
        r = c.get("/api/run/files/photo.png")
        assert r.status_code == 404 and "not a PNG" in r.json()["error"], r.text


def test_run_files_are_sent_with_nosniff(model, tmp_path):
    (tmp_path / "curves.png").write_bytes(image("PNG"))
    with TestClient(webapp.create_app(webapp.Served(model, "run", tmp_path)), base_url=LOCAL) as c:
        r = c.get("/api/run/files/curves.png")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.content == (tmp_path / "curves.png").read_bytes()


# ----------------------------------------------------------------------------- image formats

@pytest.mark.parametrize("fmt, declared, named", [
    ("GIF", "image/png", "GIF"), ("BMP", "image/png", "BMP"), ("WEBP", "image/png", "WebP"),
    ("TIFF", "image/jpeg", "TIFF"), ("JPEG", "image/png", "JPEG"), ("PNG", "image/jpeg", "PNG"),
])
def test_an_image_is_taken_for_what_its_bytes_say_not_its_label(client, fmt, declared, named):
    r = client.post("/api/predict", content=image(fmt), headers={"content-type": declared})
    assert r.status_code == 415, (fmt, declared, r.text)
    message = r.json()["error"]
    assert named in message and declared in message, message
    assert client.post("/api/predict", content=image("PNG"),
                       headers={"content-type": "image/png"}).status_code == 200


# ----------------------------------------------------------------------------- JSON bodies

@pytest.mark.parametrize("body", [
    b"[" * 8000 + b"]" * 8000,
    b'{"hidden": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"a": ' * 2000 + b"1" + b"}" * 2000,
])
def test_deeply_nested_json_is_a_400_not_a_crash(client, body):
    assert len(body) <= webapp.MAX_JSON_BYTES
    r = client.post("/api/train", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert "nested" in r.json()["error"] and str(webapp.MAX_JSON_DEPTH) in r.json()["error"]


def test_brackets_inside_strings_are_not_nesting(client):
    r = client.post("/api/train", content=json.dumps({"data": "[[[[" * 1000}).encode(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "data" in r.json()["error"]


def test_a_number_too_long_to_read_is_a_400(client):
    r = client.post("/api/train", content=b'{"epochs": ' + b"9" * 5000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"], r.text


# ----------------------------------------------------------------------------- form messages

@pytest.mark.parametrize("body, words", [
    ({"hidden": [64, "abc"]}, ['hidden', '"abc"']), ({"lr": "abc"}, ['lr', '"abc"']),
    ({"epochs": ""}, ["epochs", "empty"]), ({"batch_size": None}, ["batch_size", "null"]),
    ({"lr": "1e-3"}, ["lr", '"1e-3"', "not a string"]),
])
def test_a_wrong_setting_is_quoted_as_typed_and_named(client, body, words):
    r = client.post("/api/train", json=body)
    assert r.status_code == 422
    message = r.json()["error"]
    assert all(w in message for w in words) and "None" not in message, message
