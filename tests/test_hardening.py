"""Bad input and resource limits (issue #16): each hostile case gives one clear line, in time.

Every bad file is built here, in tmp_path; nothing reaches the network or ../shared data.
"""

import pytest

from gradwise import cli


def test_a_toy_set_trains_and_plots_without_digit_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    assert cli.main(["train", "--data", "spirals", "--arch", "2-16-2", "--epochs", "2", "--quiet",
                     "--out", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    written = {p.name for p in out.glob("*.png")}
    assert written == {"curves.png", "confusion_matrix.png"}      # no pictures of 2 numbers
