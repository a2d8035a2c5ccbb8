"""The sequence doctor's numbers in the README, measured on tinyshakespeare.

    python -m benchmarks.doctor.sequence [--run runs/NAME] [--json OUT]

1. An LSTM whose recurrent weights are 3x PyTorch's, trained by SGD at lr 10 without
   clipping (EXPLODING_GRADIENT expected), and the same run clipped at 1 (no finding).
2. With ``--run`` (a trained ``gradwise train --model gpt-mini`` run): the attention summary
   of each layer and head on 8 validation windows (ATTENTION_COLLAPSED's thresholds sit far
   below a trained model's), and 100 more steps of it at lr 1e-4 watched (no finding).

``gradwise doctor --data tinyshakespeare --model gpt-mini | char-lstm`` is the CLI's own run.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import gradwise as gw
from gradwise import doctor
from gradwise.doctor import sequence as sq
from gradwise.textmodels import Windows


def exploding_lstm(ids: np.ndarray, V: int, clip: float | None) -> dict:
    """Embedding(V, 16) -> LSTM(16, 64), U x 3 -> Dense, SGD lr 10, 150 steps of 16 windows of 64."""
    rng = np.random.default_rng(0)
    lstm = gw.LSTM(16, 64, rng=rng)
    lstm.params["U"] *= 3
    model = gw.Sequential([gw.Embedding(V, 16, rng=rng), lstm, gw.Dense(64, V, rng=rng)])
    mon = doctor.Monitor(every=10)
    try:
        model.fit(None, None, epochs=1, optimizer=gw.SGD(10.0, clip_norm=clip), loss=gw.SoftmaxCrossEntropy(),
                  callbacks=[mon], verbose=0, seed=0, batches=lambda r: Windows(ids, 64, 16, 150, r))
    except gw.model.TrainingDiverged:
        pass
    report = mon.report()
    found = report.get("EXPLODING_GRADIENT")
    return {"clip_norm": clip, "codes": report.codes(), "exploding": found.evidence if found else None}


def trained_attention(model, val: np.ndarray) -> list[dict]:
    rng = np.random.default_rng(0)
    starts = rng.integers(0, len(val) - 65, 8)
    model.forward(val[starts[:, None] + np.arange(64)])
    out = []
    for name, layer in sq.attention_layers(model):
        att = layer.attention_weights()
        heads = [sq.attention_summary(att[:, h]) for h in range(att.shape[1])]
        out.append({"layer": name, "summary": sq.layer_attention_summary(layer),
                    "heads": [{k: h[k] for k in ("entropy_ratio", "sharp_share", "position")} for h in heads]})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", help="a trained gpt-mini run folder")
    ap.add_argument("--json", default=str(Path(__file__).resolve().parents[1] / "results" / "doctor-sequence.json"))
    args = ap.parse_args()
    text = gw.data.load("tinyshakespeare")
    V = len(text.vocab)
    result = {"exploding_lstm": [exploding_lstm(text.train, V, clip) for clip in (None, 1.0)]}
    for r in result["exploding_lstm"]:
        print(f"LSTM U x3, SGD lr 10, clip {r['clip_norm']}: {r['codes']}  {r['exploding'] or ''}")
    if args.run:
        model = gw.Sequential.load(Path(args.run) / "model")
        result["attention"] = trained_attention(model, text.val)
        for layer in result["attention"]:
            s = layer["summary"]
            print(f"{layer['layer']}: entropy {s['entropy_ratio']:.3f} of uniform, sharp rows "
                  f"{s['sharp_share']:.3f}; heads {[round(h['entropy_ratio'], 3) for h in layer['heads']]}")
        start = time.perf_counter()
        report = doctor.diagnose_text(model, text.train, context=64, batch_size=12, steps=100,
                                      optimizer=gw.AdamW(1e-4, betas=(0.9, 0.99), weight_decay=0.1,
                                                         clip_norm=1.0))
        result["trained_continued"] = {"codes": report.codes(), "seconds": time.perf_counter() - start,
                                       "findings": [f.code for f in report.findings]}
        print(f"100 more steps of the trained model at lr 1e-4: {report.codes()} "
              f"({[f.code for f in report.findings]})")
    Path(args.json).write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
