"""The doctor's experiments, measured: verify, the lr sweep, examine (issue #17's acceptance).

    python -m benchmarks.doctor.experiments [--seeds 3] [--json benchmarks/results/doctor-experiments.json]

(a) verify on the injected-bug suite (scenarios.py, gradwise models): for each buggy run whose top
    finding (in the doctor's usual order, before the re-ranking by gain) has a mechanical fix,
    did trying that fix improve the run? And on the healthy runs: the spread of the same short
    run's accuracy over seeds (the run-to-run noise), and whether any fix was claimed to help.
(c) the sweep's chosen lr against the best of a fine grid (eight points a decade, the same short
    run) on an MLP, a CNN, logistic regression, a sigmoid network and a user's own loop.
(b) examine on step-function versions of the suite's own-loop bugs (userloop.py) and the
    correct loop: the expected code named, no false alarm on the correct one.
(d) examine on the program corpus (benchmarks/doctor/programs): every program with an
    ``examine_case(bug)`` (its own step function, init and data), buggy and fixed: the expected
    code named (and first), no error/warning on the correct runs; with verify, whether the top
    finding's fix (the sweep's lr, standardised inputs) improved the run; on the correct
    programs, the same short run's loss over seeds (the noise a fix must beat).
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")      # small matmuls: BLAS threads only wait on each other

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np

import gradwise as gw
from gradwise import doctor
from gradwise.doctor import experiments as ex
from gradwise.doctor.findings import _RANK, PRIORITY

from . import scenarios as sc
from . import userloop


def top_fixable(report):
    """The first error/warning finding, in PRIORITY order, that verify tried (has ``verified``)."""
    tried = [f for f in report.findings if f.severity != "info"]
    tried.sort(key=lambda f: (_RANK.get(f.code, len(PRIORITY)), ("error", "warning").index(f.severity)))
    first = tried[0] if tried else None
    return first if first is not None and first.verified else None, first


def part_a(seeds: int) -> dict:
    rows = []
    orig = sc.dx
    sc.dx = lambda model, **kw: orig(model, verify=True, **kw)          # every scenario, verified
    try:
        for name, accepted, make in sc.SCENARIOS:
            for sev in (1, 2):
                t = time.perf_counter()
                with np.errstate(all="ignore"):
                    report = make(sev, 0)
                f, first = top_fixable(report)
                rows.append({"scenario": name, "severity": sev, "codes": report.codes(),
                             "top": first.code if first else None,
                             "top_fix": f.verified if f else None,
                             "seconds": round(time.perf_counter() - t, 2)})
                print(f"{name:<42} sev {sev}  top {rows[-1]['top']!s:<22} "
                      + (f"{f.verified['before']:.1f} -> {f.verified['after']:.1f}% (log-loss "
                         f"{_g(f.verified.get('proba_loss_before'))} -> {_g(f.verified.get('proba_loss_after'))}) "
                         f"{f.verified['verdict']}" if f else "(no mechanical fix)"))
        healthy = []
        for name, make in sc.HEALTHY:
            if not name.startswith("784"):
                continue                                            # the toy sets and own loops: below
            accs, nlls, claims = [], [], []
            for seed in range(seeds):
                with np.errstate(all="ignore"):
                    report = make(seed)
                accs.append(report.experiments["baseline"])
                nlls.append(report.experiments.get("baseline_proba_loss"))
                claims += [f"{f.code}: {f.verified['before']:.1f} -> {f.verified['after']:.1f}"
                           for f in report.findings if f.verified and f.verified["helped"]]
            finite = [v for v in nlls if v is not None and math.isfinite(v)]
            healthy.append({"run": name, "baseline_accuracy": accs, "spread": max(accs) - min(accs),
                            "baseline_proba_loss": nlls,
                            "proba_loss_relative_spread": ((max(finite) - min(finite)) / float(np.mean(finite))
                                                           if finite else None),
                            "helped_claims": claims})
            print(f"healthy {name:<34} accuracy {['%.1f' % a for a in accs]} spread "
                  f"{healthy[-1]['spread']:.1f}, log-loss spread "
                  f"{100 * (healthy[-1]['proba_loss_relative_spread'] or 0):.1f}%  claims {claims}", flush=True)
    finally:
        sc.dx = orig
    fixable = [r for r in rows if r["top_fix"]]
    improved = sum(r["top_fix"]["helped"] for r in fixable)
    return {"runs": rows, "healthy": healthy, "fixable_top": len(fixable), "improved": improved,
            "improved_share": improved / len(fixable) if fixable else None,
            "noise_max_spread": max(h["spread"] for h in healthy),
            "noise_max_proba_loss_spread": max((h["proba_loss_relative_spread"] or 0) for h in healthy),
            "healthy_helped_claims": sum(len(h["helped_claims"]) for h in healthy)}


# ----------------------------------------------------------------------------- (c) the sweep

def digits(n=3000, flat=True):
    X, y, _, _ = sc.mnist()
    X, y = X[:n], y[:n]
    return (X.reshape(len(X), -1) if flat else X.reshape(len(X), 1, 28, 28)), y


def fine_best(trial, around: float) -> tuple[float, float]:
    """The best of eight points a decade, one decade either side of ``around``."""
    lrs = around * 10 ** (np.arange(-8, 9) / 8)
    losses = [trial(float(lr))[0] for lr in lrs]
    i = int(np.argmin(losses))
    return float(lrs[i]), float(losses[i])


def part_c() -> list[dict]:
    rng = np.random.default_rng(0)
    Xf, y = digits()
    Xi, _ = digits(1500, flat=False)
    models = {
        "MLP 784-64-10 relu, SGD": (gw.mlp([784, 64, 10], seed=0), Xf, y, gw.SGD(0.1), 100),
        "CNN conv8-pool-dense, Adam": (gw.Sequential([gw.Conv2D(1, 8, 3, padding=1, rng=rng), gw.ReLU(),
                                                      gw.MaxPool2D(2), gw.Flatten(),
                                                      gw.Dense(8 * 14 * 14, 10, rng=rng)]),
                                       Xi, y[:1500], gw.Adam(1e-3), 40),
        "logistic regression 784-10, SGD": (gw.mlp([784, 10], seed=0), Xf, y, gw.SGD(0.1), 100),
        "sigmoid 784-64-64-10, SGD": (gw.mlp([784, 64, 64, 10], activation="sigmoid", seed=0), Xf, y,
                                      gw.SGD(0.1), 100),
    }
    out = []
    for name, (model, X, yy, opt, steps) in models.items():
        t = time.perf_counter()
        sw = doctor.lr_sweep(model, X, yy, optimizer=opt, steps=steps, batch_size=64)
        s = ex._model_setup(model, X, yy, None, opt, 64, 0, 5000)
        best, best_loss = fine_best(ex._model_trial(s, steps), sw.lr)
        out.append(_row(name, sw, best, best_loss, time.perf_counter() - t))
    # a user's own loop (userloop.py's CS231n-style MLP) through examine's trial
    X, y = digits()
    p = userloop.init(np.random.default_rng(0), (784, 64, 10))
    us = ex._UserSetup(_user_step(), p, X, y, X[:1000], y[:1000], 32, 0)
    t = time.perf_counter()
    sw = ex._sweep(ex._user_trial(us, 100), lr_min=1e-6, lr_max=10.0, steps=100, current=None,
                   initial_loss=ex._user_loss(us, p, X[:1000], y[:1000]))
    best, best_loss = fine_best(ex._user_trial(us, 100), sw.lr)
    out.append(_row("own NumPy loop (userloop.py), SGD", sw, best, best_loss, time.perf_counter() - t))
    return out


def _row(name, sw, best, best_loss, seconds):
    ratio = max(sw.lr / best, best / sw.lr)
    print(f"{name:<36} chosen {sw.lr:.3g} (loss {sw.best_loss:.4g})  fine-grid best {best:.3g} "
          f"(loss {best_loss:.4g})  ratio {ratio:.2f}  {seconds:.1f}s")
    return {"model": name, "chosen": sw.lr, "chosen_loss": sw.best_loss, "fine_best": best,
            "fine_best_loss": best_loss, "ratio": ratio, "within_3x": ratio <= 3, "seconds": seconds}


# ----------------------------------------------------------------------------- (b) examine

def _user_step(bug=None):
    """userloop.py's forward_backward as a step function; its stateful bugs as a callable object."""
    class Step:
        def __init__(self):
            self.acc, self.vel = {}, {}

        def __call__(self, p, xb, yb, lr):
            loss, g, _, _ = userloop.forward_backward(p, xb, yb, bug)
            for k in p:
                gk = g[k]
                if gk.shape != p[k].shape:                 # "made it fit", as userloop's loop does
                    gk = gk.reshape(p[k].shape) if gk.size == p[k].size else np.resize(gk, p[k].shape)
                if bug == "grad_not_reset":
                    self.acc[k] = self.acc.get(k, 0) + gk
                    gk = self.acc[k]
                if bug == "momentum_no_decay":
                    self.vel[k] = self.vel.get(k, 0) + gk
                    gk = self.vel[k]
                if bug == "frozen" and k == "W1":
                    continue
                p[k] -= lr * gk
            return loss
    return Step()


