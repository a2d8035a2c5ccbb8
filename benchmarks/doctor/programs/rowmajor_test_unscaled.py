"""A 4-32-2 ReLU/softmax net predicting whether a customer churns from age, income, visits and
a satisfaction score (synthetic tabular data, rows = samples). The learner standardises the
training features with their mean and std, gets ~90% on the training set, and then scores the
test set it never standardised: incomes in the tens of thousands go straight into the first
layer and the test predictions are one class."""
import numpy as np

STYLE = "rowmajor"
EXPECTED = ["TRAIN_TEST_SHIFT"]


def make_customers(rng, n):
    age = rng.uniform(18, 75, n)
    income = rng.lognormal(10.8, 0.4, n)
    visits = rng.poisson(8, n).astype(float)
    score = rng.uniform(0, 1, n)
    logit = 2.5 * (score - 0.5) * 4 + 0.08 * (visits - 8) - 0.06 * (age - 45) + 1.5 * np.sin(age / 8)
    churn = (logit + rng.normal(0, 0.5, n) < 0).astype(int)
    return np.column_stack([age, income, visits, score]), churn


def _run(doctor, bug):
    rng = np.random.default_rng(6)
    X_train, y_train = make_customers(rng, 1200)
    X_test, y_test = make_customers(rng, 400)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    X_train = (X_train - mean) / std
    if not bug:
        X_test = (X_test - mean) / std
    reports = [doctor.check_data(X_train, y_train, X_test, y_test)]

    W1 = rng.normal(0, np.sqrt(2 / 4), (4, 32)); b1 = np.zeros(32)
    W2 = rng.normal(0, np.sqrt(1 / 32), (32, 2)); b2 = np.zeros(2)

    def forward(X):
        h = np.maximum(X @ W1 + b1, 0)
        s = h @ W2 + b2
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return h, s, e / e.sum(axis=1, keepdims=True)

    rec = doctor.Recorder(["W1", "b1", "W2", "b2"])
    losses = []
    for epoch in range(15):
        perm = rng.permutation(len(X_train))
        for k in range(0, len(perm), 100):
            b = perm[k:k + 100]
            h, s, p = forward(X_train[b])
            n = len(b)
            losses.append(-np.log(p[np.arange(n), y_train[b]]).mean())
            ds = p.copy(); ds[np.arange(n), y_train[b]] -= 1; ds /= n
            dW2, db2 = h.T @ ds, ds.sum(0)
            dh = ds @ W2.T * (h > 0)
            dW1, db1 = X_train[b].T @ dh, dh.sum(0)
            W1 -= 0.3 * dW1; b1 -= 0.3 * db1; W2 -= 0.3 * dW2; b2 -= 0.3 * db2
            rec.log(len(losses), loss=losses[-1], weights=[W1, b1, W2, b2],
                    grads=[dW1, db1, dW2, db2], activations=[h], logits=s, labels=y_train[b])
    reports.append(rec.report())
    train_acc = np.mean(forward(X_train)[2].argmax(1) == y_train)
    acc = np.mean(forward(X_test)[2].argmax(1) == y_test)
    return reports, {"loss_start": losses[0], "loss_end": float(np.mean(losses[-5:])),
                     "train_accuracy": float(train_acc), "accuracy": float(acc), "chance": 0.5}


def buggy(doctor):
    return _run(doctor, True)


def fixed(doctor):
    return _run(doctor, False)
