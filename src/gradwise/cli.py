"""The ``gradwise`` command line. (Filled in by the CLI work; for now: help and version.)"""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gradwise", description="Neural networks from scratch on NumPy.")
    parser.add_argument("--version", action="version", version=f"gradwise {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
