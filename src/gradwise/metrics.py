"""Classification metrics on integer labels.

``y_pred`` may be class indices (N,) or scores / probabilities (N, C), which are turned
into indices with argmax.
"""

from __future__ import annotations

import numpy as np

from .functional import integer_labels


def _labels(y, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)          # scores or one-hot rows -> class index
    return integer_labels(y.reshape(-1), name)


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if t.size and min(t.min(), p.min()) < 0:
        raise ValueError("class labels must be >= 0")
    return t, p


def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions equal to the true label, in [0, 1]."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p)) if t.size else float("nan")


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0])
    array([[1, 0],
           [1, 1]])
    """
    t, p = _pair(y_true, y_pred)
    k = int(max(t.max(initial=-1), p.max(initial=-1)) + 1) if num_classes is None else int(num_classes)
    if t.size and max(t.max(), p.max()) >= k:
        raise ValueError(f"labels must be in [0, {k}); got max {max(t.max(), p.max())}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)   # (k, k)


def precision_recall_f1(y_true, y_pred, num_classes: int | None = None) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support (true count), each an array of length C.

    A class never predicted has precision 0; a class absent from y_true has recall 0.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)                 # (C,)
    predicted = cm.sum(axis=0)                          # (C,) column sums
    support = cm.sum(axis=1)                            # (C,) row sums
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def classification_report(y_true, y_pred, class_names=None, num_classes: int | None = None) -> str:
    """A table of per-class precision / recall / F1 / support, and the overall accuracy."""
    if class_names is not None and num_classes is None:
        num_classes = len(class_names)
    r = precision_recall_f1(y_true, y_pred, num_classes)
    names = [str(c) for c in (class_names if class_names is not None else range(len(r["f1"])))]
    width = max(8, *(len(n) for n in names))
    lines = [f"{'class':>{width}}  precision  recall     f1  support"]
    for i, name in enumerate(names):
        lines.append(f"{name:>{width}}  {r['precision'][i]:9.4f}  {r['recall'][i]:6.4f}  "
                     f"{r['f1'][i]:.4f}  {r['support'][i]:7d}")
    lines.append(f"{'accuracy':>{width}}  {accuracy(y_true, y_pred):9.4f}  "
                 f"{'':6}  {'':6}  {int(r['support'].sum()):7d}")
    return "\n".join(lines)
