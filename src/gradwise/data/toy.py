"""Toy data sets for first networks: two-input logic gates, spirals, blobs.

The 16 boolean functions of two inputs are named by their truth table, the outputs for the
inputs (0,0), (0,1), (1,0), (1,1) in that order: AND is "0001", XOR is "0110". Fourteen of
them are linearly separable (a single perceptron can learn them); XOR and XNOR are not.
"""

from __future__ import annotations

import numpy as np

GATE_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)

GATES = {
    "false": "0000", "and": "0001", "a_and_not_b": "0010", "a": "0011",
    "not_a_and_b": "0100", "b": "0101", "xor": "0110", "or": "0111",
    "nor": "1000", "xnor": "1001", "not_b": "1010", "a_or_not_b": "1011",
    "not_a": "1100", "not_a_or_b": "1101", "nand": "1110", "true": "1111",
}
ALIASES = {"implies": "not_a_or_b", "a_implies_b": "not_a_or_b", "b_implies_a": "a_or_not_b",
           "equiv": "xnor", "xand": "xnor", "nimply": "a_and_not_b"}
NOT_LINEARLY_SEPARABLE = {"0110", "1001"}


def truth_table(gate: str) -> str:
    """A gate's truth table from its name ("nand") or the table itself ("1110")."""
    key = gate.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key in GATES:
        return GATES[key]
    if len(key) == 4 and set(key) <= {"0", "1"}:
        return key
    raise ValueError(f"unknown gate {gate!r}: use a name ({', '.join(GATES)}) or a truth table "
                     f"of 4 bits for inputs 00, 01, 10, 11 (e.g. '0110' for xor)")


def gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four input pairs (4, 2) float32 and the gate's outputs (4,) int64."""
    table = truth_table(name)
    return GATE_INPUTS.copy(), np.array([int(c) for c in table], dtype=np.int64)


def spirals(n: int = 200, classes: int = 2, *, noise: float = 0.1, turns: float = 1.0,
            seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms of ``n`` points each in the plane: (n*classes, 2)."""
    rng = np.random.default_rng(seed)
    r = np.linspace(0.05, 1, n)                                       # (n,) radius
    X, y = [], []
    for k in range(classes):
        theta = 2 * np.pi * (turns * r + k / classes)                  # (n,) angle of arm k
        points = np.stack([r * np.cos(theta), r * np.sin(theta)], 1)  # (n, 2)
        X.append(points + noise * r[:, None] * rng.standard_normal((n, 2)))
        y.append(np.full(n, k))
    return np.concatenate(X).astype(np.float32), np.concatenate(y).astype(np.int64)


def blobs(n: int = 300, classes: int = 3, *, dim: int = 2, spread: float = 1.0,
          seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around random centres: (n, dim) float32 and labels (n,)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, (classes, dim))                     # (classes, dim)
    y = rng.integers(0, classes, n)                                  # (n,)
    X = centres[y] + spread * rng.standard_normal((n, dim))          # (n, dim)
    return X.astype(np.float32), y.astype(np.int64)
