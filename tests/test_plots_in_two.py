"""plots.draw_in_two: a run's figures drawn by this process and a forked copy side by side."""

import sys
import threading

import numpy as np
import pytest

from gradwise import plots

pytest.importorskip("matplotlib")
HISTORY = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.6, 0.8], "val_accuracy": [0.5, 0.7]}


def figures(folder):
    rng = np.random.default_rng(0)
    here = [(plots.training_curves, (HISTORY, folder / "curves.png")),
            (plots.confusion_matrix, (rng.integers(0, 9, (3, 3)), ["a", "b", "c"], folder / "cm.png"))]
    there = [(plots.first_layer_weights, (rng.normal(size=(16, 5)), (4, 4), folder / "w.png")),
             (plots.misclassified, (rng.integers(0, 256, (4, 4, 4)).astype(np.uint8), np.zeros(4, int),
                                    np.ones(4, int), np.full(4, 0.9), ["a", "b"], folder / "mis.png"))]
    return here, there


def alone() -> bool:
    """Whether draw_in_two may fork here: Linux, and no thread but tqdm's monitor besides this."""
    monitor = getattr(sys.modules.get("tqdm._monitor"), "TMonitor", ())
    return sys.platform == "linux" and all(t is threading.current_thread() or isinstance(t, monitor)
                                           for t in threading.enumerate())


def is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def forks(monkeypatch):
    """The pids plots._fork gave this process (the copy records its 0 in its own memory)."""
    seen, real = [], plots._fork
    monkeypatch.setattr(plots, "_fork", lambda: seen.append(real()) or seen[-1])
    return seen


def test_the_copy_draws_its_half_and_every_figure_is_written(tmp_path, forks):
    if not alone():
        pytest.skip("draw_in_two forks only on Linux, in a process with no other thread")
    here, there = figures(tmp_path)
    paths = plots.draw_in_two(here, there)
    assert [p.name for p in paths] == ["curves.png", "cm.png", "w.png", "mis.png"]
    assert all(is_png(p) for p in paths) and len(forks) == 1 and forks[0] > 0


def test_with_another_thread_running_nothing_forks_and_all_is_drawn_here(tmp_path, forks):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        paths = plots.draw_in_two(*figures(tmp_path))
    finally:
        stop.set()
        other.join()
    assert forks == [None] and all(is_png(p) for p in paths)


def test_a_figure_that_fails_in_the_copy_raises_here_as_without_it(tmp_path):
    here, _ = figures(tmp_path)
    bad = [(plots.first_layer_weights, (np.zeros((10, 3)), (4, 4), tmp_path / "w.png"))]   # 10 != 4 x 4
    with pytest.raises(ValueError) as alone:
        plots.draw(bad)
    with pytest.raises(ValueError) as in_two:
        plots.draw_in_two(here, bad)
    assert str(in_two.value) == str(alone.value)
    assert is_png(tmp_path / "curves.png") and not (tmp_path / "w.png").exists()


def test_the_progress_bars_monitor_thread_does_not_stop_the_fork(tmp_path, forks):
    """A run at a terminal draws tqdm bars, and tqdm leaves its monitor thread running."""
    from tqdm import tqdm
    if not alone():
        pytest.skip("draw_in_two forks only on Linux, in a process with no other thread")
    with open(tmp_path / "bar.txt", "w") as out:
        bar = tqdm(total=2, disable=False, file=out)
        bar.update(1)
        bar.close()
    paths = plots.draw_in_two(*figures(tmp_path))
    assert forks[0] > 0 and all(is_png(p) for p in paths)
