"""The home page's family cards, generated from the nav so that they never fall behind it.

`docs/index.md` holds the marker `<!-- fieldguide:families -->`; the build replaces it with one
Material grid card per family of the nav: its name, how many concept pages it has, and a link to
each of them.
"""

from __future__ import annotations

from fieldguide.errors import FieldGuideError

MARKER = "<!-- fieldguide:families -->"


def _pages(items) -> list[tuple[str | None, str]]:
    """(title, path) of every page in a nav section, depth first."""
    pages = []
    for item in items:
        if isinstance(item, str):
            pages.append((None, item))
        elif isinstance(item, dict):
            ((title, value),) = item.items()
            if isinstance(value, str):
                pages.append((title, value))
            else:
                pages += _pages(value)
    return pages


def families(nav: list) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(family title, index page, [(concept title, page)]) for each family section of the nav:
    a section whose first page is `<family>/index.md`."""
    found = []
    for item in nav:
        if not isinstance(item, dict):
            continue
        ((title, value),) = item.items()
        if not isinstance(value, list):
            continue
        pages = _pages(value)
        if not pages or not pages[0][1].endswith("/index.md") or pages[0][1].startswith(
            "reference/"
        ):
            continue
        concepts = [(t or p, p) for t, p in pages[1:]]
        found.append((title, pages[0][1], concepts))
    return found


def cards(nav: list) -> str:
    """The Markdown of the family cards."""
    sections = families(nav)
    if not sections:
        raise FieldGuideError("index.md: the nav has no family section (<family>/index.md)")
    lines = ['<div class="grid cards fg-families" markdown>', ""]
    for title, index, concepts in sections:
        links = " · ".join(f"[{t}]({p})" for t, p in concepts)
        lines += [f"-   **[{title}]({index})**: {len(concepts)} pages", "",
                  "    ---", "", f"    {links}", ""]
    lines += ["</div>", ""]
    total = sum(len(c) for _, _, c in sections)
    lines.insert(0, f"{len(sections)} families, {total} pages, each with code that ran when this "
                    "site was built.\n")
    return "\n".join(lines)


def render(markdown: str, nav: list) -> str:
    return markdown.replace(MARKER, cards(nav)) if MARKER in markdown else markdown
