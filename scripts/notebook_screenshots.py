"""Screenshots of executed notebooks, for the documentation: run, render to HTML, photograph.

    python scripts/notebook_screenshots.py [--widgets-js DIR]

Executes examples/notebooks/01 and 02 with a real kernel (scripts/run_notebooks.py), renders
them to HTML with nbconvert, opens the pages in headless Chromium (playwright, as
tests/test_web_browser.py drives it) and writes docs/notebook-*.png: the training cell
(progress widgets, the live plot with the doctor's table under it) and a Report table.

The progress bars are ipywidgets; a static page draws them with the widget manager's
script, which nbconvert takes from a CDN. Offline, point --widgets-js at a folder holding
``html-manager/dist/embed-amd.js`` and ``requirejs/require.js`` (``npm pack
@jupyter-widgets/html-manager@1 requirejs@2`` and unpack them there); without it the bars
show as their text.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_notebooks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def to_html(executed: Path, widgets_js: Path | None) -> Path:
    from nbconvert import HTMLExporter
    exporter = HTMLExporter(template_name="lab")
    if widgets_js is not None:
        exporter.widget_renderer_url = (widgets_js / "html-manager" / "dist" / "embed-amd.js").as_uri()
        exporter.require_js_url = (widgets_js / "requirejs" / "require.js").as_uri()
    body, _ = exporter.from_filename(str(executed))
    out = executed.with_suffix(".html")
    out.write_text(body)
    return out


def cell(page, executed: Path, starts: str):
    """The rendered cell (input and output) whose source starts with ``starts``: nbconvert
    draws every cell, markdown too, as one ``.jp-Cell`` in notebook order."""
    import nbformat
    book = nbformat.read(executed, as_version=4)
    index = next(i for i, c in enumerate(book.cells) if c.source.startswith(starts))
    return page.locator(".jp-Cell").nth(index)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widgets-js", type=Path, help="folder with html-manager/ and requirejs/ (see above)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gradwise-notebook-shots"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    shutil.rmtree(args.work, ignore_errors=True)
    names = ["01_first_network_mnist.ipynb", "02_why_doesnt_my_network_learn.ipynb"]
    for name in names:
        run_notebooks.run(run_notebooks.NOTEBOOKS / name, args.work)
    pages = {name: to_html(args.work / name, args.widgets_js) for name in names}
    chromium = os.environ.get("GRADWISE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        for name, starts, png in ((names[0], "mon = doctor.Monitor()", "notebook-training.png"),
                                  (names[0], "history", "notebook-history.png"),
                                  (names[0], "model = gw.mlp", "notebook-model.png"),
                                  (names[1], "print(doctor.check_data(raw, y)", "notebook-report.png")):
            page.goto(pages[name].as_uri())
            page.wait_for_timeout(1500)                   # the widget manager draws the bars
            cell(page, args.work / name, starts).screenshot(path=str(DOCS / png))
            shots.append(png)
        browser.close()
    for png in shots:
        print(f"docs/{png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
