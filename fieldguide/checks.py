"""Checks on page sources that fail the build with a message naming the page and the item."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fieldguide.errors import FieldGuideError

# `--8<-- "path"` or `--8<-- "path:section"` on a line of its own (pymdownx.snippets syntax).
_INCLUDE = re.compile(r'^\s*-{1,}8<-{1,}\s+"([^"]+)"\s*$', re.M)
_TRACEBACK = "Traceback (most recent call last)"


def check_includes(markdown: str, page: str, root: Path) -> None:
    """Every snippet a page includes must exist, and so must every named section it asks for."""
    for match in _INCLUDE.finditer(markdown):
        target = match.group(1)
        path, _, section = target.partition(":")
        if section and re.fullmatch(r"\d+(:\d+)?", section):  # a line range, not a section name
            section = ""
        file = root / path
        if not file.is_file():
            raise FieldGuideError(f"{page}: includes '{path}', which does not exist")
        if section:
            text = file.read_text(encoding="utf-8")
            for edge in ("start", "end"):
                if f"--8<-- [{edge}:{section}]" not in text:
                    raise FieldGuideError(
                        f"{page}: includes section '{section}' of {path}, but that file has no "
                        f"'# --8<-- [{edge}:{section}]' marker"
                    )


def included_files(markdown: str) -> list[str]:
    """The files (relative to the project) that a page includes."""
    return sorted({m.group(1).partition(":")[0] for m in _INCLUDE.finditer(markdown)})


_FIGURE_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,})figure\s*\n\s*(\S+)\s*\n", re.M)


def figure_names(markdown: str) -> list[str]:
    """The figures a page asks for (the bodies of its `figure` fences)."""
    return [m.group(1) for m in _FIGURE_FENCE.finditer(markdown)]


def has_traceback(html: str) -> bool:
    """Whether `html` shows a Python traceback (highlighting splits the phrase into tags)."""
    return "Traceback" in html and _TRACEBACK in re.sub(r"<[^>]+>", "", html)


def check_no_traceback(html: str, page: str) -> None:
    """A code block that raised leaves a traceback in the page: never publish one."""
    if has_traceback(html):
        text = re.sub(r"<[^>]+>", "", html)
        excerpt = text[text.index(_TRACEBACK) :][:1200]
        raise FieldGuideError(f"{page}: a code block raised an error while building:\n{excerpt}")


_EXEC_FENCE = re.compile(
    r'^(\s*(?:`{3,}|~{3,}))\s*(\w+)\b[^\n]*\bexec="(?:on|1|true)"[^\n]*$', re.M
)


def without_execution(markdown: str) -> str:
    """The page with its executed blocks turned into plain code blocks (for the build floor)."""
    return _EXEC_FENCE.sub(r"\1\2", markdown)


_SESSION_FENCE = re.compile(
    r'^(\s*(?:`{3,}|~{3,})\s*python\b[^\n]*\bsession="([^"]+)"[^\n]*)$', re.M
)
CONTINUES = "Continues the block above"


def mark_continuations(markdown: str) -> str:
    """Title every shown block that continues an earlier block of its session on the page.

    Such a block uses names defined above it, so it does not run on its own when copied; the
    title says so where the reader sees it (and tests use it to run the blocks together).
    """
    seen: set[str] = set()

    def mark(match: re.Match) -> str:
        line, session = match.group(1), match.group(2)
        first = session not in seen
        seen.add(session)
        if first or "source=" not in line or "title=" in line:
            return line
        return f'{line} title="{CONTINUES}"'

    return _SESSION_FENCE.sub(mark, markdown)


def program_button(blocks: list[str]) -> str:
    """A button under a continuation block that copies the whole runnable program: the code of
    every block of its session up to and including this one (Material's clipboard handles it)."""
    program = "\n\n\n".join(blocks) + "\n"
    return (
        '<p class="fg-program"><button type="button" class="md-button fg-copy-program" '
        f'data-clipboard-text="{html.escape(program, quote=True)}" '
        f'title="Copies blocks 1 to {len(blocks)} of this example, which run on their own">'
        f"Copy the runnable program (blocks 1–{len(blocks)})</button></p>"
    )


def check_sessions(markdown: str, page: str, owners: dict[str, str]) -> None:
    """A session name belongs to one page: markdown-exec shares a session's names site-wide.

    `owners` maps each session seen so far in this build to its page, and is updated.
    """
    for match in _SESSION_FENCE.finditer(markdown):
        session = match.group(2)
        owner = owners.setdefault(session, page)
        if owner != page:
            raise FieldGuideError(
                f'{page}: session="{session}" is already used by {owner}; blocks of one session '
                f"share their variables across pages, so give this page its own session name"
            )
