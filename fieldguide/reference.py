"""API reference pages, generated from snippets/: one page per family, one section per module.

Nothing to maintain by hand: a new snippet file shows up in its family's page on the next build.
"""

from __future__ import annotations

from pathlib import Path


def families(snippets: Path) -> list[Path]:
    return sorted(p for p in snippets.iterdir() if (p / "__init__.py").is_file())


def page(family: Path) -> str:
    """The Markdown of `reference/<family>.md`: a mkdocstrings block for every public module."""
    title = family.name.replace("_", " ").capitalize()
    intro = f"The docstrings of `snippets/{family.name}/`, one module per concept."
    lines = [f"# {title}", "", intro, ""]
    for module in sorted(family.glob("*.py")):
        if not module.name.startswith("_"):
            lines += [f"::: snippets.{family.name}.{module.stem}", ""]
    return "\n".join(lines)
