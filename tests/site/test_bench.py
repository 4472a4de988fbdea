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
    """Each row of both tables did the work it stands for (run on one family, for speed)."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench.py"), "--runs", "1", "--pause", "2",
         "--family", "activations"],  # the edited snippet's family: the rows do the same work
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(r"^(floor|cold|warm|one snippet)\s+([\d.]+)\s+([\d.]+)\s+(\S+)$",
                      result.stdout, re.M)
    ran = [(name, int(count)) for name, _, _, count in rows]
    # Editing relu.py reruns the blocks of its page from the edited one on and redraws the ReLU
    # and softplus figures: the same work in a fresh process and in a serve process.
    edited = ran[3][1]
    fresh = [("floor", 0), ("cold", ran[1][1]), ("warm", 0), ("one snippet", edited)]
    serve = [("floor", 0), ("warm", 0), ("one snippet", edited)]
    assert ran == fresh + serve, result.stdout
    assert 3 <= edited < ran[1][1] / 5, result.stdout
    # The cold build runs every executed block and draws every figure of the family's pages.
    fences = re.compile(r'^\s*(?:`{3,}|~{3,})\s*(?:python\b.*exec="on"|figure\s*$)', re.M)
    pages = (ROOT / "docs" / "activations").glob("*.md")
    assert ran[1][1] == sum(len(fences.findall(p.read_text())) for p in pages)
    assert "slowest code blocks and figures" in result.stdout
    assert re.search(r"from saving an edit .* to the page showing it: \d+\.\d\d s", result.stdout)
    for _, seconds, ratio, _ in rows:
        assert float(seconds) > 0
        assert float(ratio) > 0


def test_attention_bench_prints_a_row_per_length_with_growth_ratios():
    """tools/bench_attention.py times both implementations at each doubling of the length."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench_attention.py"), "--repeats", "1",
         "--max-length", "512"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r"\s*\d", line)]
    # L, ours, torch, ours/torch; then L, ours, growth, torch, growth, ours/torch
    assert [len(r) for r in rows] == [4, 6, 6], result.stdout
    assert [int(r[0]) for r in rows] == [128, 256, 512], result.stdout
    assert all(float(x) > 0 for r in rows for x in r[1:]), result.stdout
    bad = subprocess.run([sys.executable, str(ROOT / "tools" / "bench_attention.py"),
                          "--max-length", "64"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "--max-length at least 128" in bad.stderr
