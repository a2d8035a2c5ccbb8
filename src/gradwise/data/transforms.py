"""Preprocessing that travels with a model: fitted on the training set, applied to any split."""

from __future__ import annotations

import numpy as np


def scale_pixels(images: np.ndarray, *, flatten: bool = True, dtype=np.float32) -> np.ndarray:
    """uint8 images in 0..255 -> float in [0, 1], rows of pixels by default.

    Apply the *same* function to the training and the test images: a test set scaled
    differently from the training set is a classic reason for a good model to score badly.

    Shape: (N, H, W) -> (N, H * W) (or (N, H, W) with flatten=False).
    """
    images = np.asarray(images)
    out = images.astype(dtype) / dtype(255)
    return out.reshape(len(out), -1) if flatten else out
