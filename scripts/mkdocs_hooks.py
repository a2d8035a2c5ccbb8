"""mkdocs hooks: the pages of the site that are made from the code when the site is built.

- ``codes/CODE.md`` for every finding code, and ``codes/index.md``: ``gradwise.doctor.codes``
  (the same text ``gradwise doctor --explain CODE`` prints). Each page's trigger program is
  run for the page; each fixed twin is run too, and the build fails if it still has the code.
- ``cli.md``: the ``--help`` of ``gradwise`` and of each of its commands.

None of these is committed, so none can drift from the code. mkdocs.yml names this file.
"""

from __future__ import annotations

import os

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File


def on_files(files, config):
    from gradwise.doctor import codes
    for code in codes.CODES:
        check_fixed(code)
        files.append(File.generated(config, f"codes/{code}.md", content=codes.page(code)))
    files.append(File.generated(config, "codes/index.md", content=codes_index()))
    files.append(File.generated(config, "cli.md", content=cli_page()))
    return files


def check_fixed(code: str) -> None:
    """The fixed program of ``code`` must not report it as an error or a warning."""
    from gradwise.doctor import codes
    if codes.CODES[code].fixed is None:
        return
    found = codes.run_example(code, fixed=True).get(code)
    if found is not None and found.severity != "info":
        raise PluginError(f"the fixed program on the {code} page still reports it:\n{found}")


def codes_index() -> str:
    from gradwise.doctor import codes
    lines = ["# Every finding code", "",
             "Each finding the doctor reports has a stable code. Its page says what it means, the "
             "evidence it carries, the thresholds that decide it and where they come from, the fix, "
             "and a tiny program that triggers it, with the same program fixed. In a terminal, "
             "`gradwise doctor --explain CODE` prints the same page.", "",
             "Codes are listed in the order a report lists them: root causes (the data, the code, "
             "the initialisation, the learning rate) before the mechanisms and outcomes they cause.", "",
             "| code | what |", "| --- | --- |"]
    lines += [f"| [`{c}`]({c}.md) | {e.title} |" for c, e in codes.CODES.items()]
    return "\n".join(lines) + "\n"


def cli_page() -> str:
    from gradwise.cli import build_parser
    os.environ["COLUMNS"] = "100"                   # argparse wraps to the terminal's width
    parser = build_parser()
    out = ["# The command line", "",
           "Every command, flag and default, as `gradwise COMMAND --help` prints it. Exit status: 0 "
           "done, 2 bad usage or input (one line naming the flag, file or field), 1 a run that "
           "diverged (or, for `gradwise doctor`, a report with errors or warnings).", "",
           "```text", parser.format_help().rstrip(), "```"]
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in commands.choices.items():
        out += ["", f"## gradwise {name}", "", "```text", sub.format_help().rstrip(), "```"]
    return "\n".join(out) + "\n"
