"""The web app: two pages (draw, learn) and the small JSON API behind them.

    GET  /                      the draw page            GET  /learn          the learn page
    GET  /static/NAME           the pages' own scripts and styles (nothing else)
    GET  /api/model             the served model: name, layers, classes
    POST /api/predict           body: a PNG or JPEG of the drawing (image/png, image/jpeg)
                                -> the 28x28 input as the model sees it, probabilities,
                                   hidden activations, training digits of the runner-up class
    GET  /api/run/files/NAME    a picture or record of the served run (curves.png, ...)
    POST /api/train             JSON settings -> starts the one training job (409 if one runs)
    GET  /api/train             the job's status
    GET  /api/train/events      its events as server-sent events (resumes at Last-Event-ID)
    POST /api/train/stop        asks it to stop after the current batch
    POST /api/train/use         serve the model it trained on the draw page

Every input is checked: the Host name (400) and, for a POST, that no page of another site
sent it (403; see ``guards``); body size (413), content type (415), JSON nesting, JSON and
settings (400/422), that an image is the PNG or JPEG its Content-Type says (415), image
size and decodability (422); event streams past the bound (503). Errors are JSON:
``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import data
from ..errors import DataError
from ..presets import mlp
from ..optim import Adam
from ..preprocess import decode_grayscale, mnist_style, model_input
from ..train import load_run
from .guards import (LOCAL_HOSTS, MAX_JSON_DEPTH, PNG_SIGNATURE, HostMiddleware,
                     SameOriginMiddleware, json_depth, sniff_image)
from .jobs import MISTAKES, Job, SettingsError, TrainSettings
from .streams import MAX_EVENT_STREAMS, EventStreams

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MAX_IMAGE_BYTES = 512 * 1024          # a 280x280 canvas as PNG is about 10 KB
MAX_IMAGE_PIXELS = 1024 * 1024
MAX_JSON_BYTES = 16 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")
RUN_FILE_TYPES = {".png": "image/png", ".json": "application/json", ".toml": "text/plain"}
MAX_RUN_FILE_BYTES = 32 * 1024 * 1024  # a run's curves.png is about 100 KB
EXAMPLES_PER_CLASS = 6
NO_SNIFF = {"X-Content-Type-Options": "nosniff"}   # a browser takes the type we say, no other


class Served:
    """The model on the draw page, what it was trained on, and a few training digits per class."""

    def __init__(self, model, name: str, run_dir: Path | None = None, data_dir=None) -> None:
        self.model, self.name = model, name
        self.run_dir = Path(run_dir).resolve() if run_dir is not None else None
        self.meta = getattr(model, "meta", None) or {}
        self.classes = [str(c) for c in self.meta.get("classes") or range(model.num_outputs())]
        self.examples = _examples(self.meta.get("data"), data_dir)

    def info(self) -> dict:
        return {"name": self.name, "data": self.meta.get("data"), "classes": self.classes,
                "layers": [repr(layer) for layer in self.model.layers],
                "files": sorted(p.name for p in self.run_dir.iterdir()
                                if self._servable(p.name)) if self.run_dir else []}

    def file(self, name: str) -> Path | None:
        """A regular, visible file directly in the run folder, of a kind the page shows; else
        None. A symbolic link is never one, wherever it points: a link named like a plot
        could lead anywhere on the machine."""
        if self.run_dir is None or any(c in name for c in "/\\\0") or name.startswith("."):
            return None
        path = self.run_dir / name
        try:
            regular = stat.S_ISREG(path.lstat().st_mode)      # lstat: the link, not its target
        except OSError:
            return None
        if path.suffix not in RUN_FILE_TYPES or not regular or path.resolve().parent != self.run_dir:
            return None
        return path

    def read_file(self, name: str) -> bytes:
        """The bytes of run file ``name`` (see ``file``), or LookupError saying why it is not
        served: not there, a link, too large, or a .png that is not a PNG."""
        path = self.file(name)
        if path is None:
            raise LookupError(f"no file {name!r} in the served run (only regular files, not "
                              f"links, of the kinds {', '.join(RUN_FILE_TYPES)} are served)")
        data = _read_regular(path, MAX_RUN_FILE_BYTES + 1, name)
        if len(data) > MAX_RUN_FILE_BYTES:
            raise LookupError(f"{name!r} in the served run is larger than the "
                              f"{MAX_RUN_FILE_BYTES:,} bytes served")
        _check_kind(name, path, data)
        return data

    def _servable(self, name: str) -> bool:
        """Whether ``read_file`` would serve it, by its first bytes (for the list of files)."""
        path = self.file(name)
        try:
            return path is not None and _check_kind(name, path, _read_regular(path, 16, name))
        except LookupError:
            return False


def _read_regular(path: Path, size: int, name: str) -> bytes:
    """At most ``size`` bytes of a regular file, opened without following a link: a link
    swapped in after ``Served.file`` looked is refused here (and a FIFO does not block)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise LookupError(f"{name!r} in the served run cannot be read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise LookupError(f"{name!r} in the served run is not a regular file")
        return f.read(size)


def _check_kind(name: str, path: Path, data: bytes) -> bool:
    """True if the file is what its name says (a .png begins as a PNG); else LookupError."""
    if path.suffix == ".png" and not data.startswith(PNG_SIGNATURE):
        kind = sniff_image(data)
        raise LookupError(f"{name!r} in the served run is not a PNG image (it is "
                          f"{'a ' + kind.name + ' image' if kind else 'no image'}; its first "
                          f"bytes are {data[:8]!r}): only PNG pictures are served as .png")
    return True


def _examples(data_name: str | None, data_dir) -> dict[int, list]:
    """A few training digits of each class (uint8 28x28 lists), from the embedded mnist-mini
    for MNIST models, from the local copy for others; none when there is no local copy."""
    name = "mnist-mini" if data_name in ("mnist", "mnist-mini", None) else data_name
    try:
        ds = data.load(name, data_dir=data_dir, download=False, quiet=True)
    except (data.DataError, ValueError):
        return {}
    if ds.X_train.shape[1:] not in ((28, 28), (784,)):           # not images: nothing to show
        return {}
    rng = np.random.default_rng(0)
    out = {}
    for c in np.unique(ds.y_train):
        members = np.flatnonzero(ds.y_train == c)
        idx = rng.choice(members, min(EXAMPLES_PER_CLASS, len(members)), replace=False)
        out[int(c)] = ds.X_train[idx].reshape(len(idx), 28, 28).astype(int).tolist()
    return out


def content_type(request: Request) -> str:
    """The media type of the body, without parameters such as charset."""
    return request.headers.get("content-type", "").split(";")[0].strip()


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is larger than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and not declared.isdigit():
        raise HTTPException(400, f"Content-Length must be a whole number; got {declared!r}")
    if declared is not None and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than the {limit:,} bytes allowed")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the body is larger than the {limit:,} bytes allowed")
    return bytes(body)


