"""The learn job's events as server-sent events: no thread per stream, and a bound on streams.

A stream is an async generator on the server's event loop. It sends the events it has not
sent yet, then waits on an ``asyncio.Event`` that the job sets, from its training thread,
each time it appends one (``Job.add_listener``). An idle stream is a suspended coroutine and
a socket: it holds no worker thread, so any number of them leave the thread pool to the
predictions (when each one waited in a thread of its own, 30 open streams made a prediction
queue 4-5 s). The number of open streams is still bounded, since each holds a socket (a
file descriptor) for as long as the page stays open; one past the bound is answered 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from .jobs import Job

MAX_EVENT_STREAMS = 64     # a handful of learn-page tabs need a handful; far below the 1024
                           # file descriptors a process gets by default
KEEPALIVE_S = 15.0         # an idle stream sends a comment this often: proxies and browsers
                           # keep it open, and a page that has gone is noticed


class EventStreams:
    """Opens event streams on a job, at most ``limit`` at once (per app, on its event loop)."""

    def __init__(self, limit: int = MAX_EVENT_STREAMS) -> None:
        if limit < 1:
            raise ValueError(f"max_event_streams must be at least 1; got {limit}")
        self.limit = limit
        self.open = 0

    def response(self, job: Job, start: int) -> Response:
        """The events of ``job`` from number ``start`` on, or a 503 when ``limit`` are open."""
        if self.open >= self.limit:
            return JSONResponse(
                {"error": f"{self.limit} event streams are open already, the most this server "
                          f"keeps (each is a learn page following the run); close a learn-page "
                          f"tab you no longer watch, then reload"},
                status_code=503, headers={"Retry-After": "5"})
        self.open += 1                  # on the event loop: no other handler runs meanwhile
        return _EventStreamResponse(follow(job, start), release=self._release)

    def _release(self) -> None:
        self.open -= 1


class _EventStreamResponse(StreamingResponse):
    """A text/event-stream response that gives its place back however it ends: the run
    ended, the page went away (Starlette cancels the stream), or the server stops."""

    def __init__(self, content: AsyncIterator[str], *, release: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


async def follow(job: Job, start: int, keepalive: float = KEEPALIVE_S) -> AsyncIterator[str]:
    """Each event of ``job`` from number ``start`` on, as an SSE message ``id: N`` (so that a
    page that reconnects resumes with Last-Event-ID), until the "end" event."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()

    def wake() -> None:                         # called by job.emit, in the training thread
        try:
            loop.call_soon_threadsafe(changed.set)
        except RuntimeError:                    # the loop has closed: the server stopped
            pass

    job.add_listener(wake)
    try:
        i = start
        while True:
            changed.clear()                     # before reading: an event after it wakes us
            while i < len(job.events):
                text, kind = job.texts[i], job.events[i]["type"]
                i += 1
                yield f"id: {i}\ndata: {text}\n\n"
                if kind == "end":
                    return
            if not job.running and i >= len(job.events):
                return                          # ended without an end event: do not hang
            try:
                await asyncio.wait_for(changed.wait(), keepalive)
            except asyncio.TimeoutError:       # TimeoutError itself from Python 3.11 on
                yield ": still here\n\n"        # a comment keeps the connection open
    finally:
        job.remove_listener(wake)
