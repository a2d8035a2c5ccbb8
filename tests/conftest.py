"""Test-wide settings: every floating-point error raises, so hidden overflows fail loudly."""

import numpy as np
import pytest

np.seterr(all="raise")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
