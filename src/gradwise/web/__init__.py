"""``gradwise serve``: a local web page to draw a digit and watch a network learn.

Needs the optional extra: ``pip install "gradwise[web]"`` (Starlette and uvicorn). The page
and its scripts are files in ``static/``, served by the app itself: it works offline.
"""

from __future__ import annotations

import warnings

DEFAULT_PORT = 8000


def serve(run=None, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, data_dir=None,
          log=print) -> None:
    """Serve the draw and learn pages until Ctrl-C."""
    try:
        import uvicorn

        from .app import LOCAL_HOSTS, create_app, load_served
    except ImportError as e:
        raise ImportError(f"gradwise serve needs the web extra ({e.name} is missing): "
                          f'pip install "gradwise[web]"') from None
    local = host in ("127.0.0.1", "localhost", "::1")
    if not local:
        warnings.warn(f"serving on {host}: anyone who can reach this machine can use the page "
                      f"and start training runs on it", stacklevel=2)
    served = load_served(run, data_dir=data_dir, log=log)
    app = create_app(served, data_dir=data_dir, allowed_hosts=LOCAL_HOSTS if local else ["*"])
    shown = "127.0.0.1" if host == "0.0.0.0" else host
    log(f"gradwise serve: {served.name} on http://{shown}:{port}/  (learn: /learn; Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
