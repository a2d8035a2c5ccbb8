"""A perceptron that learns AND and OR but loops forever on NAND and NOR.

The bugs (seed 004): a fixed threshold (never learned) and weights rounded after every
update. NAND must output 1 for the input (0, 0), where the weighted sum is 0 whatever the
weights: only a learned bias (a threshold that moves) can get it right. The doctor's
Perceptron with fit_intercept=False reproduces it within an epoch limit and says why;
the fix learns all 14 linearly separable two-input functions. XOR and XNOR are not
linearly separable: they are reported, never looped on.

    python examples/perceptron_nand_nor.py
"""

import sys
import warnings

import numpy as np

from gradwise import classic
from gradwise.data import toy

from _common import parse, step


def learned(model, gate) -> bool:
    X, y = toy.gate(gate)
    return bool(np.all(model.predict(X) == y))


def main(argv=None) -> dict:
    parse(argv, __doc__, full_help=False)
    separable = [g for g in toy.GATES if toy.GATES[g] not in toy.NOT_LINEARLY_SEPARABLE]

    step("the original: the threshold is fixed (no learned bias)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = {g: classic.Perceptron(fit_intercept=False, max_epochs=50).fit(*toy.gate(g)) for g in separable}
    before = sum(learned(m, g) for g, m in fixed.items())
    print(f"learned {before} of {len(separable)}; not learned: {[g for g, m in fixed.items() if not learned(m, g)]}")

    step("the doctor, on NAND")
    print(fixed["nand"].report)

    step("the fix: the threshold is a weight like the others (a bias), no rounding")
    fitted = {g: classic.Perceptron().fit(*toy.gate(g)) for g in separable}
    after = sum(learned(m, g) for g, m in fitted.items())
    print(f"learned {after} of {len(separable)}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        xor = classic.Perceptron(max_epochs=100).fit(*toy.gate("xor"))
    print(f"XOR: stopped after {xor.n_iter_} epochs with a warning ({caught[0].message}); "
          f"{xor.report.findings[0].fix}")
    print(f"\nseparable functions learned: before {before}/14 -> after {after}/14")
    return {"codes": fixed["nand"].report.codes(), "before": before / 14, "after": after / 14,
            "xor_codes": xor.report.codes()}


if __name__ == "__main__":
    main(sys.argv[1:])
