"""What the doctor reports: Findings, gathered in a Report, most important first."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "info")

# Root causes first, then the mechanisms they set off, then the outcomes a user sees.
# A finding's rank in this list orders the report (severity breaks ties), so that
# "pixels are 0..255" comes before the "NaN at step 3" it explains.
PRIORITY = [
    # the data
    "NONFINITE_INPUT", "LABEL_SHAPE", "LABEL_RANGE", "INPUT_WRAPPED", "INPUT_SCALE", "TRAIN_TEST_SHIFT",
    "CLASS_ORDERED",
    # the code: gradients, optimiser, loss
    "GRADIENT_SHAPE", "GRADIENT_MISMATCH", "OUTPUT_LOSS_MISMATCH", "LOSS_SUMMED",
    "GRADIENT_NOT_RESET", "MOMENTUM",
    # the initialisation
    "INIT_SYMMETRIC", "INIT_ALL_POSITIVE", "INIT_TOO_LARGE", "INIT_TOO_SMALL", "NO_BIAS",
    # the learning rate
    "LR_TOO_HIGH", "LR_TOO_LOW",
    # mechanisms
    "INITIAL_LOSS", "NONFINITE", "EXPLODING_GRADIENT", "ATTENTION_COLLAPSED", "SATURATION",
    "VANISHING_GRADIENT", "DEAD_RELU", "WEIGHTS_FROZEN",
    # classic learners
    "NOT_LINEARLY_SEPARABLE", "DIVERGED",
    # outcomes
    "SINGLE_CLASS", "STALLED", "NOT_LEARNING", "OVERFITTING", "CLASS_IMBALANCE", "LEARNING", "TOO_FEW_STEPS",
]
_RANK = {code: i for i, code in enumerate(PRIORITY)}


@dataclass
class Finding:
    """One diagnosis.

    Attributes:
        code: a stable name, e.g. "INPUT_SCALE" (see PRIORITY for the list).
        severity: "error" (training cannot work), "warning" (it works badly), "info".
        message: what is wrong, in a sentence.
        evidence: the numbers that triggered it.
        fix: what to change, concretely.
        where: the layer, parameter or step concerned, if any.
        verified: when the doctor tried the fix (``diagnose(..., verify=True)``, ``examine``):
            the fix, the metric before and after on the same short run, and ``helped``.
    """
    code: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    fix: str = ""
    where: str | None = None
    verified: dict | None = None

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"Finding: severity must be one of {SEVERITIES}; got {self.severity!r}")

    def __str__(self) -> str:
        head = f"[{self.severity.upper()}] {self.code}" + (f" ({self.where})" if self.where else "")
        lines = [head, f"  {self.message}"]
        if self.evidence:
            lines.append("  evidence: " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.evidence.items()))
        if self.fix:
            lines.append(f"  fix: {self.fix}")
        if self.verified:
            lines.append(f"  tried: {verified_text(self.verified)}")
        return "\n".join(lines)


def verified_text(v: dict) -> str:
    """A fix's outcome in words: 'standardise ...: accuracy 11.2% -> 94.0% (helped, 300 steps on
    5000 samples)'."""
    def show(x):
        if x is None:
            return "diverged"
        return f"{x:.1f}%" if v["metric"] == "accuracy" else f"{x:.4g}"
    return (f"{v['fix']}: {v['metric']} {show(v['before'])} -> {show(v['after'])} ({v['verdict']}, "
            f"{v['steps']} steps on {v['samples']} samples, same seed)")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return "[" + ", ".join(_fmt(v) for v in value[:8]) + ", ...]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _helped(f: Finding) -> bool:
    return bool(f.verified and f.verified.get("helped"))


def _key(f: Finding, best_gain: float = 0.0):
    # a fix shown to work first, the largest gain first, counted in units of the run-to-run
    # noise below the best gain (gains within the noise of each other tie: the rank decides)
    tier = (best_gain - f.verified["gain"]) // f.verified.get("noise", 1e-12) if _helped(f) else 0.0
    return (f.severity == "info", not _helped(f), tier, _RANK.get(f.code, len(PRIORITY)),
            SEVERITIES.index(f.severity))


