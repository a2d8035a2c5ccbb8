"""The ``gradwise`` command line.

    gradwise train [flags]                 train and write a run folder
    gradwise evaluate RUN [--data NAME]    metrics, per-class table, confusion matrix
    gradwise predict RUN IMAGE...          top-3 classes for photos or scans of digits
    gradwise sample RUN [--prompt TEXT]    text written by a character model (char-lstm, gpt-mini)
    gradwise doctor [train flags]          a short watched run: why does it not learn?
    gradwise data list|fetch|info|verify   data sets
    gradwise gradcheck                     finite-difference check of every layer and loss
    gradwise serve [RUN] [--port 8000]     the web page: draw a digit, watch a network learn

Each subcommand is a thin shell over library functions. An error a user can cause prints
one line with the fix and exits with status 2; a run that starts and fails (its loss
diverged) prints one line too and exits with status 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields

from .errors import GradwiseError
from .logs import to_stderr
from .version import __version__

TRAIN_HELP = {
    "data": "data set: mnist (default), fashion-mnist or mnist-mini; for the text models "
            "tinyshakespeare (default) or the path of a UTF-8 text file",
    "model": "network: mlp (sizes from --arch), mlp-large (784-800-800-10), cnn, cnn-large, lenet5; "
             "text: char-lstm (Embedding 64, LSTM 256), gpt-mini (nanoGPT's CPU shakespeare_char)",
    "batchnorm": "cnn: batch normalisation after each convolution (cnn-large has it always)",
    "augment": "random distortions of the training images (digits: shifts, rotations, scalings; "
               "fashion-mnist: mirror images)",
    "data_dir": "folder holding DATA/ with the IDX files (default: $GRADWISE_DATA, then the cache)",
    "arch": "mlp: layer sizes, input first (default: INPUTS-256-128-CLASSES, 784-256-128-10 for MNIST)",
    "act": "mlp: hidden activation: relu (default), leaky_relu, tanh, sigmoid",
    "init": "weight init: he_normal, he_uniform, glorot_normal, glorot_uniform, lecun_normal, "
            "uniform01, normal01 (default: he_normal for ReLU nets, glorot_uniform for tanh/sigmoid)",
    "opt": "optimiser: sgd, rmsprop, adam, adamw (default adam; gpt-mini adamw)",
    "lr": "learning rate (default: 4e-3 for mlp, 2e-3 for char-lstm, 1e-3 for the others; doctor: 1e-3, a text model its own)",
    "momentum": "momentum for sgd/rmsprop (default 0.9; refused for adam/adamw)",
    "weight_decay": "L2 weight decay, decoupled for adamw (default 0; gpt-mini 0.1)",
    "schedule": "lr schedule: none, cosine, step:EVERY:FACTOR, exp:GAMMA, warmup:EPOCHS[+cosine]",
    "dropout": "dropout rate after each hidden layer (default: none for mlp, 0.2 for mlp-large, cnn "
               "and cnn-large; lenet5 has none)",
    "loss": "cross_entropy (default), or mse on one-hot targets (a classic mistake, for the doctor)",
    "epochs": "passes over the training data (default: 3 for mlp, 4 for the image networks; text models count --iters)",
    "batch_size": "samples per step (default 128; text: windows per step, char-lstm 32, gpt-mini 12)",
    "val_split": "share of the training set held out for validation (default 0.083: 5,000 of "
                 "MNIST's 60,000; text models validate on the last 10%% of the text)",
    "iters": "text models: optimiser steps, each on random windows of the text (default: "
             "char-lstm 1500, gpt-mini 2000)",
    "context": "text models: characters per window, the model's context (default 64)",
    "eval_every": "text models: steps between validation passes over the whole validation text "
                  "(default 250; a line, a checkpoint and a point of the curves each)",
    "early_stopping": "stop after N epochs without a better validation loss (0: off)",
    "seed": "random seed (init, shuffling, split, dropout)",
    "out": "run folder (default: runs/DATA-DATE-TIME)",
}


# settings the doctor's short watched run has no use for: given to ``gradwise doctor`` on the
# command line, each is refused rather than silently ignored (a config file may hold them)
NOT_FOR_THE_DOCTOR = {"out": "the doctor writes no run folder (--verify --run-dir DIR keeps its sweep)",
                      "early_stopping": "its run is a couple of epochs, watched to the end",
                      "augment": "it watches the data as it is, so that what it says is about your data",
                      "val_split": "its watched run holds out no validation split"}


def _add_train_flags(p: argparse.ArgumentParser, *, run_flags: bool = True) -> None:
    """TrainConfig's fields as flags, and ``--config``; with ``run_flags``, those of a run
    folder too (``--resume``, ``--no-plots``, ``--quiet``), which only ``train`` has."""
    from .train import TrainConfig
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kind = str(f.type).split(" |")[0]                  # "float | None" -> "float"
        if kind == "bool":
            p.add_argument(flag, dest=f.name, action="store_const", const=True, default=None,
                           help=TRAIN_HELP[f.name])
            continue
        default = getattr(defaults, f.name)
        shown = "" if default is None or "default" in TRAIN_HELP[f.name] else f" (default: {default})"
        p.add_argument(flag, dest=f.name, type={"int": int, "float": float}.get(kind, str), default=None,
                       metavar=f.name.upper(), help=TRAIN_HELP[f.name] + shown)
    p.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file; flags override it")
    if not run_flags:
        return
    p.add_argument("--resume", nargs="?", const="latest", metavar="RUN",
                   help="continue a stopped run from its last checkpoint (default: the latest in runs/)")
    p.add_argument("--no-plots", action="store_true", help="do not draw the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the summary lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradwise", description="Neural networks from scratch on NumPy.",
        epilog="Run 'gradwise COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"gradwise {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = sub.add_parser("train", help="train a digit classifier (MNIST by default)",
                           description="Train an MLP and write a run folder: model.npz + model.json, "
                                       "config.toml, checkpoint.npz, metrics.json and PNG plots.")
    _add_train_flags(train)

    evaluate = sub.add_parser("evaluate", help="test metrics of a run",
                              description="Accuracy, per-class table and confusion matrix of a run's model.")
    evaluate.add_argument("run", help="run folder (runs/NAME) or model file")
    evaluate.add_argument("--data", help="data set to evaluate on (default: the one it was trained on)")
    evaluate.add_argument("--data-dir", help="folder holding DATA/")

    predict = sub.add_parser("predict", help="classify photos or scans of digits",
                             description="Preprocess each image the way MNIST was made (grayscale, "
                                         "invert a white background, crop to the ink, fit 20x20, "
                                         "centre the mass in 28x28) and print the top-3 classes.")
    predict.add_argument("run", help="run folder (runs/NAME) or model file")
    predict.add_argument("images", nargs="+", help="image files (PNG, JPG, ...)")
    predict.add_argument("--json", action="store_true", help="machine-readable output")
    predict.add_argument("--top", type=int, default=3, help="how many classes to show (default 3)")
    predict.add_argument("--max-pixels", type=int, metavar="N",
                         help="refuse images of more pixels, before decoding them (default: "
                              "$GRADWISE_MAX_IMAGE_PIXELS, else 50,000,000)")

    sample = sub.add_parser("sample", help="text written by a character model",
                            description="Write text one character at a time with the model of a run "
                                        "of gradwise train --model char-lstm or gpt-mini.")
    sample.add_argument("run", help="run folder (runs/NAME) or model file")
    sample.add_argument("--prompt", default="", help="the text to continue (default: a new line)")
    sample.add_argument("--length", type=int, default=500, help="characters to write (default 500)")
    sample.add_argument("--temperature", type=float, default=1.0,
                        help="divides the logits: below 1 more conservative, above 1 wilder (default 1)")
    sample.add_argument("--top-k", type=int, default=None,
                        help="draw only from the K most likely characters (default: all)")
    sample.add_argument("--seed", type=int, default=0, help="random seed of the draws (default 0)")

    data = sub.add_parser("data", help="list, fetch, describe and verify data sets",
                          description="Data sets: where they are, what is in them, whether they are intact.")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    data_sub.add_parser("list", help="the data sets gradwise knows and where each is found")
    for action, text in (("fetch", "find or download NAME and verify it"),
                         ("info", "shapes, classes, label counts and pixel range of NAME"),
                         ("verify", "check NAME's files against the official SHA-256")):
        p = data_sub.add_parser(action, help=text, description=text)
        p.add_argument("name", help="mnist, fashion-mnist, mnist-mini, xor, spirals, ...")
        p.add_argument("--data-dir", help="folder holding NAME/ (default: $GRADWISE_DATA, then the cache)")

    doc = sub.add_parser("doctor", help="a short watched run that says why a network does not learn",
                         description="Checks the data and the initialisation, trains briefly while "
                                     "watching, and prints the findings with evidence and fixes. "
                                     "Exit status 1 when it finds errors or warnings.")
    _add_train_flags(doc, run_flags=False)
    doc.add_argument("--subset", type=int, default=10000,
                     help="train on this many samples (default 10000; 0 = all)")
    doc.add_argument("--raw-pixels", action="store_true", help="make it fail: skip dividing pixels by 255")
    doc.add_argument("--sorted", action="store_true", help="make it fail: feed the data in class order")
    doc.add_argument("--json", action="store_true", help="machine-readable report")
    doc.add_argument("--verify", action="store_true",
                     help="run the experiments too: sweep the learning rate and try each mechanical "
                          "fix on a copy (the same short run), the outcome on each finding")
    doc.add_argument("--run-dir", help="with --verify: write lr_sweep.json (and lr_sweep.png) here")
    doc.add_argument("--explain", metavar="CODE",
                     help="print the page of a finding code (INPUT_SCALE, LR_TOO_HIGH, ...): what it "
                          "means, its evidence and thresholds, the fix, a program that triggers it")

    sub.add_parser("gradcheck", help="check every layer and loss against finite differences",
                   description="Finite-difference check (float64) of every layer and loss.")

    serve = sub.add_parser("serve", help="the web page: draw a digit, watch a network learn",
                           description="Serve the draw page (the model's view of your digit) and the "
                                       "learn page (train live, inject classic mistakes, see the "
                                       "doctor's findings) on http://127.0.0.1:PORT/. Needs the web "
                                       'extra: pip install "gradwise[web]".')
    serve.add_argument("run", nargs="?", help="run folder to serve (default: the most recent in runs/, "
                                              "else a quick model trained on mnist-mini)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1, this machine only; "
                            "anything else warns)")
    serve.add_argument("--data-dir", help="folder holding DATA/ (default: $GRADWISE_DATA, then the cache)")
    return parser


# ----------------------------------------------------------------------------- commands

def _flags(args) -> dict:
    """The TrainConfig fields given on the command line."""
    from .train import TrainConfig
    return {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None}


def train_config(args, path=None, **defaults):
    """The TrainConfig of a command: ``defaults``, under the TOML file at ``path`` (if any),
    under the flags given on the command line."""
    from .train import TrainConfig, load_config
    if path is not None:
        return load_config(path, _flags(args), defaults)
    return TrainConfig(**{**defaults, **_flags(args)}).check()


def _say(line: str) -> None:
    print(line, flush=True)


def cmd_train(args) -> int:
    from pathlib import Path

    from . import memory
    from .train import latest_run, resume_config, run
    memory.keep_freed_memory()         # this process only trains: keep freed blocks for reuse
    if args.resume:
        resume = latest_run() if args.resume == "latest" and not args.out else Path(
            args.out if args.resume == "latest" else args.resume)
        if args.config:
            raise GradwiseError("--resume continues a run with its own config.toml; --config "
                                "cannot be given with it")
        cfg = resume_config(resume, {k: v for k, v in _flags(args).items() if k != "out"})
    else:
        resume, cfg = None, train_config(args, args.config)
    result = run(cfg, resume=resume, plot=not args.no_plots, verbose=2 if args.quiet else 1, log=_say)
    return 130 if result.get("interrupted") else 0


def cmd_doctor(args) -> int:
    import dataclasses

    import numpy as np

    from . import doctor, memory, train
    if args.explain:
        return explain_code(args.explain)
    memory.keep_freed_memory()
    if args.subset < 0:
        raise GradwiseError(f"--subset must be >= 0 (0: all the samples); got {args.subset}")
    for name, why in NOT_FOR_THE_DOCTOR.items():
        if getattr(args, name) is not None:
            raise GradwiseError(f"--{name.replace('_', '-')} is a gradwise train setting: {why}")
    from .textmodels import TEXT_MODELS
    if args.model in TEXT_MODELS:
        return doctor_text(args)
    # a short run unless told otherwise, at the learning rate the doctor's rules were tuned on
    cfg = train_config(args, args.config, epochs=2, lr=1e-3)
    prepared, pre = train.prepare(cfg)
    if args.raw_pixels:
        prepared = prepared.prepared_as(dataclasses.replace(pre, scale="none"))
    X, y = prepared.X_train, prepared.y_train
    if args.subset and len(X) > args.subset:
        pick = np.sort(np.random.default_rng(cfg.seed).choice(len(X), args.subset, replace=False))
        X, y = X[pick], y[pick]
    if args.sorted:
        order = np.argsort(y, kind="stable")
        X, y = X[order], y[order]
    model, optimizer = train.build(cfg, prepared)
    y, yt = (train.targets(cfg, labels, len(prepared.classes)) for labels in (y, prepared.y_test))
    if not args.json:
        print(f"gradwise doctor: {cfg.data}, {len(X):,} samples, {cfg.epochs} epochs, {cfg.model} "
              f"{cfg.arch or ''} {cfg.act or ''} {cfg.init or ''}, {cfg.opt} lr {train.learning_rate(cfg):g}...".replace("  ", " "),
              flush=True)
    report = doctor.diagnose(model, X, y, X_test=prepared.X_test, y_test=yt, loss=cfg.loss,
                             optimizer=optimizer, epochs=cfg.epochs, batch_size=cfg.batch_size,
                             seed=cfg.seed, shuffle=not args.sorted, max_samples=None,
                             verify=args.verify)
    if args.verify and args.run_dir and report.experiments and report.experiments.get("sweep"):
        from .doctor import experiments
        experiments.write_sweep(experiments.LRSweep(**{
            **report.experiments["sweep"], "findings": [], "grid": [
                (lr, float("inf") if loss is None else loss) for lr, loss in report.experiments["sweep"]["grid"]]}),
            args.run_dir)
    print(report.to_json() if args.json else report)
    return 0 if report.ok else 1


def doctor_text(args) -> int:
    """``gradwise doctor --model char-lstm | gpt-mini``: the first steps (at most
    ``doctor.TEXT_STEPS``) of the run ``gradwise train`` would make with the same
    flags (recipe, optimiser, clipping, schedule), watched: ``doctor.diagnose_text``."""
    import dataclasses

    from . import train
    from .doctor import TEXT_STEPS, diagnose_text
    for flag, why in (("raw_pixels", "a text model reads random windows of its text"),
                      ("sorted", "a text model reads random windows of its text"),
                      ("verify", "its experiments (the lr sweep, each fix on a copy) run on images")):
        if getattr(args, flag, False):
            raise GradwiseError(f"--{flag.replace('_', '-')} is for the image networks; {why}")
    cfg = train_config(args, args.config)
    steps = min(cfg.iters, TEXT_STEPS)
    prepared, _ = train.prepare(cfg)
    model = train.build_model(cfg, prepared.n_inputs, len(prepared.classes))
    # the schedule counts the doctor's one "epoch" of ``steps`` steps as training's first ones
    optimizer = train.make_optimizer(dataclasses.replace(cfg, eval_every=steps))
    if not args.json:
        print(f"gradwise doctor: {prepared.name} ({len(prepared.text.train):,} training characters, "
              f"{len(prepared.classes)} distinct), {cfg.model}, the first {steps} of {cfg.iters} steps "
              f"of {cfg.batch_size} windows of {cfg.context}, {cfg.opt} lr {train.learning_rate(cfg):g}"
              f"{f' clip {optimizer.clip_norm:g}' if optimizer.clip_norm else ''}...", flush=True)
    report = diagnose_text(model, prepared.text.train, context=cfg.context, batch_size=cfg.batch_size,
                           optimizer=optimizer, steps=steps, seed=cfg.seed)
    print(report.to_json() if args.json else report)
    return 0 if report.ok else 1


def explain_code(code: str) -> int:
    """``gradwise doctor --explain CODE``: the code's documentation page, as the site shows it."""
    from .doctor import codes
    try:
        entry = codes.get(code)
    except KeyError:
        raise GradwiseError(f"--explain: no finding code {code!r}; the codes are: "
                            f"{', '.join(codes.CODES)}") from None
    print(codes.page(entry.code), end="")
    return 0


