"""The block cache reuses output only when nothing that affects it changed."""

import re

from tests.site.conftest import copy_project, run_build

STATS = re.compile(r"fieldguide: (\d+) code blocks and figures ran, (\d+) came from the cache, "
                   r"(\d+) were replayed")
DRAWN = re.compile(r"fieldguide: figures drawn: (.*)")
# The cache is per block and per figure, so a handful of pages shows every behaviour; the other
# pages build without running anything, which keeps these many builds fast as the site grows.
PAGES = "activations/relu.md,activations/sigmoid.md,activations/tanh.md,activations/softplus.md"


def build_log(root, dest, cache_dir) -> str:
    result = run_build(root, dest, execute=PAGES, cache_dir=cache_dir, verbose=True)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    return log


def build(root, dest, cache_dir):
    """(blocks and figures run, taken from the cache, replayed) in a build."""
    return tuple(map(int, STATS.search(build_log(root, dest, cache_dir)).groups()))


def drawn_figures(root, dest, cache_dir):
    """The figures a build drew rather than took from the cache."""
    match = DRAWN.search(build_log(root, dest, cache_dir))
    return set(match.group(1).strip().split(", ")) if match else set()


def edit_section(path, section, line):
    """Add `line` as the first line inside the named section of a snippet file."""
    text = path.read_text()
    marker = f"# --8<-- [start:{section}]\n"
    indent = re.search(rf"^( *){re.escape(marker.strip())}", text, re.M).group(1)
    path.write_text(text.replace(marker, marker + indent + line + "\n", 1))


def test_cache_hits_misses_and_replays(tmp_path):
    """Cold build runs all; warm build runs none; an edit reruns only what depends on it."""
    root = copy_project(tmp_path / "project")
    cache = tmp_path / "cache"
    relu = root / "snippets" / "activations" / "relu.py"
    page = "activations/relu/index.html"

    ran, cached, _ = build(root, tmp_path / "cold", cache)
    assert ran > 0
    assert cached == 0
    total = ran

    ran, cached, replayed = build(root, tmp_path / "warm", cache)
    assert (ran, cached, replayed) == (0, total, 0)
    assert (tmp_path / "warm" / page).read_text() == (tmp_path / "cold" / page).read_text()

    # Editing the check section reruns that block, after replaying the cached impl block
    # of the same session so that `relu` exists when the check runs.
    edit_section(relu, "check", "print('edited check')")
    ran, cached, replayed = build(root, tmp_path / "check", cache)
    assert "edited check" in (tmp_path / "check" / page).read_text()
    assert replayed >= 1
    assert ran >= 2  # the check block and the ReLU figure (it plots relu.py's functions)
    assert ran + cached == total

    # Editing the implementation reruns the impl block and everything after it in the session.
    edit_section(relu, "relu", "# edited implementation")
    ran, cached, replayed = build(root, tmp_path / "impl", cache)
    assert "edited implementation" in (tmp_path / "impl" / page).read_text()
    assert ran >= 3
    assert replayed == 0


def test_an_edit_redraws_only_the_figures_that_use_the_snippet(tmp_path):
    """Figures are keyed per drawing function: sigmoid.py feeds the sigmoid and tanh plots only."""
    root = copy_project(tmp_path / "project")
    cache = tmp_path / "cache"
    cold = drawn_figures(root, tmp_path / "cold", cache)
    assert {"activations.relu.relu", "activations.sigmoid.sigmoid", "activations.tanh.tanh"} <= cold

    edit_section(root / "snippets" / "activations" / "sigmoid.py", "impl", "# edited")
    assert drawn_figures(root, tmp_path / "edit", cache) == {
        # tanh's figure compares it with sigmoid
        "activations.sigmoid.sigmoid", "activations.tanh.tanh",
    }
    assert drawn_figures(root, tmp_path / "again", cache) == set()
