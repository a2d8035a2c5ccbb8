"""Simple linear regression of the boiling time of water (minutes) on the volume (litres),
y = 3 x + 4 plus noise, by gradient descent on the mean squared error. The learner's model is
y_hat = w * x, with no intercept ("a line is just a slope"), and the volumes run from 0.5 to
2.5: the best line through the origin tilts to fit the offset, the residuals are systematic,
and R^2 on held-out data is poor. Adding a learned intercept b makes it fit."""
import numpy as np

STYLE = "classic"
EXPECTED = ["NO_BIAS", "NOT_LEARNING"]   # NO_BIAS: proposed code


def _run(doctor, with_b):
    rng = np.random.default_rng(107)
    x = rng.uniform(0.5, 2.5, 300)
    y = 3 * x + 4 + 0.3 * rng.normal(size=300)
    xtr, ytr, xte, yte = x[:200], y[:200], x[200:], y[200:]
    reports = [doctor.check_data(xtr[:, None], ytr, xte[:, None], yte, classification=False)]
    w, b = 0.0, 0.0
    rec = doctor.Recorder(["w", "b"] if with_b else ["w"])
    mse = []
    for it in range(400):
        pred = w * xtr + (b if with_b else 0.0)
        e = pred - ytr
        mse.append(np.mean(e ** 2))
        dw, db = 2 * np.mean(e * xtr), 2 * np.mean(e)
        w -= 0.1 * dw
        if with_b:
            b -= 0.1 * db
        if it % 4 == 0:
            rec.log(it, loss=mse[-1], weights=[np.array([w])] + ([np.array([b])] if with_b else []),
                    grads=[np.array([dw])] + ([np.array([db])] if with_b else []), logits=pred, labels=ytr)
    reports.append(rec.report())
    p = w * xte + (b if with_b else 0.0)
    r2 = 1 - np.sum((p - yte) ** 2) / np.sum((yte - yte.mean()) ** 2)
    return reports, {"loss_start": mse[0], "loss_end": mse[-1], "r2": float(r2)}


def buggy(doctor):
    return _run(doctor, False)


def fixed(doctor):
    return _run(doctor, True)
