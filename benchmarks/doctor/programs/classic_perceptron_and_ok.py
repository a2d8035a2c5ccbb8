"""Correct program: Rosenblatt's perceptron with a learned threshold (bias input fixed at 1)
learning the AND gate, and then the OR gate, with the classic error-correction rule. Both
converge within a few epochs to zero errors; nothing is wrong."""
import numpy as np

STYLE = "classic"
EXPECTED = []


def fixed(doctor):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    gates = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1])}
    reports, accs, first, last = [], [], None, None
    for name, t in gates.items():
        reports.append(doctor.check_data(X, t))
        w, theta = np.zeros(2), 0.0
        rec = doctor.Recorder(["w", "theta"])
        for epoch in range(20):
            errors = 0
            for x, target in zip(X, t):
                out = int(w @ x - theta > 0)
                w += 0.25 * (target - out) * x
                theta -= 0.25 * (target - out)
                errors += int(out != target)
            s = X @ w - theta
            g = -((t - (s > 0)) @ X) / 4
            rec.log(epoch, loss=errors / 4, weights=[w, np.array([theta])],
                    grads=[g, np.array([np.mean(t - (s > 0))])], logits=s, labels=t)
            first = errors / 4 if first is None else first
            last = errors / 4
            if errors == 0:
                break
        reports.append(rec.report())
        accs.append(np.mean(((X @ w - theta) > 0).astype(int) == t))
    return reports, {"loss_start": first, "loss_end": last, "accuracy": float(np.mean(accs)), "chance": 0.5}
