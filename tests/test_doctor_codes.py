"""Every finding code has a page (gradwise.doctor.codes) and an ``--explain`` entry, and each
page's example program triggers its code. (That each fixed twin does not is checked where the
site is built, scripts/mkdocs_hooks.py: running both here would double the time.)

The programs run in one child process with one BLAS thread: they are tiny (matrices of 64 x
784), and on a busy 2-core machine a multi-threaded BLAS makes such products 20x slower.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradwise.doctor import codes
from gradwise.doctor.findings import PRIORITY

SRC = Path(codes.__file__).resolve().parents[1]

#: In the child: each code's --explain page (which runs its trigger program) and the trigger's
#: finding.
CHILD = r"""
import contextlib, io, json, warnings
warnings.simplefilter("ignore")
from gradwise import cli
from gradwise.doctor import codes
out = {}
for code in codes.CODES:
    page = io.StringIO()
    with contextlib.redirect_stdout(page):
        rc = cli.main(["doctor", "--explain", code.lower()])
    found = codes.run_example(code).get(code)
    out[code] = {"rc": rc, "page": page.getvalue(), "site_page": codes.page(code),
                 "severity": found.severity if found else None,
                 "evidence": sorted(found.evidence) if found else []}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def ran():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def codes_in_source() -> set[str]:
    """Every code a rule writes: ``finding("CODE", "severity", ...)`` or ``Finding(...)``,
    in the doctor's modules and the classic learners."""
    text = "\n".join(p.read_text() for p in [*(SRC / "doctor").glob("*.py"), SRC / "classic.py"]
                     if p.name != "codes.py")
    text = re.sub(r"\s+", " ", text)
    return set(re.findall(r"[Ff]inding\( ?\"([A-Z][A-Z_]+)\", ?\"(?:error|warning|info)\"", text)) | set(
        re.findall(r"\(\"[a-z]+\", [^()]*\), \"([A-Z][A-Z_]+)\", \"(?:error|warning|info)\"", text))


def test_every_code_of_the_registry_and_of_the_rules_has_a_page():
    in_source = codes_in_source()
    assert len(in_source) >= 30                                  # the scan finds the rules
    missing = (set(PRIORITY) | in_source) - set(codes.CODES)
    assert not missing, f"add an entry to gradwise/doctor/codes.py for {sorted(missing)}"
    assert set(codes.CODES) <= set(PRIORITY) | in_source, "a page for a code the doctor cannot report"


def test_each_entry_names_a_real_rule_and_real_thresholds():
    for code, entry in codes.CODES.items():
        assert codes.rule_summary(entry), code
        for name in entry.thresholds:
            value, why = codes.threshold(name)
            assert why, f"{code}: the threshold {name} has no #: comment in rules.py"


def test_each_example_triggers_its_code(ran):
    notes = {"LEARNING", "TOO_FEW_STEPS"}                        # verdicts, reported as info
    for code, got in ran.items():
        assert got["severity"] is not None, f"the {code} example does not trigger {code}"
        assert (got["severity"] == "info") == (code in notes), (code, got["severity"])
        undocumented = set(got["evidence"]) - set(codes.CODES[code].evidence)
        assert not undocumented, f"{code}: describe evidence {sorted(undocumented)} in codes.py"


def test_explain_prints_the_page(ran):
    for code, got in ran.items():
        page = got["page"]
        assert got["rc"] == 0 and page.startswith(f"# {code}: "), code
        assert "## Evidence" in page and "## Fix" in page and "## A program that triggers it" in page
        assert "What the doctor says:" in page and f"] {code}" in page       # the run's own finding
        assert ("## The same program, fixed" in page) == (codes.CODES[code].fixed is not None)
        assert page == got["site_page"]                                  # the site's page


def test_explain_an_unknown_code_is_one_line_naming_the_flag(capsys):
    from gradwise import cli
    assert cli.main(["doctor", "--explain", "INPUT_SCALED"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--explain" in err[0] and "INPUT_SCALE," in err[0]
