"""One concept, one relative path in every tree (the "mirror"), checked so a newcomer can guess.

For a concept `<c>` of family `<f>` (Python names use `_` where page names use `-`):

    snippets/<f>/<c>.py            the code, run at build time
    docs/<f>/<c>.md                the page that includes it
    tests/<f>/test_<c>.py          its checks against PyTorch
    fieldguide/figures/<f>/<c>.py  its figures, if it has any (a fence names `<f>.<c>.<function>`)
    glossary/<f>.yml               the family's glossary entries

Family-wide material (the index page's demo, figure or comparison) is the concept `index`.
Each failure names what is out of place and where it should be.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS, SNIPPETS, TESTS = ROOT / "docs", ROOT / "snippets", ROOT / "tests"
FIGURES, GLOSSARY = ROOT / "fieldguide" / "figures", ROOT / "glossary"
NOT_FAMILIES = {"reference", "stylesheets"}  # docs/ folders that hold no concepts
FAMILIES = sorted(p.name for p in DOCS.iterdir()
                  if p.is_dir() and p.name not in NOT_FAMILIES and (p / "index.md").is_file())
FIGURE_FENCE = re.compile(r"^\s*(`{3,}|~{3,})figure\s*\n\s*(\S+)\s*\n", re.M)


def modules(folder: Path) -> list[str]:
    """Public module names in `folder` (no __init__, no _private helpers)."""
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))


def pages(family: str) -> list[str]:
    return sorted(p.stem for p in (DOCS / family).glob("*.md"))


def page_of(module: str) -> str:
    return module.replace("_", "-")


def module_of(page: str) -> str:
    return page.replace("-", "_")


def test_families_found():
    """Guards the parametrisations below against collecting nothing."""
    assert len(FAMILIES) >= 2, FAMILIES


def test_every_family_folder_is_known():
    """snippets/, tests/, figures and glossary hold no family that docs/ does not have."""
    stray = []
    for tree, names in [
        (SNIPPETS, [p.name for p in SNIPPETS.iterdir() if (p / "__init__.py").is_file()]),
        (TESTS, [p.name for p in TESTS.iterdir() if p.is_dir() and p.name not in {"site"}
                 and not p.name.startswith((".", "_"))]),
        (FIGURES, [p.name for p in FIGURES.iterdir() if p.is_dir() and not p.name.startswith("_")]),
        (GLOSSARY, [p.stem for p in GLOSSARY.glob("*.yml")]),
    ]:
        stray += [f"{tree.relative_to(ROOT)}/{n}" for n in names if n not in FAMILIES]
    assert not stray, f"not a family (no docs/<family>/index.md): {stray}"


def test_no_stray_figure_modules():
    """Figures live in a family's package, never loose in fieldguide/figures/."""
    assert modules(FIGURES) == [], "move these into fieldguide/figures/<family>/<page>.py"


@pytest.mark.parametrize("family", FAMILIES)
def test_names_follow_the_convention(family):
    """Page names use '-', module names '_', both lower case, so one maps onto the other."""
    bad = [f"docs/{family}/{p}.md" for p in pages(family) if not re.fullmatch(r"[a-z0-9-]+", p)]
    for folder in (SNIPPETS / family, FIGURES / family):
        bad += [f"{folder.relative_to(ROOT)}/{m}.py" for m in modules(folder)
                if not re.fullmatch(r"[a-z][a-z0-9_]*", m)]
    assert not bad, f"rename: {bad}"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_snippet_has_a_test_file(family):
    missing = [f"tests/{family}/test_{m}.py (for snippets/{family}/{m}.py)"
               for m in modules(SNIPPETS / family)
               if not (TESTS / family / f"test_{m}.py").is_file()]
    assert not missing, f"missing test files: {missing}"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_test_file_has_a_snippet(family):
    orphans = [f"tests/{family}/{p.name} (no snippets/{family}/{p.stem[5:]}.py)"
               for p in sorted((TESTS / family).glob("test_*.py"))
               if not (SNIPPETS / family / f"{p.stem[5:]}.py").is_file()]
    assert not orphans, f"test files out of place: {orphans}"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_snippet_is_included_by_its_page(family):
    """snippets/<f>/<c>.py is shown on docs/<f>/<c>.md (and so a page whose family has a snippet
    of its name includes it)."""
    faults = []
    for m in modules(SNIPPETS / family):
        page = DOCS / family / f"{page_of(m)}.md"
        include = f'--8<-- "snippets/{family}/{m}.py'
        if not page.is_file():
            faults.append(f"snippets/{family}/{m}.py has no page docs/{family}/{page.name}")
        elif include not in page.read_text(encoding="utf-8"):
            faults.append(f"docs/{family}/{page.name} does not include snippets/{family}/{m}.py")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_figure_module_has_its_page(family):
    folder = FIGURES / family
    if not folder.is_dir():
        pytest.skip(f"the {family} family has no figures yet")
    assert (folder / "__init__.py").is_file(), f"add fieldguide/figures/{family}/__init__.py"
    orphans = [f"fieldguide/figures/{family}/{m}.py (no docs/{family}/{page_of(m)}.md)"
               for m in modules(folder) if not (DOCS / family / f"{page_of(m)}.md").is_file()]
    assert not orphans, f"figure modules with no page: {orphans}"


@pytest.mark.parametrize("family", FAMILIES)
def test_figures_come_from_the_pages_own_module(family):
    """A figure fence on docs/<f>/<c>.md names `<f>.<c>.<function>`."""
    faults = []
    for page in pages(family):
        text = (DOCS / family / f"{page}.md").read_text(encoding="utf-8")
        for match in FIGURE_FENCE.finditer(text):
            name = match.group(2)
            expected = f"{family}.{module_of(page)}."
            if not name.startswith(expected):
                faults.append(f"docs/{family}/{page}.md: figure {name!r} should be {expected}*, "
                              f"drawn in fieldguide/figures/{family}/{module_of(page)}.py")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize("family", FAMILIES)
def test_glossary_file_per_family(family):
    """glossary/<f>.yml exists and its entries point at pages of that family."""
    path = GLOSSARY / f"{family}.yml"
    assert path.is_file(), f"add glossary/{family}.yml with the family's entries"
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    elsewhere = [f"{e.get('term')!r} -> {e.get('page')}" for e in entries
                 if not str(e.get("page", "")).startswith(f"{family}/")]
    assert not elsewhere, f"glossary/{family}.yml has entries of other families: {elsewhere}"
