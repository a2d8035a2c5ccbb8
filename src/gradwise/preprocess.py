"""Turn a photo or scan of a digit into an MNIST-style 28x28 image, and images into model input.

MNIST digits were made like this (LeCun et al.): white ink on black, the digit's bounding box
scaled to fit 20x20 keeping its aspect ratio, then placed in a 28x28 field so that its centre
of mass sits at the centre. A digit drawn on paper is none of that: dark on white, off-centre,
any size. ``mnist_style`` does the same steps so that the model sees what it was trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DataError

INK_THRESHOLD = 0.2    # a pixel is ink if brighter than 20% of the brightest (after inversion)


def read_grayscale(path, *, max_pixels: int | None = None) -> np.ndarray:
    """Any image file -> float (H, W) in [0, 255]; transparency is composited on white.

    An image of more than ``max_pixels`` pixels (default: ``$GRADWISE_MAX_IMAGE_PIXELS``, else
    gradwise.data.formats.MAX_IMAGE_PIXELS) is refused from its header, before decoding.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return decode_grayscale(f, source=str(path), max_pixels=max_pixels)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an image") from None


def decode_grayscale(file, *, source: str = "image", max_pixels: int | None = None) -> np.ndarray:
    """An image (bytes or a binary file) -> float (H, W) in [0, 255], as ``read_grayscale``.

    ``max_pixels`` refuses larger images before decoding them (the web page's upload limit;
    default: the cap ``read_grayscale`` uses).
    """
    import io

    from PIL import Image

    from .data.formats import open_image
    if isinstance(file, (bytes, bytearray, memoryview)):
        file = io.BytesIO(file)
    try:
        with open_image(file, source, max_pixels) as im:
            if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
                background = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(background, im.convert("RGBA"))
            return np.asarray(im.convert("L"), dtype=np.float64)
    except (OSError, ValueError, SyntaxError) as e:                # decoding failed midway
        if isinstance(e, DataError):
            raise
        raise DataError(f"{source}: unreadable image ({e})") from None


def mnist_style(gray: np.ndarray, *, source: str = "image") -> np.ndarray:
    """(H, W) grayscale in [0, 255] -> (28, 28) uint8, preprocessed the way MNIST was made.

    1. invert if the background (the border) is light: MNIST is light ink on black;
    2. crop to the bounding box of the ink;
    3. scale the box to fit 20x20, keeping the aspect ratio;
    4. paste into 28x28 so that the centre of mass lands at the centre.
    """
    from PIL import Image
    g = np.asarray(gray, dtype=np.float64)
    if g.ndim != 2 or min(g.shape) < 2:
        raise DataError(f"{source}: expected a 2-D image of at least 2x2 pixels; got shape {g.shape}")
    if np.median(_border(g)) > 127:
        g = 255.0 - g                                          # dark ink on paper -> light on black
    g = np.clip(g - np.median(_border(g)), 0, None)            # background to 0
    if g.max() <= 0:
        raise DataError(f"{source}: the image is blank (no ink found)")
    ink = g > INK_THRESHOLD * g.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]       # (h, w) bounding box of the ink
    crop = crop / crop.max() * 255.0
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = np.asarray(Image.fromarray(crop.astype(np.float32), mode="F").resize(
        (new_w, new_h), Image.Resampling.LANCZOS), dtype=np.float64)
    small = np.clip(small, 0, 255)                             # (new_h, new_w) fits in 20x20
    total = small.sum()
    r_idx, c_idx = np.indices(small.shape)
    com_r, com_c = (r_idx * small).sum() / total, (c_idx * small).sum() / total
    top = int(np.clip(round(14 - com_r), 0, 28 - new_h))       # centre of mass -> (14, 14)
    left = int(np.clip(round(14 - com_c), 0, 28 - new_w))
    out = np.zeros((28, 28))
    out[top:top + new_h, left:left + new_w] = small
    return np.rint(out).astype(np.uint8)


def _border(g: np.ndarray) -> np.ndarray:
    return np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])


def model_input(images: np.ndarray, meta: dict) -> np.ndarray:
    """uint8 images -> the model's input, as recorded in ``model.meta["preprocessing"]``."""
    pre = meta.get("preprocessing", {})
    X = np.asarray(images)
    if pre.get("scale") == "pixels / 255":                     # one pass (the numbers of
        X = np.divide(X, np.float32(255), dtype=np.float32)   # astype(float32) / 255, in two)
    elif "kind" in pre:                                        # a fitted scaler's numbers
        from .data.transforms import scaler_from_dict
        return scaler_from_dict(pre).transform(X.astype(np.float32))
    else:
        X = X.astype(np.float32)
    if pre.get("flatten", True):
        return X.reshape(len(X), -1)
    return X.reshape(len(X), *pre["input_shape"]) if "input_shape" in pre else X
