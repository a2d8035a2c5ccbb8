"""Every gallery script, in its fast mode: the doctor names the bug, and the fix works."""

import importlib
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

CASES = [
    ("mnist_layer_chain", "TRAIN_TEST_SHIFT", "INIT_ALL_POSITIVE", 0.5),    # 1,000 images, 1 epoch
    ("mnist_from_jpg_folders", "CLASS_ORDERED", None, 0.6),
    ("mnist_two_layer_full_batch", "GRADIENT_SHAPE", None, 0.6),
    ("mnist_object_per_neuron_sigmoid", "OUTPUT_LOSS_MISMATCH", "GRADIENT_MISMATCH", 0.5),
    ("xor_sigmoid", "GRADIENT_MISMATCH", None, 1.0),
    ("patterns_in_sequence", "CLASS_ORDERED", None, 1.0),
    ("linear_regression_nan", "INPUT_SCALE", "DIVERGED", 0.99),
    ("perceptron_nand_nor", "NOT_LINEARLY_SEPARABLE", None, 1.0),
    ("two_output_sigmoid", "INPUT_SCALE", None, 0.9),
]


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


@pytest.mark.parametrize("name,first,also,after", CASES, ids=[c[0] for c in CASES])
def test_example(name, first, also, after, capsys):
    module = importlib.import_module(name)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = module.main(["--fast"])
    assert result["codes"][0] == first, result["codes"]
    if also:
        assert also in result["codes"]
    assert result["after"] >= after
    assert not result["after"] < result["before"] or np.isnan(result["before"])
    assert "==" in capsys.readouterr().out
    sys.modules.pop(name, None)