def cmd_evaluate(args) -> int:
    import numpy as np

    from . import data, metrics
    from .preprocess import model_input
    from .train import load_run
    model = load_run(args.run)
    name = args.data or model.meta.get("data")
    if not name:
        raise GradwiseError(f"{args.run}: the model does not record its data set; pass --data NAME")
    ds = data.load(name, data_dir=args.data_dir)
    X = model_input(ds.X_test, model.meta)
    W = model.layers[0].params.get("W")
    if W is not None and W.ndim == 2 and X.shape[1] != W.shape[0]:
        raise GradwiseError(f"{name} images have {X.shape[1]} inputs but the model expects {W.shape[0]}")
    y = ds.y_test.astype(np.intp)
    classes = model.meta.get("classes") or list(ds.classes)
    predicted = model.predict(X)
    result = model.evaluate(X, y)
    print(f"{name} test set ({len(y):,} images): accuracy {100 * result['accuracy']:.2f}%, "
          f"loss {result['loss']:.4f}\n")
    print(metrics.classification_report(y, predicted, class_names=classes))
    cm = metrics.confusion_matrix(y, predicted, len(classes))
    print("\nconfusion matrix (rows: true, columns: predicted)")
    print("      " + " ".join(f"{str(c)[:5]:>5}" for c in classes))
    for c, row in zip(classes, cm):
        print(f"{str(c)[:5]:>5} " + " ".join(f"{v:5d}" for v in row))
    return 0


