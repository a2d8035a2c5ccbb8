"""A step function (doctor.examine's form) for the object-per-neuron programs: their neurons'
weights and biases as arrays, one row of W and one entry of b per neuron in each layer.

A program's own per-sample update (``sample(layers, x, y, lr) -> loss``, the function its loop
calls) runs on neurons whose weights are copied in from the params before the batch and copied
back after it: in place where the program updates a neuron's array in place, and as well where
it rebinds a float bias or a list of weights. The neurons (and whatever else they hold, a
velocity) live in the step object, which examine copies per trial."""
import numpy as np


def _get(n, attr):
    return n[attr] if isinstance(n, dict) else getattr(n, attr)


def _set(n, attr, v):
    if isinstance(n, dict):
        n[attr] = v
    else:
        setattr(n, attr, v)


def params_of(layers, w="w", b="b"):
    """{"W1": (neurons, inputs), "b1": (neurons,), ...} from the neurons' current values."""
    out = {}
    for k, layer in enumerate(layers, 1):
        out[f"W{k}"] = np.array([np.asarray(_get(n, w), dtype=float) for n in layer])
        out[f"b{k}"] = np.array([float(_get(n, b)) for n in layer])
    return out


class NeuronStep:
    """step(p, X, y, lr): the program's per-sample update on each row of the batch, in order;
    returns the batch's mean loss."""

    def __init__(self, layers, sample, w="w", b="b", as_list=False):
        self.layers, self.sample, self.w, self.b, self.as_list = layers, sample, w, b, as_list

    def load(self, p):
        for k, layer in enumerate(self.layers, 1):
            for j, n in enumerate(layer):
                row = p[f"W{k}"][j]
                _set(n, self.w, list(row) if self.as_list else row)
                _set(n, self.b, float(p[f"b{k}"][j]))

    def store(self, p):
        for k, layer in enumerate(self.layers, 1):
            for j, n in enumerate(layer):
                w = _get(n, self.w)
                if w is not p[f"W{k}"][j]:
                    p[f"W{k}"][j] = w
                p[f"b{k}"][j] = _get(n, self.b)

    def __call__(self, p, X, y, lr):
        self.load(p)
        try:
            losses = [self.sample(self.layers, x, t, lr) for x, t in zip(X, y)]
        finally:
            self.store(p)
        return float(np.mean(losses))

    def predict(self, p, X, forward):
        """forward(layers, x) -> the outputs for one sample, on the params' values."""
        self.load(p)
        return np.array([forward(self.layers, x) for x in X])

    def grad(self, p, X, y, sample_grads):
        """The batch's mean gradient in the params' structure, from sample_grads(layers, x, t) ->
        [(weights' gradient rows, biases' gradients) per layer] on the params' values."""
        self.load(p)
        total = None
        for x, t in zip(X, y):
            g = {}
            for k, (gw, gb) in enumerate(sample_grads(self.layers, x, t), 1):
                g[f"W{k}"], g[f"b{k}"] = np.array(gw, dtype=float), np.array(gb, dtype=float)
            total = g if total is None else {k: total[k] + g[k] for k in g}
        return {k: v / len(X) for k, v in total.items()}
