"""Run the doctor on a corpus of hand-written NumPy training loops (benchmarks/doctor/programs).

    python -m benchmarks.doctor.corpus [--only NAME] [--json OUT]

Each program is a learner's own loop with the doctor attached as the README shows. Its
``buggy(doctor)`` and ``fixed(doctor)`` return ``(reports, metrics)``. For a buggy run we score
*hit* (an expected root-cause code is among the reported error/warning codes) and *top-1* (the
first reported code is expected); for a fixed or correct-only run, a *false alarm* is any
error/warning at all. A crash inside the doctor counts as a miss (or as a false alarm for a
correct run) and is listed with its traceback. The metrics check the corpus itself: every fixed
run must learn and every buggy run must fail.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")      # 16 small programs' matmuls thrash when BLAS spawns threads

import argparse
import functools
import importlib
import json
import math
import operator
import pkgutil
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

from gradwise import doctor
from gradwise.doctor.findings import numbers_not_in_evidence

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = "benchmarks.doctor.programs"
STYLES = ("rowmajor", "nielsen", "online", "layerchain", "neuron", "classic")

# codes the doctor knows (an EXPECTED code outside this set is one we propose it should have)
KNOWN = {
    "NONFINITE_INPUT", "LABEL_SHAPE", "LABEL_RANGE", "INPUT_SCALE", "TRAIN_TEST_SHIFT",
    "CLASS_ORDERED", "GRADIENT_SHAPE", "GRADIENT_MISMATCH", "OUTPUT_LOSS_MISMATCH", "LOSS_SUMMED",
    "GRADIENT_NOT_RESET", "MOMENTUM", "INIT_SYMMETRIC", "INIT_ALL_POSITIVE", "INIT_TOO_LARGE",
    "INIT_TOO_SMALL", "LR_TOO_HIGH", "LR_TOO_LOW", "INITIAL_LOSS", "NONFINITE",
    "EXPLODING_GRADIENT", "SATURATION", "VANISHING_GRADIENT", "DEAD_RELU", "WEIGHTS_FROZEN",
    "NOT_LINEARLY_SEPARABLE", "DIVERGED", "SINGLE_CLASS", "STALLED", "OVERFITTING",
    "CLASS_IMBALANCE", "NOT_LEARNING",
}


def program_names() -> list[str]:
    pkg = importlib.import_module(PROGRAMS)
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def learned(metrics: dict) -> bool:
    """The corpus's own yardstick: did this run learn? (independent of the doctor)"""
    def finite(v):
        return v is not None and isinstance(v, (int, float)) and math.isfinite(v)
    if "accuracy" in metrics:
        chance = metrics.get("chance", 0.1)
        acc = metrics["accuracy"]
        return finite(acc) and acc > chance + 0.5 * (1 - chance)
    if "r2" in metrics:
        return finite(metrics["r2"]) and metrics["r2"] > 0.8
    s, e = metrics.get("loss_start"), metrics.get("loss_end")
    return finite(s) and finite(e) and e < 0.5 * s


def _in_doctor(tb) -> bool:
    """Did the exception come from the doctor's own code (not from the user's f it called)?"""
    for fr in reversed(traceback.extract_tb(tb)):          # innermost first, skipping numpy & co
        if "site-packages" in fr.filename or fr.filename.startswith("<"):
            continue
        return "gradwise" + os.sep + "doctor" in fr.filename
    return False


def run_part(fn) -> dict:
    out: dict = {"codes": [], "all_codes": [], "findings": [], "metrics": {}, "crash": None,
                 "crash_in": None}
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            reports, metrics = fn(doctor)
        reports = [r for r in reports if r is not None]
        total = functools.reduce(operator.add, reports) if reports else doctor.Report()
        out["codes"] = total.codes()
        out["findings"] = [{"code": f.code, "severity": f.severity, "message": f.message,
                            "evidence": f.evidence, "not_in_evidence": numbers_not_in_evidence(f)}
                           for f in total.findings]
        out["per_report"] = [r.codes() for r in reports]
        out["metrics"] = {k: (float(v) if isinstance(v, (int, float, np.floating, np.integer))
                              else v) for k, v in metrics.items()}
    except Exception as e:                                   # noqa: BLE001 - a crash is a result
        out["crash"] = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        out["crash_in"] = "doctor" if _in_doctor(e.__traceback__) else "program"
        out["crash_line"] = f"{type(e).__name__}: {e}"
    out["seconds"] = round(time.perf_counter() - t0, 2)
    out["learned"] = learned(out["metrics"]) if out["metrics"] else None
    return out