async def read_json(request: Request) -> dict:
    ctype = content_type(request)
    if ctype != "application/json":
        raise HTTPException(415, f"send JSON (Content-Type: application/json); got {ctype or 'none'}")
    body = await read_body(request, MAX_JSON_BYTES)
    depth = json_depth(body)
    if depth > MAX_JSON_DEPTH:                  # refused before the parser recurses that deep
        raise HTTPException(400, f"the JSON is nested {depth} levels deep; at most "
                                 f"{MAX_JSON_DEPTH} are read (settings need 2)")
    try:
        return json.loads(body or b"{}")
    except ValueError as e:     # JSONDecodeError, UnicodeDecodeError, a 5,000-digit number
        raise HTTPException(400, f"the body is not valid JSON ({e})") from None


def check_image(body: bytes, declared: str) -> JSONResponse | None:
    """The refusal when the body is not the PNG or JPEG its Content-Type says, else None:
    the format is read from the first bytes, never taken from the label."""
    kind = sniff_image(body)
    if kind is None:
        return error(422, f"the drawing is not an image the page takes: its first bytes "
                          f"{body[:8]!r} begin neither a PNG nor a JPEG; send a PNG")
    if kind.media_type != declared:
        taken = " or ".join(IMAGE_TYPES)
        return error(415, f"the drawing is a {kind.name} image but was sent as {declared}; "
                          f"send a PNG or JPEG ({taken}) labelled as what it is")
    return None


