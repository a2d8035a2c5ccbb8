import numpy as np
import pytest

from gradwise import metrics


def test_accuracy_and_confusion_matrix():
    t, p = [0, 1, 2, 2, 1], [0, 2, 2, 2, 1]
    assert metrics.accuracy(t, p) == pytest.approx(0.8)
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p), [[1, 0, 0], [0, 1, 1], [0, 0, 2]])
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p, num_classes=4).shape, (4, 4))
    scores = np.eye(3)[p] * 0.9                      # probabilities are turned into classes
    assert metrics.accuracy(t, scores) == pytest.approx(0.8)


def test_precision_recall_f1_by_hand():
    # class 0: tp 1, predicted 1, true 1 -> P 1, R 1
    # class 1: tp 1, predicted 1, true 2 -> P 1, R 0.5, F1 2/3
    # class 2: tp 2, predicted 3, true 2 -> P 2/3, R 1, F1 0.8
    r = metrics.precision_recall_f1([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    np.testing.assert_allclose(r["precision"], [1, 1, 2 / 3])
    np.testing.assert_allclose(r["recall"], [1, 0.5, 1])
    np.testing.assert_allclose(r["f1"], [1, 2 / 3, 0.8])
    np.testing.assert_array_equal(r["support"], [1, 2, 2])


def test_never_predicted_class_has_zero_precision_not_nan():
    r = metrics.precision_recall_f1([0, 1], [0, 0], num_classes=3)
    assert np.all(np.isfinite(r["precision"])) and r["precision"][1] == 0 and r["f1"][2] == 0


def test_report_and_errors():
    text = metrics.classification_report([0, 1, 1], [0, 1, 0], class_names=["cat", "dog"])
    assert "cat" in text and "dog" in text and "accuracy" in text
    with pytest.raises(ValueError, match="3 labels but y_pred has 2"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        metrics.confusion_matrix([0, 1], [0, 5], num_classes=2)
