"""`make serve` shows an edited snippet without a restart: its blocks rerun and its figure redraws.

This runs the real `mkdocs serve` on a copy of the project, edits a snippet file on disk and
polls the served page until the edit shows (or a generous timeout passes).
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.site.conftest import copy_project

pytestmark = pytest.mark.build

PAGE = "activations/relu/"
# A cold first build runs every block on 2 shared cores; rebuilds are far quicker. The bounds are
# only there so that a broken live reload fails the test instead of hanging it.
FIRST_BUILD_S = 300
REBUILD_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode("utf-8")
    except OSError:
        return None


def wait_for(url: str, condition, timeout: float, what: str, server, log: Path) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"mkdocs serve exited while waiting for {what}:\n{log.read_text()}")
        html = fetch(url)
        if html is not None and condition(html):
            return html
        time.sleep(0.5)
    pytest.fail(f"{what} did not show within {timeout} s:\n{log.read_text()}")


def relu_figure(html: str) -> str:
    figures = re.findall(r'<figure class="fg-figure">.*?</figure>', html, re.S)
    (figure,) = [f for f in figures if 'id="fig-relu-' in f]
    return figure


def test_serve_shows_snippet_edits_without_restart(tmp_path):
    root = copy_project(tmp_path / "project")
    port = free_port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "FIELDGUIDE_CACHE_DIR": str(tmp_path / "c")}
    log = tmp_path / "serve.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--strict",
             "--dev-addr", f"127.0.0.1:{port}", "-f", str(root / "mkdocs.yml")],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/{PAGE}"
    try:
        before = wait_for(url, lambda h: "fig-relu" in h, FIRST_BUILD_S, "the first build",
                          server, log)
        figure_before = relu_figure(before)

        relu = Path(root / "snippets" / "activations" / "relu.py")
        text = relu.read_text()
        # The check section prints a new line; the implementation changes what the figure plots.
        text = text.replace('    print("x        ", x)\n',
                            '    print("x        ", x)\n    print("edited while serving")\n', 1)
        shown = "return np.where(x < 0, 0, x)"
        text = text.replace(f"{shown}  #", f"{shown} + 0.5  #", 1)
        assert "edited while serving" in text, "the edit did not apply"
        assert "+ 0.5" in text, "the edit did not apply"
        relu.write_text(text)

        after = wait_for(url, lambda h: "edited while serving" in h, REBUILD_S,
                         "the edited block's output", server, log)
        assert relu_figure(after) != figure_before, "the ReLU figure was not redrawn"
        shown = html.unescape(re.sub(r"<[^>]+>", "", after))  # highlighting splits code
        assert "np.where(x < 0, 0, x) + 0.5" in shown  # the shown source follows the file too
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


# Rebuilds in one process, as `mkdocs serve` makes them (see tools/bench.py), printing how many
# pages each rebuild rendered and reused.
REBUILDS = """
import sys
from pathlib import Path
from mkdocs.commands.build import build
from mkdocs.config import load_config
root, out, snippet = map(Path, sys.argv[1:4])
for edit in (False, True):
    if edit:
        text = snippet.read_text()
        snippet.write_text(text.replace("# --8<-- [start:relu]\\n",
                                        "# --8<-- [start:relu]\\n# edited while serving\\n", 1))
    config = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(out), strict=True)
    config.plugins.on_startup(command="serve", dirty=False)
    build(config, serve_url="http://127.0.0.1:8000/")
    from fieldguide import pagememo
    print("pages", pagememo.stats["rendered"], pagememo.stats["reused"])
"""


def test_serve_rebuilds_only_touched_pages_and_match_a_full_build(tmp_path):
    """After a one-snippet edit, a `make serve` rebuild renders only the pages the edit touches,
    and what it writes is byte-identical to a fresh `mkdocs build` of the edited project."""
    from tests.site.conftest import run_build
    from tests.site.test_hosting import MAY_DIFFER, first_difference

    root = copy_project(tmp_path / "project")
    pages = "activations/relu.md,activations/softplus.md,activations/sigmoid.md"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "FIELDGUIDE_EXEC": pages,
           "FIELDGUIDE_CACHE_DIR": str(tmp_path / "cache")}
    snippet = root / "snippets" / "activations" / "relu.py"
    result = subprocess.run(
        [sys.executable, "-c", REBUILDS, str(root), str(tmp_path / "served"), str(snippet)],
        cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (first, second) = [tuple(map(int, line.split()[1:])) for line in result.stdout.splitlines()
                       if line.startswith("pages ")]
    assert first[1] == 0, f"the first build reused pages: {first}"
    # relu.md includes relu.py; softplus.md draws relu.py's function; nothing else reads it.
    assert second == (2, first[0] - 2), f"rendered, reused: {second} (first build: {first})"

    fresh = tmp_path / "fresh"
    built = run_build(root, fresh, execute=pages, cache_dir=tmp_path / "cache")
    assert built.returncode == 0, built.stdout + built.stderr
    served = tmp_path / "served"
    names = {p.relative_to(fresh).as_posix() for p in fresh.rglob("*") if p.is_file()}
    assert names == {p.relative_to(served).as_posix() for p in served.rglob("*") if p.is_file()}
    faults = []
    for name in sorted(names - MAY_DIFFER):
        a, b = (served / name).read_bytes(), (fresh / name).read_bytes()
        if a != b:
            faults.append(f"{name} differs at {first_difference(a, b, Path(name).suffix)}")
    assert not faults, "\n".join(faults)
