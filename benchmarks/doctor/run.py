"""Run the doctor's benchmark: recall, top-1 and false alarms, per scenario.

    python -m benchmarks.doctor.run [--seeds 3] [--json benchmarks/results/doctor.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from .scenarios import HEALTHY, SCENARIOS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", default="benchmarks/results/doctor.json")
    parser.add_argument("--only", help="run scenarios whose name contains this")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    rows, runs = [], []
    print(f"{'scenario':<42} {'expected':<22} {'hit':>5} {'top-1':>5}  codes (severity 1, seed 0)")
    for name, accepted, make in SCENARIOS:
        if args.only and args.only not in name:
            continue
        hits = tops = n = 0
        example = None
        for sev in (1, 2):
            for seed in range(args.seeds):
                with np.errstate(all="ignore"):
                    codes = make(sev, seed).codes()
                hit, top = any(c in codes for c in accepted), bool(codes) and codes[0] in accepted
                hits, tops, n = hits + hit, tops + top, n + 1
                example = example or codes
                runs.append({"scenario": name, "severity": sev, "seed": seed, "codes": codes,
                             "hit": hit, "top1": top})
        rows.append((name, accepted, hits, tops, n))
        print(f"{name:<42} {accepted[0]:<22} {hits:>2}/{n:<2} {tops:>2}/{n:<2}  {example}")
    healthy_rows = []
    print(f"\n{'healthy run':<42} {'false alarms':>12}  codes")
    for name, make in HEALTHY:
        if args.only and args.only not in name:
            continue
        alarms = []
        for seed in range(args.seeds):
            with np.errstate(all="ignore"):
                codes = make(seed).codes()
            alarms.append(codes)
            runs.append({"healthy": name, "seed": seed, "codes": codes})
        bad = sum(bool(c) for c in alarms)
        healthy_rows.append((name, bad, len(alarms)))
        print(f"{name:<42} {bad:>5}/{len(alarms):<6}  {[c for c in alarms if c]}")
    n = sum(r[4] for r in rows)
    recall = sum(r[2] for r in rows) / n if n else float("nan")
    top1 = sum(r[3] for r in rows) / n if n else float("nan")
    h = sum(r[2] for r in healthy_rows)
    false_alarm = sum(r[1] for r in healthy_rows) / h if h else float("nan")
    summary = {"scenarios": len(rows), "bug_runs": n, "recall": recall, "top1": top1,
               "healthy_runs": h, "false_alarm_rate": false_alarm,
               "seconds": time.perf_counter() - start}
    print(f"\n{len(rows)} scenarios x 2 severities x {args.seeds} seeds = {n} runs: recall "
          f"{100 * recall:.1f}%, top-1 {100 * top1:.1f}%; {h} healthy runs: false alarms "
          f"{100 * false_alarm:.1f}%  ({summary['seconds']:.0f}s)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
