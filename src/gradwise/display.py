"""Notebook display: HTML tables for a Report, a model and a History, and a live plot.

Jupyter, VS Code and Colab show any object that has a ``_repr_html_`` method as HTML (the
IPython display protocol), so none of this needs a new dependency:

    report            # a table: severity, code (a link to its page), message, evidence, fix
    model             # the summary table
    history           # the numbers per epoch and the curves
    model.fit(X, y, callbacks=[gw.LivePlot()])    # the curves redrawn in place every epoch

The curves are drawn with matplotlib's object-oriented ``Figure`` (never pyplot, so a
notebook's own plotting backend is left alone); without the ``plot`` extra they are left
out and the tables stay.
"""

from __future__ import annotations

import base64
import html
import io
import os
import sys
from pathlib import Path

from .callbacks import Callback

#: Where the documentation site lives: each finding code links to ``DOCS_URL + "codes/CODE/"``.
#: ``$GRADWISE_DOCS_URL`` points the links at another copy (``mkdocs serve``: http://127.0.0.1:8000/).
DOCS_URL = os.environ.get("GRADWISE_DOCS_URL", "https://gradwise.readthedocs.io/en/latest/")

_SEVERITY_COLOURS = {"error": "#c62828", "warning": "#ef6c00", "info": "#546e7a"}
_TABLE = ('<table style="border-collapse:collapse;font-size:13px;text-align:left">'
          '<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
_CELL = '<{tag} style="border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top">{text}</{tag}>'


def table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table; the cells are HTML already (escape text with ``html.escape`` first)."""
    head = "".join(_CELL.format(tag="th", text=html.escape(h)) for h in header)
    body = "".join("<tr>" + "".join(_CELL.format(tag="td", text=c) for c in row) + "</tr>"
                   for row in rows)
    return _TABLE.format(head=head, body=body)


def code_url(code: str) -> str:
    """The documentation page of a finding code."""
    return f"{DOCS_URL}codes/{code}/"


# ----------------------------------------------------------------------------- the doctor

def report_html(report, *, new: set[str] | None = None) -> str:
    """A Report as a table, most important first; ``new``: codes to mark as just found."""
    from .doctor.findings import _fmt
    headline = html.escape(str(report).split("\n", 1)[0])
    if not report.findings:
        return f"<p><b>{headline}</b></p>"
    rows = []
    for f in report.findings:
        colour = _SEVERITY_COLOURS[f.severity]
        severity = f'<b style="color:{colour}">{f.severity.upper()}</b>'
        code = f'<a href="{html.escape(code_url(f.code))}" target="_blank"><code>{f.code}</code></a>'
        if new and f.code in new:
            code += ' <span style="color:#c62828">(new)</span>'
        evidence = "<br>".join(f"{html.escape(k)}={html.escape(_fmt(v))}" for k, v in f.evidence.items())
        where = f"<br><small>{html.escape(f.where)}</small>" if f.where else ""
        rows.append([severity, code + where, html.escape(f.message), evidence, html.escape(f.fix)])
    return (f"<p><b>{headline}</b></p>"
            + table(["severity", "code", "message", "evidence", "fix"], rows))


# ----------------------------------------------------------------------------- the model

def summary_html(model) -> str:
    """``Sequential.summary()`` as a table: index, layer, parameters, and the total."""
    rows = [[str(i), f"<code>{html.escape(repr(layer))}</code>",
             f"{sum(p.size for p in layer.params.values()):,}"] for i, layer in enumerate(model.layers)]
    rows.append(["", "<b>total</b>", f"<b>{model.num_params():,}</b>"])
    return table(["#", "layer", "params"], rows)


# ----------------------------------------------------------------------------- the history

def curves_png(history: dict) -> bytes | None:
    """The loss and accuracy curves (``plots.curves_figure``) as PNG bytes; None without
    matplotlib or without an epoch to draw."""
    from . import plots
    if not plots.available() or not history.get("loss"):
        return None
    buf = io.BytesIO()
    plots.curves_figure(history).savefig(buf, format="png", dpi=80, bbox_inches="tight")
    return buf.getvalue()


def _img(png: bytes | None) -> str:
    if png is None:
        return ""
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="training curves">'


def history_html(history, *, curves: bool = True) -> str:
    """A History as a table (one row per epoch) and, with matplotlib, its curves."""
    keys = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "time") if k in history]
    rows = []
    for i, epoch in enumerate(history.epoch):
        row = [str(epoch + 1)]
        for k in keys:
            v = history[k][i]
            row.append(f"{100 * v:.2f}%" if "accuracy" in k else f"{v:.2e}" if k == "lr"
                       else f"{v:.1f}s" if k == "time" else f"{v:.4f}")
        rows.append(row)
    if not rows:
        return "<p>History: no epoch finished yet.</p>"
    return table(["epoch", *keys], rows) + (_img(curves_png(history.history)) if curves else "")


# ----------------------------------------------------------------------------- live plot

class HTML:
    """Text that IPython displays as HTML (what ``IPython.display.HTML`` does, without
    importing IPython to make one)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return "HTML(...)"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (Jupyter, VS Code, Colab), False in a terminal or script."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    ip = get() if get else None
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class LivePlot(Callback):
    """The loss and accuracy curves, redrawn in place after every epoch.

    In a notebook the figure is one output that is updated (IPython's ``display_id``), with
    the doctor's findings under it when a Monitor is given; in a terminal or a script the
    curves are written to ``path`` instead, every epoch, and the path is printed at the end.

    Args:
        path: the PNG written outside a notebook.
        doctor: a ``doctor.Monitor`` in the same ``fit``'s callbacks, placed before this one:
            its report is shown under the curves, codes found since the last epoch marked new.
        display: ``display(obj, display_id=True) -> handle`` with ``handle.update(obj)``
            (default ``IPython.display.display``; tests pass a fake).
        notebook: force the notebook or the terminal behaviour (default: detected).

    Example::

        mon = doctor.Monitor()
        model.fit(X, y, epochs=5, callbacks=[mon, gw.LivePlot(doctor=mon)])
    """

    def __init__(self, path="curves.png", *, doctor=None, display=None,
                 notebook: bool | None = None) -> None:
        self.path, self.doctor, self.display, self.notebook = Path(path), doctor, display, notebook
        self.handle = None
        self.history: dict[str, list[float]] = {}
        self.seen: set[str] = set()

    def on_train_begin(self, logs):
        self.history, self.seen, self.handle = {}, set(), None
        if self.notebook is None:
            self.notebook = in_notebook()
        if self.notebook and self.display is None:
            from IPython.display import display
            self.display = display

    def on_epoch_end(self, epoch, logs):
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)
        if self.notebook:
            self._show()
        else:
            from . import plots
            if plots.available():
                plots.training_curves(self.history, self.path)

    def on_train_end(self, logs):
        if not self.notebook and self.history.get("loss"):
            from . import plots
            if plots.available():
                print(f"curves: {self.path}", file=sys.stdout, flush=True)

    def _show(self) -> None:
        parts = [_img(curves_png(self.history))]
        if self.doctor is not None:
            report = self.doctor.report()
            codes = set(report.codes())
            first = len(self.history["loss"]) == 1              # after epoch 1 every code is new
            parts.append(report_html(report, new=None if first else codes - self.seen))
            self.seen |= codes
        content = HTML("".join(parts))
        if self.handle is None:
            self.handle = self.display(content, display_id=True)
        else:
            self.handle.update(content)


__all__ = ["LivePlot", "report_html", "summary_html", "history_html", "table", "code_url",
           "in_notebook", "DOCS_URL"]
