"""``gradwise serve``: a local web page to draw a digit and watch a network learn.

Needs the optional extra: ``pip install "gradwise[web]"`` (Starlette and uvicorn). The page
and its scripts are files in ``static/``, served by the app itself: it works offline.
"""

from __future__ import annotations

import logging
import socket

from ..errors import GradwiseError

DEFAULT_PORT = 8000
logger = logging.getLogger(__name__)


def serve(run=None, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, data_dir=None,
          log=print) -> None:
    """Serve the draw and learn pages until Ctrl-C.

    ``log`` shows the person at the terminal which model is served and where (``print``:
    ``gradwise serve`` shows it on stdout); the warning about a public ``host`` is logged
    (logger ``gradwise.web``). The server answers only to the Host names ``allowed_hosts(host)``
    gives: this machine's local names and ``host`` itself.
    """
    try:
        import uvicorn

        from .app import create_app, load_served
        from .guards import allowed_hosts
    except ImportError as e:
        raise ImportError(f"gradwise serve needs the web extra ({e.name} is missing): "
                          f'pip install "gradwise[web]"') from None
    local = host in ("127.0.0.1", "localhost", "::1")
    hosts = allowed_hosts(host)
    if not local:
        logger.warning("gradwise serve: warning: listening on %s: anyone who can reach this "
                       "machine can use the page and start training runs on it (it answers "
                       "to the names %s; another name needs --host NAME)", host, ", ".join(hosts))
    _check_port_free(host, port)
    served = load_served(run, data_dir=data_dir, log=log)
    app = create_app(served, data_dir=data_dir, allowed_hosts=hosts)
    shown = "127.0.0.1" if host == "0.0.0.0" else host
    log(f"gradwise serve: {served.name} on http://{shown}:{port}/  (learn: /learn; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)     # as uvicorn does
        try:
            s.bind((host, port))
        except OSError as e:
            raise GradwiseError(f"cannot listen on {host}:{port} ({e.strerror}); is another "
                                f"gradwise serve running? pick a free port with --port") from None