def forward_with_activations(model, x: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """Run one input through the model layer by layer; the output of each hidden activation
    layer (one with an ``activation``: the hidden representations) is kept, at most 256
    values each (channel means for images)."""
    acts = []
    for i, layer in enumerate(model.layers):
        x = layer.forward(x, training=False)
        if layer.activation is not None and i < len(model.layers) - 1:
            v = x[0] if x.ndim == 2 else x[0].mean(axis=(1, 2))     # (units,) or (channels,)
            acts.append({"layer": i, "kind": type(layer).__name__, "size": int(v.size),
                         "values": np.round(v[:256].astype(np.float64), 4).tolist()})
    return x, acts


def create_app(served: Served, *, data_dir=None, allowed_hosts: list[str] | None = None,
               max_event_streams: int = MAX_EVENT_STREAMS) -> Starlette:
    """The app for one served model (see ``load_served``).

    Args:
        allowed_hosts: the Host names answered (default: this machine's local names;
            ``gradwise serve`` adds the address it listens on, see ``allowed_hosts()``).
        max_event_streams: event streams open at once; one more is answered 503.
    """
    state = {"served": served, "job": None}
    lock = threading.Lock()
    streams = EventStreams(max_event_streams)

    async def page_draw(request):
        return FileResponse(STATIC / "draw.html")

    async def page_learn(request):
        return FileResponse(STATIC / "learn.html")

    async def model_info(request):
        return JSONResponse(state["served"].info())

    async def predict(request):
        ctype = content_type(request)
        if ctype not in IMAGE_TYPES:
            return error(415, f"send the drawing as {' or '.join(IMAGE_TYPES)}; got {ctype or 'none'}")
        body = await read_body(request, MAX_IMAGE_BYTES)
        if not body:
            return error(400, "the body is empty: send the drawing as a PNG")
        refusal = check_image(body, ctype)
        if refusal is not None:
            return refusal
        s = state["served"]
        try:
            gray = decode_grayscale(body, source="the drawing", max_pixels=MAX_IMAGE_PIXELS)
            digit = mnist_style(gray, source="the drawing")                  # (28, 28) uint8
        except DataError as e:
            return error(422, str(e))
        try:
            x = model_input(digit[None], s.meta)
            out, acts = await asyncio.to_thread(forward_with_activations, s.model, x)
        except ValueError as e:                   # a run of another kind (a toy set, say)
            return error(422, f"the served model does not take 28x28 images: {e}")
        proba = s.model.output_proba(out.astype(np.float64))[0]   # what predict_proba gives
        order = np.argsort(-proba)
        runner_up = int(order[1]) if len(order) > 1 else int(order[0])
        return JSONResponse({
            "input": digit.astype(int).tolist(),
            "probabilities": np.round(proba, 6).tolist(),
            "classes": s.classes,
            "predicted": int(order[0]), "label": s.classes[int(order[0])],
            "activations": acts,
            "runner_up": {"class": runner_up, "label": s.classes[runner_up],
                          "examples": s.examples.get(runner_up, [])},
        })

    async def run_file(request):
        name = request.path_params["name"]
        try:
            data = await asyncio.to_thread(state["served"].read_file, name)
        except LookupError as e:
            return error(404, str(e))
        return Response(data, media_type=RUN_FILE_TYPES[Path(name).suffix],
                        headers=NO_SNIFF)

    async def train_start(request):
        try:
            settings = TrainSettings.parse(await read_json(request))
        except SettingsError as e:
            return error(422, str(e))
        with lock:
            job = state["job"]
            if job is not None and job.running:
                return error(409, "a training run is already going; stop it (POST /api/train/stop) "
                                  "or wait for it to end: one run at a time")
            state["job"] = Job(settings, data_dir=data_dir).start()
        return JSONResponse({"status": "started", "settings": settings.__dict__}, status_code=202)

    async def train_status(request):
        job = state["job"]
        if job is None:
            return JSONResponse({"status": "idle", "mistakes": MISTAKES})
        return JSONResponse({"status": job.status, "events": len(job.events),
                             "settings": job.settings.__dict__, "mistakes": MISTAKES})

    async def train_stop(request):
        job = state["job"]
        if job is None or not job.running:
            return error(409, "no training run is going")
        job.stop()
        return JSONResponse({"status": "stopping"}, status_code=202)

    async def train_use(request):
        job = state["job"]
        if job is None or job.model is None:
            return error(409, "no finished training run to use; train one first")
        served = await asyncio.to_thread(Served, job.model, "trained on the learn page",
                                         None, data_dir)
        state["served"] = served
        return JSONResponse(served.info())

    async def train_events(request):
        job = state["job"]
        if job is None:
            return error(404, "no training run yet: POST /api/train starts one")
        start = request.headers.get("last-event-id") or request.query_params.get("since") or "0"
        if not start.isdigit():
            return error(400, f"since / Last-Event-ID must be a whole number; got {start!r}")
        return streams.response(job, int(start))

    async def http_error(request, exc):
        return error(exc.status_code, str(exc.detail))

    routes = [
        Route("/", page_draw), Route("/learn", page_learn),
        Route("/api/model", model_info),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/run/files/{name}", run_file),
        Route("/api/train", train_start, methods=["POST"]),
        Route("/api/train", train_status, methods=["GET"]),
        Route("/api/train/events", train_events),
        Route("/api/train/stop", train_stop, methods=["POST"]),
        Route("/api/train/use", train_use, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # outermost first: the Host is checked before the Origin is compared with it
    middleware = [Middleware(HostMiddleware, allowed=allowed_hosts or list(LOCAL_HOSTS)),
                  Middleware(SameOriginMiddleware)]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error},
                    middleware=middleware)
    app.state.gradwise = state
    return app


def load_served(run=None, *, runs_root=Path("runs"), data_dir=None,
                log: Callable[[str], None] = logger.info) -> Served:
    """The model to serve: the run folder given, else the newest run in ``runs/`` with a final
    model, else a small MLP trained on the embedded mnist-mini in a few seconds. ``log``
    receives the line that says which (by default, this module's logger at INFO)."""
    if run is not None:
        path = Path(run)
        model = load_run(path)
        return Served(model, path.name, path if path.is_dir() else None, data_dir)
    finished = sorted((p.parent for p in Path(runs_root).glob("*/model.npz")),
                      key=lambda p: p.stat().st_mtime)
    if finished:
        log(f"serving the most recent run: {finished[-1]}")
        return Served(load_run(finished[-1]), finished[-1].name, finished[-1], data_dir)
    log("no run in runs/: training a quick model on mnist-mini (a few seconds)...")
    return Served(quick_model(), "quick model", None, data_dir)


def quick_model(epochs: int = 8, seed: int = 0):
    """784-128-10 on the embedded mnist-mini: about 93% test accuracy in a few seconds."""
    ds = data.load("mnist-mini")
    model = mlp([784, 128, 10], seed=seed)
    model.meta = {"data": "mnist-mini", "classes": list(ds.classes),
                  "preprocessing": {"scale": "pixels / 255", "flatten": True}}
    model.fit(model_input(ds.X_train, model.meta), ds.y_train.astype(np.intp), epochs=epochs,
              batch_size=64, optimizer=Adam(1e-3), seed=seed, verbose=0)
    return model
