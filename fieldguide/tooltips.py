"""Link the first mention of each glossary term on a page to its entry, with a hover tooltip.

A Markdown tree processor: it runs after inline parsing (so code spans, links and math are
already elements it can skip) and before MkDocs rewrites `.md` links into URLs (so the links it
makes are checked like any other). Only the first mention of a term on a page is linked, and a
term is never linked on the page that covers it, so prose does not turn into a sea of links.
"""

from __future__ import annotations

import functools
import re
from typing import Protocol
from xml.etree import ElementTree as ET

from markdown import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from fieldguide.glossary import Entry, lookup, relative_link


class BuildState(Protocol):
    entries: list[Entry]  # the loaded glossary
    page: str | None  # src path of the page being rendered, e.g. "activations/relu.md"
    linked: set[str]  # terms already linked on that page

SKIP_TAGS = {"a", "abbr", "code", "pre", "kbd", "script", "style", "math", "svg"}
SKIP_TAGS |= {f"h{i}" for i in range(1, 7)}
SKIP_CLASSES = {"arithmatex", "fg-no-gloss"}


@functools.lru_cache(maxsize=4)
def _terms(entries: tuple[Entry, ...]) -> tuple[dict[str, Entry], re.Pattern]:
    """Name -> entry, and one regex matching any term or alias (longest first), per glossary."""
    by_name = lookup(list(entries))
    names = sorted(by_name, key=len, reverse=True)
    alternatives = "|".join(re.escape(n) for n in names)
    return by_name, re.compile(rf"(?<![\w-])({alternatives})(?![\w-])", re.I)


class _Linker(Treeprocessor):
    def __init__(self, md, state: BuildState):
        super().__init__(md)
        self.state = state

    def run(self, root: ET.Element) -> None:
        page, entries = self.state.page, self.state.entries
        if page is None or page == "glossary.md" or not entries:
            return
        if getattr(self.state, "in_output", False):  # output of an executed block
            return
        self.page = page
        self.by_name, self.pattern = _terms(tuple(entries))
        # One set per page, kept in the build state: mkdocstrings converts each docstring of
        # a page separately, and a term must still be linked only once per page.
        self.done = self.state.linked
        self.done |= {e.term for e in entries if e.page.partition("#")[0] == page}
        self._walk(root)

    def _skip(self, element: ET.Element) -> bool:
        classes = set((element.get("class") or "").split())
        return element.tag in SKIP_TAGS or bool(classes & SKIP_CLASSES)

    def _walk(self, element: ET.Element) -> None:
        if self._skip(element):
            return
        if element.text and not isinstance(element.text, AtomicString):
            element.text = self._link(element.text, element, 0)
        index = 0
        while index < len(element):
            child = element[index]
            self._walk(child)
            if child.tail and not isinstance(child.tail, AtomicString):
                child.tail = self._link(child.tail, element, index + 1)
            index += 1

    def _link(self, text: str, parent: ET.Element, position: int) -> str:
        """Link the first not-yet-linked term in `text`; return the text before it."""
        for match in self.pattern.finditer(text):
            entry = self.by_name[match.group(1).lower()]
            if entry.term in self.done:
                continue
            self.done.add(entry.term)
            link = ET.Element("a")
            link.set("href", relative_link(self.page, "glossary.md") + f"#{entry.anchor}")
            link.set("title", entry.short)
            link.set("class", "fg-term")
            link.text = AtomicString(match.group(1))
            link.tail = text[match.end():]
            parent.insert(position, link)
            # The rest of the text now lives in the link's tail; the caller's loop visits it.
            return text[: match.start()]
        return text


class GlossaryLinkExtension(Extension):
    def __init__(self, state: BuildState):
        super().__init__()
        self.state = state

    def extendMarkdown(self, md) -> None:  # noqa: N802 (name fixed by Python-Markdown)
        # After inline parsing (20) and attr_list (8); before toc (5) and MkDocs' links (0).
        md.treeprocessors.register(_Linker(md, self.state), "fg-gloss", 6)