EXAMINE_CASES = [  # (name, bug, lr, expected codes)
    ("correct loop", None, 0.1, []),
    ("gradients never reset", "grad_not_reset", 0.01, ["GRADIENT_NOT_RESET"]),
    ("momentum v = v + g", "momentum_no_decay", 0.01, ["MOMENTUM"]),
    ("loss summed", "loss_summed", 0.05, ["LOSS_SUMMED", "LR_TOO_HIGH"]),
    ("transposed dW", "transposed_dW", 0.1, ["GRADIENT_SHAPE", "GRADIENT_MISMATCH"]),
    ("bias grad over wrong axis", "bias_wrong_axis", 0.1, ["GRADIENT_SHAPE", "GRADIENT_MISMATCH"]),
    ("W1 never updated", "frozen", 0.1, ["WEIGHTS_FROZEN"]),
    ("lr 1e-5", None, 1e-5, ["LR_TOO_LOW"]),
    ("lr 30", None, 30.0, ["LR_TOO_HIGH"]),
    ("pixels 0..255", "raw", 0.1, ["INPUT_SCALE"]),
]


def part_b() -> dict:
    X, y = digits(5000)
    rows = []
    for name, bug, lr, expected in EXAMINE_CASES:
        Xb = X * 255 if bug == "raw" else X
        b = None if bug == "raw" else bug
        p = userloop.init(np.random.default_rng(0), (784, 64, 10))
        t = time.perf_counter()
        with np.errstate(all="ignore"):
            r = doctor.examine(_user_step(b), p, Xb, y, lr=lr, batch_size=64,
                               grad=lambda q, xb, yb, b=b: userloop.forward_backward(q, xb, yb, b)[1])
        codes = r.codes()
        hit = bool(set(codes) & set(expected)) if expected else not codes
        rows.append({"case": name, "expected": expected, "codes": codes, "named": hit,
                     "first": bool(codes) and codes[0] in expected,
                     "seconds": round(time.perf_counter() - t, 1)})
        print(f"examine {name:<28} expected {expected}  got {codes}  {'ok' if hit else 'MISS'}  "
              f"{rows[-1]['seconds']}s")
    buggy = [r for r in rows if r["expected"]]
    return {"cases": rows, "named_share": sum(r["named"] for r in buggy) / len(buggy),
            "first_share": sum(r["first"] for r in buggy) / len(buggy),
            "false_alarms": sum(not r["named"] for r in rows if not r["expected"])}