def run_program(name: str) -> dict:
    mod = importlib.import_module(f"{PROGRAMS}.{name}")
    expected = list(getattr(mod, "EXPECTED", []))
    res = {"name": name, "style": mod.STYLE, "expected": expected,
           "proposed": [c for c in expected if c not in KNOWN],
           "doc": (mod.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")}
    if hasattr(mod, "buggy"):
        b = run_part(mod.buggy)
        b["hit"] = bool(set(expected) & set(b["codes"]))
        b["top1"] = bool(b["codes"]) and b["codes"][0] in expected
        b["silent"] = b["crash"] is None and not b["codes"]
        b["corpus_ok"] = b["learned"] is False
        res["buggy"] = b
    f = run_part(mod.fixed)
    f["false_alarm"] = bool(f["codes"]) or f["crash_in"] == "doctor"
    f["corpus_ok"] = f["learned"] is True
    res["fixed"] = f
    return res


def _fmt_codes(codes, n=5):
    s = ",".join(codes[:n])
    return s + (f",+{len(codes) - n}" if len(codes) > n else "") if codes else "-"


def _metric(m):
    if not m:
        return ""
    if "accuracy" in m:
        return f"acc={m['accuracy']:.2f}"
    if "r2" in m:
        return f"r2={m['r2']:.2f}"
    return f"loss {m.get('loss_start', float('nan')):.3g}->{m.get('loss_end', float('nan')):.3g}"


def _pct(a, b):
    return f"{100 * a / b:5.1f}% ({a}/{b})" if b else "   n/a"


def summarise(results: list[dict]) -> dict:
    def block(rs):
        bug = [r["buggy"] for r in rs if "buggy" in r]
        ok = [r["fixed"] for r in rs]
        return {"buggy": len(bug), "hits": sum(b["hit"] for b in bug),
                "top1": sum(b["top1"] for b in bug), "correct": len(ok),
                "false_alarms": sum(f["false_alarm"] for f in ok),
                "silent": sum(b["silent"] for b in bug),
                "crashes": sum((b["crash_in"] == "doctor") for b in bug)
                + sum((f["crash_in"] == "doctor") for f in ok)}
    summ = {"overall": block(results)}
    for st in STYLES:
        rs = [r for r in results if r["style"] == st]
        if rs:
            summ[st] = block(rs)
    return summ


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", help="run programs whose name contains this")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "doctor-corpus.json"))
    args = ap.parse_args(argv)
    names = program_names()
    if args.only:
        names = [n for n in names if any(o in n for o in args.only)]
    results = []
    t0 = time.perf_counter()
    hdr = f"{'program':42s} {'part':5s} {'expected':34s} {'reported (first 5)':60s} verdict"
    print(hdr)
    print("-" * len(hdr))
    for name in names:
        try:
            r = run_program(name)
        except Exception as e:                               # noqa: BLE001 - an unloadable program
            print(f"{name:42s} LOAD ERROR {type(e).__name__}: {e}")
            continue
        results.append(r)
        exp = ",".join(r["expected"]) or "-"
        if "buggy" in r:
            b = r["buggy"]
            v = ("CRASH(" + b["crash_in"] + ")" if b["crash"] else
                 ("hit" if b["hit"] else "MISS") + (" top1" if b["top1"] else "")
                 + (" SILENT" if b["silent"] else ""))
            v += f"  [failed {_metric(b['metrics'])}]" if b["learned"] is False else f"  [!LEARNED {_metric(b['metrics'])}: corpus bug]"
            print(f"{name:42s} buggy {exp[:34]:34s} {_fmt_codes(b['codes'])[:60]:60s} {v}  {b['seconds']}s")
        f = r["fixed"]
        v = ("CRASH(" + f["crash_in"] + ")" if f["crash"] else
             ("FALSE ALARM" if f["false_alarm"] else "clean"))
        v += f"  [learned {_metric(f['metrics'])}]" if f["learned"] else f"  [!DID NOT LEARN {_metric(f['metrics'])}: corpus bug]"
        label = "" if "buggy" in r else name
        print(f"{label:42s} fixed {'-' if 'buggy' in r else '(correct-only)':34s} {_fmt_codes(f['codes'])[:60]:60s} {v}  {f['seconds']}s")
    elapsed = time.perf_counter() - t0

    summ = summarise(results)
    print()
    print(f"{'style':11s} {'buggy':>5s} {'recall':>16s} {'top-1':>16s} {'correct':>7s} "
          f"{'false alarms':>16s} {'silent':>6s} {'crashes':>7s}")
    for st, s in summ.items():
        print(f"{st:11s} {s['buggy']:5d} {_pct(s['hits'], s['buggy']):>16s} "
              f"{_pct(s['top1'], s['buggy']):>16s} {s['correct']:7d} "
              f"{_pct(s['false_alarms'], s['correct']):>16s} {s['silent']:6d} {s['crashes']:7d}")

    def lst(title, rows):
        print(f"\n{title} ({len(rows)}):")
        for row in rows:
            print("  " + row)
        if not rows:
            print("  none")

    bug = [r for r in results if "buggy" in r]
    lst("misses (buggy run; expected -> what the doctor said)",
        [f"{r['name']}: {','.join(r['expected'])} -> {_fmt_codes(r['buggy']['codes'], 8)}"
         + (f"  [doctor crash: {r['buggy']['crash_line']}]" if r['buggy']['crash_in'] == 'doctor' else "")
         for r in bug if not r["buggy"]["hit"]])
    lst("hit but not top-1", [f"{r['name']}: {','.join(r['expected'])} -> {_fmt_codes(r['buggy']['codes'], 8)}"
                              for r in bug if r["buggy"]["hit"] and not r["buggy"]["top1"]])
    lst("silent failures (buggy run, no error or warning at all)",
        [r["name"] for r in bug if r["buggy"]["silent"]])
    lst("false alarms (fixed/correct run)",
        [f"{r['name']}: {_fmt_codes(r['fixed']['codes'], 8)}"
         + (f"  [doctor crash: {r['fixed']['crash_line']}]" if r['fixed']['crash_in'] == 'doctor' else "")
         for r in results if r["fixed"]["false_alarm"]])
    crashes = [(r["name"], part, r[part]) for r in results for part in ("buggy", "fixed")
               if part in r and r[part]["crash"]]
    lst("crashes", [f"{n} ({p}, in {c['crash_in']}): {c['crash_line']}" for n, p, c in crashes])
    for n, p, c in crashes:
        print(f"\n--- {n} ({p}) traceback, last lines:\n" + "\n".join(c["crash"].strip().splitlines()[-8:]))
    lst("corpus check: fixed runs that did not learn",
        [f"{r['name']}: {r['fixed']['metrics']}" for r in results if not r["fixed"]["corpus_ok"]])
    lst("corpus check: buggy runs that learned anyway",
        [f"{r['name']}: {r['buggy']['metrics']}" for r in bug if not r["buggy"]["corpus_ok"]])
    lst("messages with a number their evidence does not hold",
        [f"{r['name']} ({part}) {f['code']}: {f['not_in_evidence']}" for r in results
         for part in ("buggy", "fixed") if part in r for f in r[part]["findings"] if f["not_in_evidence"]])
    proposed = sorted({c for r in results for c in r["proposed"]})
    if proposed:
        lst("codes expected but not (yet) known to the doctor (proposed)",
            [f"{c}: " + ", ".join(r["name"] for r in results if c in r["proposed"]) for c in proposed])
    counts = {st: {"buggy": sum(1 for r in bug if r["style"] == st),
                   "correct_only": sum(1 for r in results if r["style"] == st and "buggy" not in r)}
              for st in STYLES}
    print(f"\n{len(results)} programs ({len(bug)} buggy, {len(results) - len(bug)} correct-only; "
          f"{len(results)} correct runs counting the fixed versions) in {elapsed:.0f}s")

    out = Path(args.json)
    if not args.only or args.json != ap.get_default("json"):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"summary": summ, "counts": counts, "seconds": round(elapsed, 1),
                                   "programs": results}, indent=1, default=str))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
