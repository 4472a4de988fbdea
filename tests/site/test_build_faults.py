"""Bad input stops the build with a message naming the file and the item at fault.

Each test copies the project, injects one fault and builds the copy with --strict. Faults that
do not need code to run are built with execution off (FIELDGUIDE_EXEC=0), which is much faster;
the fault is caught by the same check either way. Faults that do need it run the blocks and
figures of the broken page only (FIELDGUIDE_EXEC=index.md), not those of the whole site.
"""

import pytest
import yaml

from tests.site.conftest import copy_project, run_build

GOOD_ENTRY = {
    "term": "Test term",
    "short": "A one-line definition.",
    "definition": "A longer definition.",
    "page": "activations/relu.md",
}


def build_with(tmp_path, *, execute=False, home_extra="", entries=None):
    root = copy_project(tmp_path / "project")
    if home_extra:
        home = root / "docs" / "index.md"
        home.write_text(home.read_text() + "\n" + home_extra + "\n")
    if entries is not None:
        (root / "glossary" / "zz-injected.yml").write_text(yaml.safe_dump(entries))
    result = run_build(root, tmp_path / "site", execute=execute)
    return result.returncode, result.stdout + result.stderr


def assert_fails(outcome, *needles):
    code, log = outcome
    assert code != 0, f"the build passed although it should fail:\n{log}"
    for needle in needles:
        assert needle in log, f"the error does not mention {needle!r}:\n{log}"


def test_unchanged_copy_builds(tmp_path):
    """Control: the copy itself builds, so each failure below is due to its fault alone."""
    code, log = build_with(tmp_path)
    assert code == 0, log


def test_failing_snippet(tmp_path):
    """A code block that raises fails the build, naming the page; no traceback is published."""
    fence = '```python exec="on"\n--8<-- "snippets/broken.py"\n```'
    root_snippet = tmp_path / "project" / "snippets" / "broken.py"
    root_snippet.parent.mkdir(parents=True)
    root_snippet.write_text('raise ValueError("injected failure")\n')
    assert_fails(build_with(tmp_path, execute="index.md", home_extra=fence),
                 "index.md", "injected failure")
    assert not (tmp_path / "site" / "index.html").exists()


def test_missing_snippet_section(tmp_path):
    """Including a section that the snippet file does not mark fails, naming page, file, section."""
    fence = '```python exec="on"\n--8<-- "snippets/activations/relu.py:no-such-section"\n```'
    assert_fails(build_with(tmp_path, home_extra=fence),
                 "index.md", "snippets/activations/relu.py", "no-such-section")


def test_missing_snippet_file(tmp_path):
    """Including a file that does not exist fails, naming the page and the path."""
    fence = '```python exec="on"\n--8<-- "snippets/no_such_file.py"\n```'
    assert_fails(build_with(tmp_path, home_extra=fence), "index.md", "snippets/no_such_file.py")


def test_broken_link(tmp_path):
    """A link to a page that does not exist fails the strict build, naming both."""
    assert_fails(build_with(tmp_path, home_extra="[gone](no-such-page.md)"),
                 "index.md", "no-such-page.md")


def test_broken_anchor(tmp_path):
    """A link to a heading that does not exist fails the strict build, naming the anchor."""
    assert_fails(build_with(tmp_path, home_extra="[gone](activations/relu.md#no-such-heading)"),
                 "index.md", "no-such-heading")


def test_unknown_figure(tmp_path):
    """A figure fence naming no existing function fails, naming the page and the figure."""
    fence = "```figure\nactivations.relu.no_such_figure\n```"
    assert_fails(build_with(tmp_path, execute="index.md", home_extra=fence),
                 "index.md", "activations.relu.no_such_figure")


def test_failing_figure(tmp_path):
    """A figure function that raises fails the build (the figure is not silently dropped)."""
    module = tmp_path / "project" / "fieldguide" / "figures" / "activations" / "zz_injected.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text('def broken():\n    raise RuntimeError("injected figure failure")\n')
    fence = "```figure\nactivations.zz_injected.broken\n```"
    assert_fails(build_with(tmp_path, execute="index.md", home_extra=fence),
                 "index.md", "activations.zz_injected.broken", "injected figure failure")


def test_session_shared_by_two_pages(tmp_path):
    """A session name used on two pages fails, naming the session and both pages."""
    # docs/activations/softmax.md runs its blocks in session "softmax".
    fence = '```python exec="on" session="softmax"\nx = 1\n```'
    assert_fails(build_with(tmp_path, home_extra=fence),
                 'session="softmax"', "index.md", "activations/softmax.md")


@pytest.mark.parametrize(
    ("entries", "needles"),
    [
        pytest.param([{k: v for k, v in GOOD_ENTRY.items() if k != "short"}],
                     ["zz-injected.yml", "Test term", "missing field 'short'"], id="missing-field"),
        pytest.param([GOOD_ENTRY, GOOD_ENTRY],
                     ["zz-injected.yml", "Test term", "already used"], id="duplicate-term"),
        pytest.param([{**GOOD_ENTRY, "aliases": ["rectified linear unit"]}],
                     ["zz-injected.yml", "Test term", "rectified linear unit", "already used"],
                     id="duplicate-alias"),
        pytest.param([{**GOOD_ENTRY, "related": ["No such term"]}],
                     ["zz-injected.yml", "Test term", "No such term"], id="unknown-related-term"),
        pytest.param([{**GOOD_ENTRY, "page": "nowhere/page.md"}],
                     ["zz-injected.yml", "Test term", "nowhere/page.md"], id="missing-page"),
        pytest.param([{**GOOD_ENTRY, "colour": "blue"}],
                     ["zz-injected.yml", "Test term", "colour"], id="unknown-field"),
        pytest.param({"term": "not a list"}, ["zz-injected.yml", "list of entries"],
                     id="not-a-list"),
    ],
)
def test_bad_glossary_entry(tmp_path, entries, needles):
    """Each kind of malformed glossary entry stops the build, naming the file and the entry."""
    assert_fails(build_with(tmp_path, entries=entries), *needles)


def test_check_that_stops_reporting(tmp_path):
    """A page's check block that prints no 'max |ours - torch|' line fails the build, naming the
    page: the verification page must not silently lose a concept."""
    module = tmp_path / "project" / "snippets" / "quiet.py"
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_text('# --8<-- [start:check]\nprint("all good, trust me")\n# --8<-- [end:check]\n')
    fence = '```python exec="on" session="quiet"\n--8<-- "snippets/quiet.py:check"\n```'
    assert_fails(build_with(tmp_path, execute="index.md", home_extra=fence),
                 "index.md", "printed no")
