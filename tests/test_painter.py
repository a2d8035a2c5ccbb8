"""plots.Painter: the processes that draw a run's figures while it trains, and the rules
around them (train.painters_pay, train.LendCore)."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from gradwise import plots, presets, train
from gradwise.callbacks import Callback

pytest.importorskip("matplotlib")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="painters start on POSIX only")

HISTORY = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "accuracy": [0.6, 0.8], "val_accuracy": [0.5, 0.7]}
SRC = str(Path(plots.__file__).parents[1])


def groups(folder: Path) -> list:
    rng = np.random.default_rng(0)
    cm = rng.integers(0, 20, (3, 3))
    return [[(plots.training_curves, (HISTORY, folder / "curves.png")),
             (plots.confusion_matrix, (cm, ["a", "b", "c"], folder / "cm.png"))],
            [(plots.first_layer_weights, (rng.normal(size=(16, 5)), (4, 4), folder / "w.png"))]]


def wait_ready(painter, seconds=60.0) -> None:
    deadline = time.monotonic() + seconds
    while not painter.ready():
        assert time.monotonic() < deadline, "painters not ready in time"
        time.sleep(0.05)


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@posix_only
def test_painters_draw_the_groups_and_this_process_never_imports_matplotlib(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {SRC!r})
        from pathlib import Path
        from gradwise import plots
        folder = Path({str(tmp_path)!r})
        history = {{"loss": [1.0, 0.5], "accuracy": [0.6, 0.8]}}
        painter = plots.Painter().start(2)
        while not painter.ready():
            time.sleep(0.05)
        paths = painter.draw_groups([[(plots.training_curves, (history, folder / "curves.png"))],
                                     [(plots.confusion_matrix, ([[3, 1], [0, 4]], "ab", folder / "cm.png"))]])
        painter.close()
        print([p.name for p in paths], "matplotlib" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['curves.png',", "'cm.png']", "False"]   # drawn by the painters alone
    assert is_png(tmp_path / "curves.png") and is_png(tmp_path / "cm.png")


@posix_only
def test_a_dead_painter_leaves_its_group_to_this_process(tmp_path):
    painter = plots.Painter().start(2)
    try:
        painter.workers[0].process.kill()
        painter.workers[0].process.wait()
        wait_ready(painter)                          # a dead painter is nothing to wait for
        paths = painter.draw_groups(groups(tmp_path))
    finally:
        painter.close()
    assert [p.name for p in paths] == ["curves.png", "cm.png", "w.png"]
    assert all(is_png(p) for p in paths)


def test_without_painters_the_groups_are_drawn_here(tmp_path):
    paths = plots.Painter().draw_groups(groups(tmp_path))
    assert [p.name for p in paths] == ["curves.png", "cm.png", "w.png"]


@posix_only
def test_a_figure_that_fails_raises_here_as_without_painters(tmp_path):
    bad = [[(plots.first_layer_weights, (np.zeros((10, 3)), (4, 4), tmp_path / "w.png"))]]  # 10 != 4 x 4
    with pytest.raises(ValueError) as without:
        plots.Painter().draw_groups(bad)
    with plots.Painter().start(1) as painter:
        with pytest.raises(ValueError) as drawn_there:
            painter.draw_groups(bad)
    assert str(drawn_there.value) == str(without.value)


@posix_only
def test_a_script_without_a_main_guard_runs_once(tmp_path):
    """multiprocessing's "spawn" would import the script again in every painter, and a
    script that trains at its top level would train three times."""
    marker = tmp_path / "ran.txt"
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {SRC!r})
        with open({str(marker)!r}, "a") as f:
            f.write("ran\\n")
        from gradwise import plots
        painter = plots.Painter().start(2)
        while not painter.ready():
            pass
        painter.close()
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "ran\n"


def test_painters_pay_for_the_default_run_not_for_a_small_one():
    default = presets.mlp([784, 256, 128, 10], seed=0)
    assert train.painters_pay(default, train.training_steps(train.TrainConfig(), 60000), 128)
    assert not train.painters_pay(default, 2 * 8, 128)                    # mnist-mini, 2 epochs
    assert train.painters_pay(presets.network("cnn", 784, 10, data="mnist"), 1, 1)


def blas_threads(paths=None) -> dict:
    """Threads of each BLAS loaded (of ``paths`` only: numba may load SciPy's own later)."""
    from threadpoolctl import threadpool_info
    return {i["filepath"]: i["num_threads"] for i in threadpool_info()
            if i["user_api"] == "blas" and (paths is None or i["filepath"] in paths)}


class BlasThreads(Callback):
    def __init__(self, paths) -> None:
        self.paths, self.seen = paths, []

    def on_batch_end(self, batch, logs):
        self.seen.append(max(blas_threads(self.paths).values()))


def test_the_first_epoch_lends_a_core_and_the_next_take_it_back():
    from threadpoolctl import threadpool_limits
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        if not before or max(before.values()) < 2:
            pytest.skip("BLAS runs on one thread here")
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(64, 4)).astype(np.float32), rng.integers(0, 2, 64)
        probe = BlasThreads(set(before))
        model = presets.mlp([4, 8, 2], seed=0)
        model.fit(X, y, epochs=2, batch_size=16, verbose=0, callbacks=[train.LendCore(), probe])
        assert probe.seen == [1] * 4 + [2] * 4
        assert blas_threads(set(before)) == before
        resumed = BlasThreads(set(before))                # a resumed run's first epoch is not epoch 0
        model.fit(X, y, epochs=2, batch_size=16, verbose=0, initial_epoch=1,
                  callbacks=[train.LendCore(), resumed])
        assert resumed.seen == [2] * 4
