"""Every Python block a reader can copy from the site runs in a fresh interpreter.

The blocks are taken from the built HTML (`div.language-python code`), exactly as a reader copies
them, and run with nothing but the installed libraries: isolated mode (`python -I`: no PYTHONPATH,
no user site, no script directory on sys.path), in an empty temporary directory, so the site's
own `snippets` and `fieldguide` packages cannot be imported.

A block titled "Continues the block above" (set by the build, fieldguide.checks.CONTINUES) uses
names from the blocks before it: it is run together with them, from the last block that is not
such a continuation. The first block of every such chain is also run alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fieldguide.checks import CONTINUES

# One worker runs the whole file, so its module fixture does its work once.
pytestmark = pytest.mark.xdist_group("copy-blocks")

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2  # the machine has 2 cores, shared
TIMEOUT = 300  # seconds per run; a block that trains something small takes a few seconds
PYTHON_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\{\s*\.)?python\b", re.M)


class BlockParser(HTMLParser):
    """The Python code blocks of a page, in order, as (title, code) pairs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._depth = 0  # div nesting inside the current block; 0 when outside any block
        self._in = ""  # "title" or "code" while inside the block's title or code element
        self._title: list[str] = []
        self._code: list[str] = []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self._depth:
            self._depth += tag == "div"
            if tag == "span" and "filename" in classes:
                self._in = "title"
            elif tag == "code":
                self._in = "code"
        elif tag == "div" and "language-python" in classes:
            self._depth, self._title, self._code = 1, [], []

    def handle_endtag(self, tag):
        if not self._depth:
            return
        if (tag, self._in) in {("span", "title"), ("code", "code")}:
            self._in = ""
        elif tag == "div":
            self._depth -= 1
            if not self._depth:
                self.blocks.append(("".join(self._title).strip(), "".join(self._code)))

    def handle_data(self, data):
        if self._in == "title":
            self._title.append(data)
        elif self._in == "code":
            self._code.append(data)


@dataclass
class Run:
    """One program to run: some consecutive blocks of a page."""

    page: str
    name: str
    code: str
    returncode: int | None = None
    output: str = ""
    faults: list[str] = field(default_factory=list)


def page_of(source: Path) -> str:
    """The built HTML file of a docs Markdown file ('a/b.md' -> 'a/b/index.html')."""
    stem = source.relative_to(ROOT / "docs").with_suffix("").as_posix()
    return f"{stem.removesuffix('index')}index.html" if stem.split("/")[-1] == "index" \
        else f"{stem}/index.html"


# Pages whose Markdown has a Python fence, known before the build, so each is its own test.
SOURCES = sorted(p for p in (ROOT / "docs").rglob("*.md")
                 if PYTHON_FENCE.search(p.read_text(encoding="utf-8")))
PAGES = [page_of(p) for p in SOURCES]


def runs_of(page: str, html: str) -> list[Run]:
    """The programs a page's blocks make: each chain of continued blocks, and its first block."""
    parser = BlockParser()
    parser.feed(html)
    parser.close()
    chains: list[list[int]] = []
    orphans = []
    for index, (title, _) in enumerate(parser.blocks):
        if title == CONTINUES and chains:
            chains[-1].append(index)
        else:
            if title == CONTINUES:
                orphans.append(index + 1)
            chains.append([index])
    runs = []
    for chain in chains:
        first, last = chain[0] + 1, chain[-1] + 1
        code = "\n\n".join(parser.blocks[i][1] for i in chain)
        runs.append(Run(page, f"blocks {first}-{last}" if len(chain) > 1 else f"block {first}",
                        code))
        if len(chain) > 1:
            runs.append(Run(page, f"block {first} alone", parser.blocks[chain[0]][1]))
    if orphans:
        runs[0].faults.append(f"block(s) {orphans} say they continue a block, but none is above")
    return runs


def execute(run: Run, workdir: Path) -> Run:
    """Run `run.code` in a fresh isolated interpreter in the empty directory `workdir`."""
    workdir.mkdir(parents=True)
    (workdir / "block.py").write_text(run.code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env |= {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}  # no display; no oversubscribed cores
    try:
        result = subprocess.run([sys.executable, "-I", "block.py"], cwd=workdir, env=env,
                                capture_output=True, text=True, timeout=TIMEOUT, check=False)
        run.returncode, run.output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired:
        run.output = f"did not finish within {TIMEOUT} s"
    return run


@pytest.fixture(scope="module")
def block_runs(built_site, tmp_path_factory) -> dict[str, list[Run]]:
    """Every page's programs, run at most WORKERS at a time; page path -> its runs."""
    runs = [run for page in sorted(built_site.rglob("*.html"))
            for run in runs_of(page.relative_to(built_site).as_posix(),
                               page.read_text(encoding="utf-8"))]
    base = tmp_path_factory.mktemp("blocks")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        done = list(pool.map(lambda item: execute(item[1], base / str(item[0])), enumerate(runs)))
    by_page: dict[str, list[Run]] = {}
    for run in done:
        by_page.setdefault(run.page, []).append(run)
    return by_page


def failures(runs: list[Run]) -> list[str]:
    messages = []
    for run in runs:
        messages += [f"{run.page}: {fault}" for fault in run.faults]
        if run.returncode != 0:
            tail = "\n".join(run.output.strip().splitlines()[-15:])
            messages.append(f"{run.page} {run.name}: exit {run.returncode}\n{tail}")
    return messages


def test_blocks_run_without_the_project_on_the_path(tmp_path):
    """Control: the isolated interpreter has numpy and torch, but not the site's packages."""
    probe = Run("-", "probe", "import numpy, torch, matplotlib\nimport snippets\n")
    execute(probe, tmp_path / "probe")
    assert "No module named 'snippets'" in probe.output, probe.output
    probe = Run("-", "probe", "import numpy, torch, matplotlib\n")
    assert execute(probe, tmp_path / "ok").returncode == 0, probe.output


@pytest.mark.parametrize("page", PAGES)
def test_copied_blocks_run(block_runs, page):
    """Each block of the page runs on its own, or after the blocks it continues, and exits 0."""
    runs = block_runs.get(page, [])
    assert runs, f"{page}: its Markdown has a Python block, but the page shows none"
    faults = failures(runs)
    assert not faults, "\n\n".join(faults)


def test_blocks_of_other_pages_run(block_runs):
    """Python blocks on pages without a Python fence in Markdown (API reference...) run too."""
    faults = [f for page, runs in block_runs.items() if page not in PAGES for f in failures(runs)]
    assert not faults, "\n\n".join(faults)