def cmd_predict(args) -> int:
    import numpy as np

    from .preprocess import mnist_style, model_input, read_grayscale
    from .train import load_run
    model = load_run(args.run)
    shape = model.meta.get("preprocessing", {}).get("input_shape")
    if shape is not None and tuple(shape[-2:]) != (28, 28):
        raise GradwiseError(f"{args.run}: the model takes inputs of shape {tuple(shape)} "
                            f"({model.meta.get('data', 'its data')}), not 28x28 images; predict "
                            f"classifies pictures of digits with a model trained on images")
    classes = model.meta.get("classes") or [str(i) for i in range(model.num_outputs())]
    if args.max_pixels is not None and args.max_pixels < 1:
        raise GradwiseError(f"--max-pixels must be >= 1; got {args.max_pixels}")
    images = np.stack([mnist_style(read_grayscale(path, max_pixels=args.max_pixels), source=path)
                       for path in args.images])
    proba = model.predict_proba(model_input(images, model.meta))
    k = max(1, min(args.top, proba.shape[1]))
    results = []
    for path, p in zip(args.images, proba):
        top = np.argsort(-p)[:k]
        results.append({"image": path, "top": [{"class": classes[i], "probability": float(p[i])}
                                               for i in top]})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            ranked = "  ".join(f"{t['class']} {100 * t['probability']:5.1f}%" for t in r["top"])
            print(f"{r['image']}: {ranked}")
    return 0