class Report:
    """The doctor's findings, most important first (a root cause before its symptoms)."""

    def __init__(self, findings=()):
        merged: dict[tuple, Finding] = {}
        for f in findings:                      # one finding per code and place: keep the worst
            k = (f.code, f.where)
            if k not in merged or SEVERITIES.index(f.severity) < SEVERITIES.index(merged[k].severity):
                merged[k] = f
        best = max((f.verified["gain"] for f in merged.values() if _helped(f)), default=0.0)
        self.findings: list[Finding] = sorted(merged.values(), key=lambda f: _key(f, best))
        self.experiments: dict | None = None      # what verify / examine ran, when they did

    def codes(self) -> list[str]:
        """Codes of the error and warning findings, in report order, without repeats."""
        seen = []
        for f in self.findings:
            if f.severity != "info" and f.code not in seen:
                seen.append(f.code)
        return seen

    def get(self, code: str) -> Finding | None:
        """The first (most important) finding with this code, or None."""
        return next((f for f in self.findings if f.code == code), None)

    @property
    def ok(self) -> bool:
        """True when nothing is an error or a warning."""
        return not self.codes()

    def __add__(self, other: "Report") -> "Report":
        return Report([*self.findings, *other.findings])

    def __iter__(self):
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def to_dict(self) -> dict:
        d = {"ok": self.ok, "codes": self.codes(), "findings": [asdict(f) for f in self.findings]}
        if self.experiments is not None:
            d["experiments"] = self.experiments
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=float)

    def __str__(self) -> str:
        if not self.findings:
            return "gradwise doctor: no problems found."
        codes = {f.code for f in self.findings}
        head = ("gradwise doctor: too few steps logged to judge the run." if self.ok and "TOO_FEW_STEPS" in codes
                else "gradwise doctor: no problems found." if self.ok and "LEARNING" in codes
                else "gradwise doctor: no errors or warnings." if self.ok else
                f"gradwise doctor: {len(self.codes())} problem(s): {', '.join(self.codes())}")
        return "\n\n".join([head, *(str(f) for f in self.findings)])

    def __repr__(self) -> str:
        return f"Report(codes={self.codes()})"

    def _repr_html_(self) -> str:
        """A notebook shows a Report as a table, each code linking to its page."""
        return self.to_html()

    def to_html(self, *, new: set[str] | None = None) -> str:
        """The Report as an HTML table; ``new``: codes to mark as just found."""
        from ..display import report_html
        return report_html(self, _fmt, new=new)


#: A number in a message, with its sign and an optional percent sign (not the digits of a name
#: such as W1 or activation_0).
NUMBER = re.compile(r"(?<![A-Za-z_\d.+\-])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?%?")
#: The names of layers and parameters, whose digits are no evidence.
_NAMES = re.compile(r"\b(?:param|layer|activation) \d+")
#: Numbers the messages quote as fixed references, not as evidence: He's gain, the healthy
#: update ratio, the thresholds they name, small counts and indices (layer 2, 1-based).
REFERENCES = {1.41, 0.1, 1e-3, 1e-4, 0.9, 99.0, 255.0, 256.0}


def _values(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from _values(x)
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from _values(x)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        yield float(v)


def numbers_not_in_evidence(finding) -> list[str]:
    """The numbers of a finding's message that are neither a value of its evidence (as
    printed: rounded, or as a percentage) nor a fixed reference: what the tests and the
    corpus benchmark check to be empty, so that a message never disagrees with its numbers."""
    values = list(_values(finding.evidence))
    out = []
    for m in NUMBER.finditer(_NAMES.sub("", finding.message)):
        text = m.group()
        pct, x = text.endswith("%"), float(text.rstrip("%"))
        if x in REFERENCES or (x == int(x) and 0 <= x <= 10):
            continue
        mantissa = text.rstrip("%").split("e")[0]
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        tol = max(0.51 * 10 ** -digits * (abs(x) / abs(float(mantissa)) if float(mantissa) else 1), 5e-4 * abs(x))
        if not any(abs(x - (100 * v if pct else v)) <= tol for v in values):
            out.append(text)
    return out
