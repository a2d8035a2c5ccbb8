"""Notebook display: HTML tables for a Report, a model and a History, and a live plot.

Jupyter, VS Code and Colab show any object that has a ``_repr_html_`` method as HTML (the
IPython display protocol), so none of this needs a new dependency:

    report            # a table: severity, code (a link to its page), message, evidence, fix
    model             # the summary table
    history           # the numbers per epoch and the curves
    model.fit(X, y, callbacks=[gw.LivePlot()])    # callbacks.LivePlot: the curves, redrawn in place

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

#: Where the documentation site lives: each finding code links to ``DOCS_URL + "codes/CODE.html"``
#: (the site is built with plain .html names, so it also works from file://).
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
    return f"{DOCS_URL}codes/{code}.html"


# ----------------------------------------------------------------------------- the doctor

def report_html(report, fmt, *, new: set[str] | None = None) -> str:
    """A Report as a table, most important first; ``fmt`` writes an evidence value (the
    doctor's own formatting, passed in: this module imports nothing of the doctor);
    ``new``: codes to mark as just found."""
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
        evidence = "<br>".join(f"{html.escape(k)}={html.escape(fmt(v))}" for k, v in f.evidence.items())
        where = f"<br><small>{html.escape(f.where)}</small>" if f.where else ""
        fix = html.escape(f.fix)
        v = getattr(f, "verified", None)
        if v:                                      # the fix, tried on a copy: its outcome
            colour = "#2e7d32" if v.get("helped") else "#c62828"
            tried = (f"{v['fix']}: {v['metric']} {fmt(v['before'])} -> {fmt(v['after'])} "
                     f"({v['verdict']}, {v['steps']} steps)")
            fix += f'<br><small style="color:{colour}">tried: {html.escape(tried)}</small>'
        rows.append([severity, code + where, html.escape(f.message), evidence, fix])
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


def curves_html(history: dict) -> str:
    """The curves as an inline ``<img>`` (empty without matplotlib or an epoch)."""
    png = curves_png(history)
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
    return table(["epoch", *keys], rows) + (curves_html(history.history) if curves else "")


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


__all__ = ["HTML", "report_html", "curves_html", "summary_html", "history_html", "table", "code_url",
           "in_notebook", "DOCS_URL"]