def cmd_sample(args) -> int:
    from .textmodels import sample, text_model_meta
    from .train import load_run
    model = load_run(args.run)
    text_model_meta(model, args.run)
    if args.seed < 0:
        raise GradwiseError(f"--seed must be >= 0; got {args.seed}")
    print(sample(model, args.prompt, length=args.length, temperature=args.temperature,
                 top_k=args.top_k, seed=args.seed))
    return 0


def cmd_data(args) -> int:
    import numpy as np

    from . import data

    if args.data_command == "list":
        print(f"{'name':<16} where")
        for name in ("mnist", "fashion-mnist", "mnist-mini"):
            try:
                where = data.load(name, download=False, quiet=True).source if name != "mnist-mini" \
                    else "embedded in gradwise"
            except data.DataError:
                where = f"not on this machine (gradwise data fetch {name})"
            print(f"{name:<16} {where}")
        print(f"{'tinyshakespeare':<16} {data.load('tinyshakespeare', quiet=True).source} (text)")
        print(f"{'toy sets':<16} xor, and, or, nand, nor, spirals, blobs "
              f"(all 16 two-input gates by name or truth table)")
        print(f"cache folder: {data.cache_dir()}")
        return 0
    ds = data.load(args.name, data_dir=args.data_dir, download=args.data_command == "fetch",
                   decoded=args.data_command != "verify")       # verify reads the files themselves
    if isinstance(ds, data.TextData):              # checked against its SHA-256 as it was read
        print(f"{args.name}: OK, matches its SHA-256 ({ds.source})" if args.data_command == "verify"
              else f"{ds}\nvocabulary: {ds.vocab!r}")
        return 0
    if args.data_command == "verify":
        if ds.name not in data.IDX_SETS:
            print(f"{args.name}: nothing to verify ({ds.source})")
        else:
            print(f"{args.name}: OK, every file matches its official SHA-256 ({ds.source})")
        return 0
    print(ds)
    for split, X, y in (("train", ds.X_train, ds.y_train), ("test", ds.X_test, ds.y_test)):
        counts = np.bincount(y, minlength=len(ds.classes)) if len(y) else []
        print(f"{split:>5}: X {X.shape} {X.dtype}, values {X.min() if X.size else '-'}.."
              f"{X.max() if X.size else '-'}; labels per class {list(map(int, counts))}")
    print(f"classes: {', '.join(ds.classes)}")
    return 0


