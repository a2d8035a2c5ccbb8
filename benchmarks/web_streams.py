"""Does an open event stream cost the web server a thread? Prediction time with N idle streams.

    python -m benchmarks.web_streams [--streams 60] [--predictions 20]

Starts the real server (uvicorn, loopback only, a free port), puts a training run on it that
has started and then sends nothing (so every stream on it is idle, waiting), opens N event
streams on /api/train/events as the learn page's EventSource does, and times predictions
of a drawn digit. When each stream held a worker thread, the predictions queued behind them:
30 streams made one take 4-5 s, 60 made it 9-10 s.
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import threading
import time
import urllib.request
from contextlib import contextmanager

import numpy as np

import gradwise as gw
from gradwise.web.app import Served, create_app
from gradwise.web.jobs import Job, TrainSettings

START_TIMEOUT_S = 20          # for the server to listen
STREAM_TIMEOUT_S = 10         # for one stream's response headers


class IdleJob(Job):
    """A training run that has started and then waits, sending nothing, until stopped."""

    def _run(self) -> None:
        self.status = "running"
        self.emit({"type": "start"})
        self._stop.wait()
        self.status = "stopped"
        self.emit({"type": "end", "status": "stopped", "message": "stopped"})


def small_model():
    """An untrained 784-128-10 MLP: the served model's size; its answers do not matter here."""
    model = gw.mlp([784, 128, 10], seed=0)
    model.meta = {"data": "mnist-mini", "classes": [str(i) for i in range(10)],
                  "preprocessing": {"scale": "pixels / 255", "flatten": True}}
    return model


def drawing() -> bytes:
    """A 280x280 PNG of a 1, as the draw page sends it."""
    from PIL import Image, ImageDraw
    im = Image.new("L", (280, 280), 255)
    ImageDraw.Draw(im).line([(140, 40), (140, 240)], fill=0, width=20)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@contextmanager
def running_server(app):
    """The app served by uvicorn on 127.0.0.1 at a free port; yields (host, port)."""
    import uvicorn
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(10)


def open_stream(host: str, port: int) -> tuple[socket.socket, int]:
    """One GET /api/train/events left open; returns the socket and the response's status."""
    sock = socket.create_connection((host, port), timeout=STREAM_TIMEOUT_S)
    sock.sendall(f"GET /api/train/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Accept: text/event-stream\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return sock, status


def refused_stream(host: str, port: int) -> tuple[int, str]:
    """One GET /api/train/events that the server is expected to refuse: its status and its
    whole reply, read until the server closes the connection (headers and body may come in
    one packet or several)."""
    sock = socket.create_connection((host, port), timeout=STREAM_TIMEOUT_S)
    try:
        sock.sendall(f"GET /api/train/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Accept: text/event-stream\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    finally:
        sock.close()
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0
    return status, reply.decode(errors="replace")


def time_predictions(host: str, port: int, n: int, body: bytes) -> list[float]:
    """Seconds each of n predictions took, one after another."""
    times = []
    for _ in range(n):
        req = urllib.request.Request(f"http://{host}:{port}/api/predict", data=body,
                                     headers={"Content-Type": "image/png"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
        times.append(time.perf_counter() - t0)
    return times


def measure(streams: int = 60, predictions: int = 20, **app_options) -> dict:
    """Prediction times (s) with no stream open and with ``streams`` idle streams open."""
    app = create_app(Served(small_model(), "benchmark"), **app_options)
    job = IdleJob(TrainSettings())
    app.state.gradwise["job"] = job.start()
    body = drawing()
    opened = []
    try:
        with running_server(app) as (host, port):
            time_predictions(host, port, 3, body)                            # warm up
            alone = time_predictions(host, port, predictions, body)
            statuses = []
            for _ in range(streams):
                sock, status = open_stream(host, port)
                opened.append(sock)
                statuses.append(status)
            time.sleep(0.5)                      # let every stream settle into its wait
            busy = time_predictions(host, port, predictions, body)
            for sock in opened:
                sock.close()
            opened.clear()
            job.stop()
            job.join(10)
    finally:
        for sock in opened:
            sock.close()
        job.stop()
    return {"streams": streams, "accepted": statuses.count(200), "alone": alone, "with_streams": busy}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=60, help="idle event streams to hold open")
    parser.add_argument("--predictions", type=int, default=20, help="predictions to time")
    args = parser.parse_args(argv)
    r = measure(args.streams, args.predictions)
    ms = lambda ts: f"median {1e3 * statistics.median(ts):.1f} ms, max {1e3 * max(ts):.1f} ms"  # noqa: E731
    print(f"predictions, no stream open:          {ms(r['alone'])}")
    print(f"predictions, {r['accepted']} of {r['streams']} streams open: {ms(r['with_streams'])}")
    print(f"(numpy {np.__version__}, {len(r['with_streams'])} predictions each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
