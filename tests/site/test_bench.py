"""`make bench` measures what it says: every table row is a real build that did the stated work.

No time is checked here (times are for the benchmark to print); the `ran` column is: a broken
benchmark (say, one whose edit never reaches the build) shows up as the wrong amount of work.
"""

import re
import subprocess
import sys

import pytest

from tests.site.conftest import ROOT

pytestmark = pytest.mark.build


def test_bench_prints_both_tables_with_the_work_each_build_did():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench.py"), "--runs", "1"],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(r"^(floor|cold|warm|one snippet)\s+([\d.]+)\s+([\d.]+)\s+(\S+)$",
                      result.stdout, re.M)
    ran = [(name, int(count)) for name, _, _, count in rows]
    # Editing relu.py reruns its page's two blocks and redraws the ReLU and softplus figures.
    fresh = [("floor", 0), ("cold", ran[1][1]), ("warm", 0), ("one snippet", 4)]
    serve = [("floor", 0), ("warm", 0), ("one snippet", 4)]
    assert ran == fresh + serve, result.stdout
    # The cold build runs every executed block and draws every figure of the site.
    fences = re.compile(r'^\s*(?:`{3,}|~{3,})\s*(?:python\b.*exec="on"|figure\s*$)', re.M)
    pages = (ROOT / "docs").rglob("*.md")
    assert ran[1][1] == sum(len(fences.findall(p.read_text())) for p in pages)
    for _, seconds, ratio, _ in rows:
        assert float(seconds) > 0 and float(ratio) > 0
