"""Where gradwise's messages go: the library logs, the application decides what to show.

Library modules write through ``logging.getLogger(__name__)`` (every logger is a child of
``"gradwise"``) and never print. The ``gradwise`` command calls ``to_stderr()``, so a
message such as the one that says which source served a data set appears on stderr as a
plain line::

    gradwise: mnist from /data/mnist ($GRADWISE_DATA)

In your own program, show the same lines with ``gradwise.logs.to_stderr()``, or route them
with the usual ``logging`` configuration (``logging.basicConfig(level=logging.INFO)``).
"""

from __future__ import annotations

import logging
import sys

LOGGER = "gradwise"


class StderrHandler(logging.StreamHandler):
    """A handler that writes each message to ``sys.stderr`` as it is *then* (a redirect, or
    pytest's capture, made after the handler was attached, still receives it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:          # StreamHandler.__init__ assigns one: ignored
        pass


def to_stderr(level: int = logging.INFO) -> logging.Handler:
    """Show gradwise's messages of ``level`` and above on stderr, each as its plain text.

    Calling it again changes the level and adds no second handler. Returns the handler
    (``logging.getLogger("gradwise").removeHandler(h)`` undoes it).
    """
    logger = logging.getLogger(LOGGER)
    handler = next((h for h in logger.handlers if isinstance(h, StderrHandler)), None)
    if handler is None:
        handler = StderrHandler()
        logger.addHandler(handler)
    logger.setLevel(level)
    return handler
