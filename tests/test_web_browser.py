"""End to end in a real headless Chromium (Debian's package, driven by Playwright).

Draws a 1 and a 7 as mouse strokes on the page's canvas and reads the prediction; starts a
one-epoch run on mnist-mini with a mistake injected and waits for the curve and the
doctor's finding. Skipped, with the reason, where Chromium or Playwright is missing
(``.ci/run`` installs both). Set GRADWISE_SCREENSHOTS=DIR to keep the two screenshots.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason='the web extra is not installed (pip install -e ".[web]")')
uvicorn = pytest.importorskip("uvicorn", reason='the web extra is not installed (pip install -e ".[web]")')
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra)")

CHROMIUM = os.environ.get("GRADWISE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (Debian: apt-get "
                                 "install chromium; or set GRADWISE_CHROMIUM to its path)")]

# as the machine notes say: without the background-networking flags Chromium keeps trying
# to reach Google's servers, which a closed network refuses
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server():
    from gradwise.web.app import Served, create_app, quick_model
    app = create_app(Served(quick_model(), "quick model"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started:
        if time.time() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    job = app.state.gradwise["job"]
    if job is not None:
        job.stop()
        job.join(30)
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page, name, tmp_path):
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("GRADWISE_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)


def stroke(page, box, points):
    """One stroke through points given as fractions of the canvas."""
    xs = [box["x"] + fx * box["width"] for fx, _ in points]
    ys = [box["y"] + fy * box["height"] for _, fy in points]
    page.mouse.move(xs[0], ys[0])
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        for t in range(1, 11):
            page.mouse.move(x0 + (x1 - x0) * t / 10, y0 + (y1 - y0) * t / 10)
    page.mouse.up()


def predicted(page, previous=None) -> str:
    page.wait_for_function("p => { const c = document.getElementById('prediction').dataset.class;"
                           " return c !== '' && c !== p; }", arg=previous, timeout=10000)
    return page.get_attribute("#prediction", "data-class")


def test_draw_a_one_and_a_seven(server, page, tmp_path):
    page.goto(server + "/")
    page.wait_for_function("document.getElementById('model-name').textContent.includes('quick')")
    box = page.locator("#pad").bounding_box()
    stroke(page, box, [(0.5, 0.15), (0.5, 0.85)])                       # a 1: one stroke down
    assert predicted(page) == "1"
    page.click("#clear")
    stroke(page, box, [(0.25, 0.18), (0.75, 0.18), (0.42, 0.85)])      # a 7: across, then down-left
    assert predicted(page) == "7"
    assert page.locator("#bars > .bar").count() == 10
    assert page.locator("#activations canvas.strip").count() == 1
    assert page.locator("#examples canvas").count() == 6
    screenshot(page, "web-draw.png", tmp_path)


def test_learn_page_streams_a_run_with_an_injected_mistake(server, page, tmp_path):
    page.goto(server + "/learn")
    page.wait_for_selector("#mistakes input[value=unscaled]")
    page.fill("#epochs", "1")
    page.check("#mistakes input[value=unscaled]")
    page.click("#start")
    page.wait_for_function("Number(document.getElementById('loss-chart').dataset.points) > 5", timeout=30000)
    page.wait_for_selector("#findings li[data-code=INPUT_SCALE]", timeout=30000)
    page.wait_for_function("document.getElementById('status').textContent.startsWith('finished')",
                           timeout=60000)
    assert "INPUT_SCALE" in page.inner_text("#findings")
    tried = page.inner_text("#findings li[data-code=INPUT_SCALE] .tried")   # the fix, tried
    assert tried.startswith("Tried: standardise") and "(helped" in tried, tried
    assert page.is_visible("#sweep-chart") and "Use lr" in page.inner_text("#sweep-line")
    assert page.locator("#weights canvas").count() == 16
    assert "epoch 1" in page.inner_text("#epoch-line")
    assert page.is_enabled("#use")
    screenshot(page, "web-learn.png", tmp_path)


@pytest.mark.parametrize("field, typed, words", [
    ("#hidden", "64, abc", ["hidden", '"abc"']), ("#lr", "abc", ["lr", '"abc"']),
    ("#epochs", "", ["epochs", "empty"]),
])
def test_a_wrong_number_in_the_form_is_quoted_and_named(server, page, field, typed, words):
    """The form once sent "abc" as NaN, which JSON makes null: the page said "got None"."""
    page.goto(server + "/learn")
    page.wait_for_selector("#mistakes input[value=unscaled]")
    page.fill(field, typed)
    page.click("#start")
    page.wait_for_function("document.getElementById('status').className === 'error'", timeout=10000)
    message = page.inner_text("#status")
    assert all(w in message for w in words) and "None" not in message, message
