"""What the server checks before a request reaches the model: who may call, and what they send.

* Host names: the server answers only to the names of this machine it was told to listen
  on (a page of another site that points its own DNS name at 127.0.0.1, "DNS rebinding",
  gets 400).
* Same origin: a request that changes something (POST: predict, train, stop, use) is
  refused with 403 when a browser says a page of another site sent it (``Origin``, else
  ``Referer``, and ``Sec-Fetch-Site``). A request that carries none of those headers did
  not come from a web page (browsers send ``Origin`` with every POST, fetch and form alike):
  curl, a script, a test. It is answered: it could as well call the API directly, so
  refusing it would protect nothing and would break the command-line use of the API.
* Bodies: an image is what its first bytes say, not what its Content-Type says; JSON is
  refused before parsing when it nests deeper than any settings object does.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
EVERY_ADDRESS = ("0.0.0.0", "::", "")         # listening on all of this machine's addresses
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")     # read only: never refused for their origin
SAME_ORIGIN_FETCH = ("same-origin", "none")   # Sec-Fetch-Site: the page itself, or typed in
MAX_JSON_DEPTH = 8                            # settings nest 2 deep ({"hidden": [64]})


# ----------------------------------------------------------------------------- host names

def allowed_hosts(host: str) -> list[str]:
    """The Host header names the server answers to when listening on ``host``: this
    machine's local names, and the address it listens on (an IPv6 address in brackets, as
    a browser writes it). Listening on every address (0.0.0.0, ::), the machine's own name
    and addresses are added; a name outside these is reached with ``--host NAME``.

    >>> allowed_hosts("192.168.1.20")
    ['localhost', '127.0.0.1', '[::1]', '192.168.1.20']
    """
    names = list(LOCAL_HOSTS)
    bound = _machine_names() if host in EVERY_ADDRESS else [host]
    for name in bound:
        name = name.lower()
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"                                  # ::1 -> [::1], as in Host
        if name not in names:
            names.append(name)
    return names


class HostMiddleware:
    """Answers 400, naming the names it answers to, a request whose Host is none of
    ``allowed`` (a port after the name is ignored)."""

    def __init__(self, app: ASGIApp, allowed: list[str]) -> None:
        self.app, self.allowed = app, [name.lower() for name in allowed]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = Headers(scope=scope).get("host", "")
            if host_name(host) not in self.allowed:
                message = (f"refused: this server does not answer to the host name {host!r} "
                           f"(it answers to {', '.join(self.allowed)}); open the page by one of "
                           f"those, or start gradwise serve with --host NAME")
                await JSONResponse({"error": message}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[^:\[\]/@\s]+)(?::\d{1,5})?")


def host_name(host: str) -> str:
    """The name in a Host header, without its port: "[::1]:8000" -> "[::1]"; "" when the
    header is not a name and an optional port."""
    match = _HOST.fullmatch(host.strip().lower())
    return match.group(1) if match else ""


def _machine_names() -> list[str]:
    """This machine's host name, full name and the addresses they resolve to (a best effort:
    a machine without DNS still has its local names)."""
    names = ["0.0.0.0"]
    try:
        hostname = socket.gethostname()
        names += [hostname, socket.getfqdn()]
        names += [info[4][0] for info in socket.getaddrinfo(hostname, None)]
    except OSError:
        pass
    return [n.split("%")[0] for n in names if n]                # fe80::1%eth0 -> fe80::1


# ----------------------------------------------------------------------------- same origin

class SameOriginMiddleware:
    """Refuses (403) every request other than GET/HEAD/OPTIONS that a browser says a page of
    another site sent. Put it inside ``HostMiddleware``: the Host it compares the Origin with
    must already be one of the server's own names."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            refusal = cross_site(Headers(scope=scope), scope.get("scheme", "http"))
            if refusal is not None:
                await JSONResponse({"error": refusal}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def cross_site(headers: Headers, scheme: str) -> str | None:
    """Why this request looks sent by another site's page (the message for the 403), or None."""
    own = f"{scheme}://{headers.get('host', '')}"
    site = headers.get("sec-fetch-site")
    origin = headers.get("origin")
    if site is not None and site.lower() not in SAME_ORIGIN_FETCH:
        said = f"Sec-Fetch-Site: {site}"
    elif origin is not None:
        said = f"Origin: {origin}"
        if _origin(origin) == _origin(own):
            return None
    elif headers.get("referer") is not None:
        said = f"Referer: {headers['referer']}"
        if _origin(headers["referer"]) == _origin(own):
            return None
    else:
        return None                             # not sent by a web page: see the module doc
    return (f"refused: the browser says a page of another site sent this request ({said}); "
            f"only the pages served from {own} may predict, train, stop or use a model. "
            f"Open {own}/ and use the page there")


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a URL, the default port filled in; None when it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:                          # a port that is not a number
        return None
    if not parts.hostname or port is None:
        return None                             # "null": a sandboxed frame, a file:// page
    return parts.scheme.lower(), parts.hostname.lower(), port


# ----------------------------------------------------------------------------- bodies

@dataclass(frozen=True)
class ImageKind:
    name: str             # as a person says it: "PNG"
    media_type: str       # as Content-Type says it: "image/png"


PNG = ImageKind("PNG", "image/png")
JPEG = ImageKind("JPEG", "image/jpeg")
# the first bytes of each format (the formats' specifications); only PNG and JPEG are taken,
# the others are named so that the refusal can say what was sent
SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", ImageKind("GIF", "image/gif")), (b"GIF89a", ImageKind("GIF", "image/gif")),
    (b"II*\x00", ImageKind("TIFF", "image/tiff")), (b"MM\x00*", ImageKind("TIFF", "image/tiff")),
    (b"BM", ImageKind("BMP", "image/bmp")), (b"\x00\x00\x01\x00", ImageKind("ICO", "image/x-icon")),
    (b"qoif", ImageKind("QOI", "image/qoi")),
]
PNG_SIGNATURE = SIGNATURES[0][0]


def sniff_image(body: bytes) -> ImageKind | None:
    """The image format the bytes begin with (PNG, JPEG, GIF, WebP, ...); None if none known."""
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return ImageKind("WebP", "image/webp")
    if body[4:12] in (b"ftypavif", b"ftypheic"):
        return ImageKind("AVIF/HEIC", "image/avif")
    for signature, kind in SIGNATURES:
        if body.startswith(signature):
            return kind
    return None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(text: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest; brackets inside strings do not
    count. Read before parsing, so that a text nested thousands deep is refused instead of
    exhausting the parser's recursion.

    >>> json_depth(b'{"hidden": [64, 32], "data": "[["}')
    2
    """
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b'""', text)):
        depth += 1 if bracket in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest
