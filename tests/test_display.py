"""Notebook display without a kernel: the HTML each object gives IPython, and LivePlot with a
fake display (what IPython's ``display(obj, display_id=True)`` and ``handle.update`` do)."""

import pytest

import gradwise as gw
from gradwise import display, doctor
from gradwise.doctor.findings import Finding, Report


def test_a_report_is_a_table_whose_codes_link_to_their_pages():
    report = Report([Finding("INPUT_SCALE", "error", "values are <large>", {"p99_abs": 254.0},
                             "divide by 255", "X_train"),
                     Finding("LEARNING", "info", "the run learns", {})])
    page = report._repr_html_()
    assert page.count("<tr>") == 3                                   # header + two findings
    assert "<th" in page and ">severity<" in page and ">fix<" in page
    assert f'href="{display.DOCS_URL}codes/INPUT_SCALE.html"' in page
    assert "ERROR" in page and "p99_abs=254" in page and "divide by 255" in page and "X_train" in page
    assert "&lt;large&gt;" in page and "<large>" not in page            # text is escaped
    assert page.index("INPUT_SCALE") < page.index("LEARNING")


def test_a_healthy_report_says_so():
    assert "no problems found" in Report([])._repr_html_()
    assert "<table" not in Report([])._repr_html_()


def test_a_model_shows_its_summary_table():
    model = gw.mlp([4, 3, 2], seed=0)
    page = model._repr_html_()
    assert "Dense(4, 3)" in page and "ReLU()" in page and ">23<" in page     # 4*3+3 + 3*2+2
    assert "total" in page


def test_a_history_shows_its_epochs_and_plots():
    h = gw.History()
    assert "no epoch" in h._repr_html_()
    with pytest.raises(ValueError, match="no epoch"):
        h.plot()
    for e, (loss, acc) in enumerate([(1.0, 0.5), (0.5, 0.8)]):
        h.on_epoch_end(e, {"loss": loss, "accuracy": acc, "time": 0.1})
    page = h._repr_html_()
    assert page.count("<tr>") == 3 and "80.00%" in page and "0.5000" in page
    pytest.importorskip("matplotlib")
    assert 'src="data:image/png;base64,' in page
    fig = h.plot()
    assert len(fig.axes) == 2


class FakeDisplay:
    """Records what LivePlot shows: one display call, then updates of the same output."""

    def __init__(self):
        self.calls = []

    def __call__(self, obj, display_id=None):
        assert display_id is True
        self.calls.append(("display", obj._repr_html_()))
        return self

    def update(self, obj):
        self.calls.append(("update", obj._repr_html_()))


def _blobs():
    ds = gw.data.load("blobs")
    return ds.X_train, ds.y_train


def test_liveplot_redraws_one_output_in_place_with_the_doctors_findings():
    pytest.importorskip("matplotlib")
    X, y = _blobs()
    fake, mon = FakeDisplay(), doctor.Monitor(every=1)
    X = X * 300.0                                       # a finding for the table: INPUT_SCALE
    gw.mlp([2, 8, 3], seed=0).fit(X, y, epochs=3, batch_size=32, verbose=0, seed=0,
                                  callbacks=[mon, gw.LivePlot(doctor=mon, display=fake, notebook=True)])
    assert [c[0] for c in fake.calls] == ["display", "update", "update"]
    assert all("data:image/png;base64," in html for _, html in fake.calls)
    assert all("INPUT_SCALE" in html for _, html in fake.calls)
    assert "(new)" not in fake.calls[0][1]              # after epoch 1 everything is new


def test_liveplot_outside_a_notebook_writes_the_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    X, y = _blobs()
    path = tmp_path / "live.png"
    gw.mlp([2, 8, 3], seed=0).fit(X, y, epochs=2, verbose=0, callbacks=[gw.LivePlot(path, notebook=False)])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"curves: {path}" in capsys.readouterr().out


def test_the_progress_bar_is_quiet_when_not_interactive(capsys):
    X, y = _blobs()
    gw.mlp([2, 8, 3], seed=0).fit(X, y, epochs=1, verbose=1)   # pytest's output is no terminal
    out, err = capsys.readouterr()
    assert out.startswith("epoch 1/1") and err == ""


def test_not_in_a_notebook_here():
    assert display.in_notebook() is False