# ----------------------------------------------------------------------------- (d) the corpus

def _g(v) -> str:
    return "diverged" if v is None else f"{v:.4g}"


def corpus_cases() -> list[tuple[str, object]]:
    """The corpus programs that have a step-function form (examine_case)."""
    import importlib

    from .corpus import PROGRAMS, program_names
    mods = [importlib.import_module(f"{PROGRAMS}.{n}") for n in program_names()]
    return [(m.__name__.rsplit(".", 1)[1], m) for m in mods if hasattr(m, "examine_case")]


def part_d(seeds: int) -> dict:
    from .corpus import STYLES, program_names
    rows, noise = [], []
    for name, mod in corpus_cases():
        for bug in ((True, False) if hasattr(mod, "buggy") else (False,)):
            case = mod.examine_case(bug)
            expected = list(mod.EXPECTED) if bug else []
            t = time.perf_counter()
            with np.errstate(all="ignore"):
                r = doctor.examine(**case, verify=True)
            codes = r.codes()
            f, first = top_fixable(r)
            rows.append({"program": name, "style": mod.STYLE, "bug": bug, "expected": expected,
                         "codes": codes, "named": bool(set(codes) & set(expected)) if bug else not codes,
                         "first": bool(codes) and codes[0] in expected,
                         "top": first.code if first else None, "top_fix": f.verified if f else None,
                         "seconds": round(time.perf_counter() - t, 2)})
            fx = (f"  verify {f.verified['fix'][:30]}: {_g(f.verified['before'])} -> "
                  f"{_g(f.verified['after'])} {f.verified['verdict']}" if f else "")
            print(f"examine {name:<34} {'buggy' if bug else 'fixed'} expected {expected}  got {codes}  "
                  f"{'ok' if rows[-1]['named'] else 'MISS'}  {rows[-1]['seconds']}s{fx}", flush=True)
            if not bug:                                   # the noise: the same short run over seeds
                losses = []
                for seed in range(seeds):
                    X, y = np.asarray(case["X"]), np.asarray(case["y"])
                    rows_eval = ex._eval_rows(len(X), 0)
                    us = ex._UserSetup(case["step"], case["params"], X, y, X[rows_eval], y[rows_eval],
                                       case.get("batch_size", 32), seed, None, case.get("lr"))
                    steps = case.get("steps", 100)
                    with np.errstate(all="ignore"):
                        params, _, diverged = ex._train_user(us, np.full(steps, case.get("lr", 0.01)), steps)
                        losses.append(math.inf if diverged else ex._user_loss(us, params, us.X_eval, us.y_eval))
                spread = (max(losses) - min(losses)) / max(abs(float(np.mean(losses))), 1e-12)
                noise.append({"program": name, "losses": losses, "relative_spread": spread})
    buggy = [r for r in rows if r["bug"]]
    correct = [r for r in rows if not r["bug"]]
    fixable = [r for r in buggy if r["top_fix"]]
    per_style = {}
    for st in STYLES:
        b = [r for r in buggy if r["style"] == st]
        c = [r for r in correct if r["style"] == st]
        if b or c:
            per_style[st] = {"buggy": len(b), "named": sum(r["named"] for r in b),
                             "first": sum(r["first"] for r in b), "correct": len(c),
                             "false_alarms": sum(not r["named"] for r in c)}
    return {"programs_with_step_form": len({r["program"] for r in rows}),
            "programs_in_corpus": len(program_names()), "runs": rows, "per_style": per_style,
            "named_share": sum(r["named"] for r in buggy) / max(1, len(buggy)),
            "first_share": sum(r["first"] for r in buggy) / max(1, len(buggy)),
            "false_alarms": sum(not r["named"] for r in correct), "correct_runs": len(correct),
            "verify_fixable_top": len(fixable), "verify_improved": sum(r["top_fix"]["helped"] for r in fixable),
            "verify_helped_claims_on_correct": sum(1 for r in correct if r["top_fix"] and r["top_fix"]["helped"]),
            "noise": noise, "noise_max_relative_spread": max((n["relative_spread"] for n in noise), default=None),
            "seconds_max": max(r["seconds"] for r in rows)}