def cmd_gradcheck(args) -> int:
    from .gradcheck import check_all
    rows, ok = check_all()
    print(rows)
    return 0 if ok else 1


def cmd_serve(args) -> int:
    from .web import serve
    if not 0 < args.port < 65536:
        raise GradwiseError(f"--port must be between 1 and 65535; got {args.port}")
    try:
        serve(args.run, host=args.host, port=args.port, data_dir=args.data_dir)
    except ImportError as e:
        raise GradwiseError(str(e)) from None
    return 0


COMMANDS = {"train": cmd_train, "doctor": cmd_doctor, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "sample": cmd_sample, "data": cmd_data, "gradcheck": cmd_gradcheck, "serve": cmd_serve}


LIST_OPTIONS = {"images"}             # the options whose value is a list (predict's images)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, value in vars(args).items():        # argparse turns "--port=--" into [], for any type
        if value == [] and name not in LIST_OPTIONS:
            parser.error(f"--{name.replace('_', '-')} needs a value")
    to_stderr()                        # the library's messages (which source served) on stderr
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except (GradwiseError, ValueError, OSError) as e:
        if args.debug:
            raise
        print(f"gradwise {args.command}: error: {_as_flags(e)}", file=sys.stderr)
        return 1 if _run_failed(e) else 2
    except MemoryError as e:           # a size the checks let through but this machine cannot hold
        if args.debug:
            raise
        print(f"gradwise {args.command}: error: not enough memory ({e or 'MemoryError'}); use "
              f"smaller layers (--arch) or a smaller --batch-size", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gradwise {args.command}: interrupted", file=sys.stderr)
        return 130


def _run_failed(e: Exception) -> bool:
    """A run that started and failed (status 1), as against bad usage or input (status 2)."""
    from .model import TrainingDiverged
    return isinstance(e, TrainingDiverged)


def _as_flags(e: Exception) -> str:
    """An error's message, a setting named as its flag (``batch_size: ...`` -> ``--batch-size ...``)."""
    from .errors import SettingError
    if isinstance(e, SettingError):
        return f"--{e.field.replace('_', '-')} {e.detail}"
    return str(e)


if __name__ == "__main__":
    sys.exit(main())
