"""The ``gradwise`` command line: ``gradwise train``, ``gradwise gradcheck``.

Each subcommand is a thin shell over a library function; errors a user can cause are
printed as one line with the fix, never as a traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from . import __version__
from .errors import GradwiseError


def _add_train_flags(p: argparse.ArgumentParser) -> None:
    from .train import TrainConfig
    helps = {
        "data": "data set: mnist (default) or fashion-mnist",
        "data_dir": "folder holding DATA/ with the IDX files (default: $GRADWISE_DATA)",
        "arch": "layer sizes, input first: 784-256-128-10",
        "act": "hidden activation: relu, leaky_relu, tanh, sigmoid",
        "init": "weight init: he_normal, he_uniform, glorot_normal, glorot_uniform, lecun_normal, "
                "uniform01, normal01",
        "opt": "optimiser: sgd, rmsprop, adam, adamw",
        "lr": "learning rate",
        "momentum": "momentum for sgd/rmsprop",
        "weight_decay": "L2 weight decay (decoupled for adamw)",
        "schedule": "lr schedule: none, cosine, step:EVERY:FACTOR, exp:GAMMA, warmup:EPOCHS[+cosine]",
        "dropout": "dropout rate after each hidden layer",
        "epochs": "passes over the training data",
        "batch_size": "samples per step",
        "val_split": "share of the training set held out for validation",
        "seed": "random seed (init, shuffling, split, dropout)",
        "out": "run folder (default: runs/DATA-DATE-TIME)",
    }
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        kind = {"int": int, "float": float}.get(str(f.type), str)
        p.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=kind, default=None,
                       help=f"{helps[f.name]} (default: {getattr(defaults, f.name)})")
    p.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file; flags override it")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the summary lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradwise", description="Neural networks from scratch on NumPy.",
        epilog="Run 'gradwise COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"gradwise {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser("train", help="train a digit classifier (MNIST by default)",
                           description="Train an MLP and write a run folder: model.npz + model.json, "
                                       "config.toml, metrics.json.")
    _add_train_flags(train)
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
    sub.add_parser("gradcheck", help="check every layer and loss against finite differences",
                   description="Finite-difference check (float64) of every layer and loss.")
    return parser


def cmd_train(args) -> int:
    from .train import TrainConfig, load_config, run
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig)
                 if getattr(args, f.name) is not None}
    cfg = load_config(args.config, overrides) if args.config else TrainConfig(**overrides)
    run(cfg, verbose=2 if args.quiet else 1)
    return 0


def cmd_data(args) -> int:
    import numpy as np

    from . import data

    if args.data_command == "list":
        print(f"{'name':<14} {'where':<60}")
        for name in ("mnist", "fashion-mnist", "mnist-mini"):
            try:
                where = data.load(name, download=False, quiet=True).source if name != "mnist-mini" \
                    else "embedded in gradwise"
            except data.DataError:
                where = "not on this machine (gradwise data fetch " + name + ")"
            print(f"{name:<14} {where:<60}")
        print(f"{'toy sets':<14} {', '.join(['xor', 'and', 'or', 'nand', 'nor', 'spirals', 'blobs'])} "
              f"(all 16 two-input gates by name or truth table)")
        print(f"cache folder: {data.cache_dir()}")
        return 0
    download = args.data_command == "fetch"
    ds = data.load(args.name, data_dir=args.data_dir, download=download)
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return {"train": cmd_train, "data": cmd_data, "gradcheck": cmd_gradcheck}[args.command](args)
    except (GradwiseError, ValueError) as e:
        print(f"gradwise {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gradwise {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
