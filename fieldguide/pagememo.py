"""`make serve` re-renders only the pages an edit touches.

MkDocs rebuilds the whole site after every edit. With the block cache (fieldguide/cache.py) no
code runs again, but every page is still converted from Markdown, its math turned into MathML
and its text indexed for search, so a rebuild grows with the site. In `mkdocs serve` this module
remembers, per page, the result of those three steps and the key of everything they read: the
page's final Markdown, every file it includes, every file its figures depend on, and what all
pages share (mkdocs.yml, the nav and page URLs, the glossary, the library versions, which pages
execute). A page whose key is unchanged reuses the remembered result; the rest of the build
(templates, links, the search index, the verification page) runs as in a full build, so the
output is byte-identical to one (tests/site/test_serve.py checks this).

`mkdocs build` never uses it; FIELDGUIDE_PAGE_MEMO=0 turns it off in `mkdocs serve` too. The
state lives in this module, which stays imported across rebuilds (the hooks file is reloaded).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

ENABLED = False  # set when the command is `serve` (see hooks.on_startup)
SKIP = ("reference/", "glossary.md", "verification.md")  # generated from everything: always run


@dataclass
class Rendered:
    """What rendering one page produced, and the key of what it read."""

    key: str
    content: str = ""  # Page.render's HTML
    toc: object = None
    title: str | None = None
    anchors: set[str] = field(default_factory=set)
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # to page -> anchors
    before: str | None = None  # the HTML our on_page_content received ...
    after: str | None = None  # ... and what it returned (MathML)
    figures: list = field(default_factory=list)  # verification figures its blocks printed


pages: dict[str, Rendered] = {}  # src_uri -> last rendering
stats = {"reused": 0, "rendered": 0}  # pages of the current build (reset by hooks.on_pre_build)
search: dict[str, tuple[str, list]] = {}  # page URL -> (key, its search index entries)


def start(command: str) -> None:
    global ENABLED
    ENABLED = command == "serve" and os.environ.get("FIELDGUIDE_PAGE_MEMO", "1") != "0"


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def file_texts(paths) -> list[str]:
    """Name and text of each file (a missing file counts as missing, not as an error here)."""
    texts = []
    for path in sorted({Path(p) for p in paths}):
        texts += [str(path), path.read_text(encoding="utf-8") if path.is_file() else "<missing>"]
    return texts


def memoizable(src_uri: str) -> bool:
    return ENABLED and not src_uri.startswith(SKIP)


def remember_render(page, key: str, figures_before: int, state) -> None:
    """Wrap `page.render` so that its result is remembered under `key`."""
    original = page.render
    stats["rendered"] += 1

    def render(config, files):
        original(config, files)
        pages[page.file.src_uri] = Rendered(
            key=key, content=page.content, toc=page.toc,
            title=getattr(page, "_title_from_render", None),
            anchors=set(page.present_anchor_ids or ()),
            links={f.src_uri: dict(a) for f, a in (page.links_to_anchors or {}).items()},
            figures=list(state.figures[figures_before:]),
        )

    page.render = render


def reuse_render(page, memo: Rendered) -> None:
    """Make `page.render` restore the remembered result instead of converting the Markdown."""
    stats["reused"] += 1

    def render(config, files):
        page.content, page.toc = memo.content, memo.toc
        page._title_from_render = memo.title
        page.present_anchor_ids = set(memo.anchors)
        links = {files.get_file_from_path(uri): dict(a) for uri, a in memo.links.items()}
        if None not in links:
            page.links_to_anchors = links

    page.render = render


class TemplateCache:
    """A Jinja bytecode cache kept in memory across rebuilds: each rebuild makes a new template
    environment, which would otherwise compile every theme template again."""

    def __init__(self):
        from jinja2 import BytecodeCache

        class Memory(BytecodeCache):
            def __init__(self):
                self.store: dict[str, bytes] = {}

            def load_bytecode(self, bucket):
                if bucket.key in self.store:
                    bucket.bytecode_from_string(self.store[bucket.key])

            def dump_bytecode(self, bucket):
                self.store[bucket.key] = bucket.bytecode_to_string()

        self.cache = Memory()


_templates: TemplateCache | None = None


def template_cache():
    """The shared bytecode cache (created on first use)."""
    global _templates
    if _templates is None:
        _templates = TemplateCache()
    return _templates.cache


def wrap_search_index(plugin) -> None:
    """Memoise Material's per-page search indexing (HTML parsing) by the page's content."""
    index = getattr(plugin, "search_index", None)
    if index is None or getattr(index, "fg_memo", False):
        return
    original = index.add_entry_from_context

    def add_entry_from_context(page):
        toc = [(i.id, i.title, i.level, len(i.children)) for i in _walk(page.toc)]
        key = digest(page.url, str(page.title), repr(page.meta), page.content or "", repr(toc))
        known = search.get(page.url)
        if known and known[0] == key:
            index.entries.extend(dict(e) for e in known[1])
            return None
        start = len(index.entries)
        result = original(page)
        search[page.url] = (key, [dict(e) for e in index.entries[start:]])
        return result

    index.add_entry_from_context = add_entry_from_context
    index.fg_memo = True


def _walk(toc):
    for item in toc or ():
        yield item
        yield from _walk(item.children)