# ----------------------------------------------------------------------------- (t) the time bound

def part_t() -> dict:
    """examine and diagnose(verify=True) on full MNIST (60,000 x 784, $GRADWISE_DATA), timed:
    the 30 s bound of issue #17. Each subsamples to max_samples=5000 itself."""
    d = gw.data.load("mnist", download=False)
    X = d.X_train.reshape(len(d.X_train), -1).astype(np.float32) / 255.0
    y = d.y_train
    out = {"samples": int(len(X)), "features": int(X.shape[1]), "cpu": _cpu(),
           "load_average": list(os.getloadavg())}
    p = userloop.init(np.random.default_rng(0), (784, 64, 10))
    for name, kw in (("examine (lr 0.1, grad)", {"lr": 0.1}), ("examine (lr 1e-4: LR_TOO_LOW, verify)", {"lr": 1e-4}),
                     ("examine (pixels 0..255: INPUT_SCALE, verify)", {"lr": 0.1, "raw": True})):
        Xa = X * 255 if kw.pop("raw", False) else X
        t = time.perf_counter()
        with np.errstate(all="ignore"):
            r = doctor.examine(_user_step(), p, Xa, y, batch_size=64, verify=True,
                               grad=lambda q, xb, yb: userloop.forward_backward(q, xb, yb, None)[1], **kw)
        out[name] = {"seconds": time.perf_counter() - t, "codes": r.codes()}
        print(f"time {name:<46} {out[name]['seconds']:.1f}s  {r.codes()}", flush=True)
    for name, opt in (("diagnose(verify=True) 784-64-10 SGD 0.01", gw.SGD(0.01)),
                      ("diagnose(verify=True) 784-64-10 SGD 10 (LR_TOO_HIGH)", gw.SGD(10.0))):
        t = time.perf_counter()
        with np.errstate(all="ignore"):
            r = doctor.diagnose(gw.mlp([784, 64, 10], seed=0), X, y, optimizer=opt, verify=True)   # epochs=2, the default
        out[name] = {"seconds": time.perf_counter() - t, "codes": r.codes(),
                     "verify_steps": r.experiments.get("verify_steps"),
                     "verify_samples": r.experiments.get("verify_samples")}
        print(f"time {name:<46} {out[name]['seconds']:.1f}s  {r.codes()}", flush=True)
    out["load_average_after"] = list(os.getloadavg())
    return out


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} x {os.cpu_count()}"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", default="benchmarks/results/doctor-experiments.json")
    parser.add_argument("--parts", default="acbd")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    out = {}
    if "c" in args.parts:
        out["sweep"] = part_c()
    if "b" in args.parts:
        out["examine"] = part_b()
    if "a" in args.parts:
        out["verify"] = part_a(args.seeds)
    if "d" in args.parts:
        out["corpus_examine"] = part_d(args.seeds)
    if "t" in args.parts:
        out["time_bound"] = part_t()
    out["seconds"] = time.perf_counter() - start
    if "verify" in out:
        v = out["verify"]
        print(f"\n(a) verify: {v['improved']}/{v['fixable_top']} buggy runs whose top finding has a "
              f"mechanical fix improved; healthy runs: {v['healthy_helped_claims']} fixes claimed to "
              f"help, run-to-run spread up to {v['noise_max_spread']:.1f} points")
    if "sweep" in out:
        print(f"(c) sweep: {sum(r['within_3x'] for r in out['sweep'])}/{len(out['sweep'])} within 3x "
              f"of the fine grid's best")
    if "examine" in out:
        e = out["examine"]
        print(f"(b) examine: {100 * e['named_share']:.0f}% named ({100 * e['first_share']:.0f}% first), "
              f"{e['false_alarms']} false alarms")
    if "corpus_examine" in out:
        d = out["corpus_examine"]
        print(f"(d) examine on the corpus: {d['programs_with_step_form']} of {d['programs_in_corpus']} "
              f"programs have a step-function form; {100 * d['named_share']:.0f}% of the buggy named "
              f"({100 * d['first_share']:.0f}% first), {d['false_alarms']} false alarms on "
              f"{d['correct_runs']} correct runs; verify: {d['verify_improved']}/{d['verify_fixable_top']} "
              f"top fixes improved, {d['verify_helped_claims_on_correct']} claimed on correct runs "
              f"(run-to-run spread up to {100 * (d['noise_max_relative_spread'] or 0):.1f}% of the loss)")
        print(f"    {'style':<11} {'buggy':>5} {'named':>6} {'first':>6} {'correct':>7} {'false alarms':>12}")
        for st, v in d["per_style"].items():
            print(f"    {st:<11} {v['buggy']:>5} {v['named']:>6} {v['first']:>6} {v['correct']:>7} "
                  f"{v['false_alarms']:>12}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=1, default=lambda v: None if v is None or (
            isinstance(v, float) and not math.isfinite(v)) else float(v)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
