"""The glossary: one YAML source in glossary/, many outputs.

Each file in `glossary/` holds a list of entries (one file per family). From them the build makes
the glossary page (one stable anchor per term, A to Z), the hover tooltips on every other page,
the search entries (through the glossary page) and `glossary.json`.

An entry:

    - term: ReLU                          # required, unique across all files
      aliases: [rectified linear unit]    # optional, each unique across all terms and aliases
      short: One line, shown on hover.    # required
      definition: |                       # required, Markdown (math allowed)
        Longer text.
      related: [leaky ReLU, GELU]         # optional, each must be another term or alias
      page: activations/relu.md           # required, a page under docs/ (an #anchor may follow)

Anchors are stable: each term's anchor on the glossary page is its slug ('Leaky ReLU' ->
`#leaky-relu`), each alias gets one too, and `glossary/anchors.txt` lists every anchor ever
published. The build stops if one of them disappears (rename a term by keeping its old name as
an alias); a test asks for new anchors to be added to the list. `glossary.json` is described by
the JSON Schema `docs/glossary.schema.json`, published beside it.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from fieldguide.errors import FieldGuideError

REQUIRED = ("term", "short", "definition", "page")
OPTIONAL = ("aliases", "related")


@dataclass(frozen=True)
class Entry:
    term: str
    short: str
    definition: str
    page: str
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    source: str = field(default="", compare=False)

    @property
    def anchor(self) -> str:
        return slug(self.term)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)


def slug(text: str) -> str:
    """A stable, readable anchor: 'Leaky ReLU' -> 'leaky-relu', 'Swish / SiLU' -> 'swish-silu'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _is_text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _parse_entry(raw, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise FieldGuideError(f"{where}: an entry must be a mapping with the keys {REQUIRED}")
    name = raw.get("term") if _is_text(raw.get("term")) else "?"
    label = f"{where}: entry '{name}'"
    unknown = sorted(set(raw) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        allowed = REQUIRED + OPTIONAL
        raise FieldGuideError(f"{label}: unknown field(s) {unknown}; allowed: {allowed}")
    for key in REQUIRED:
        if key not in raw:
            raise FieldGuideError(f"{label}: missing field '{key}'")
        if not _is_text(raw[key]):
            raise FieldGuideError(f"{label}: field '{key}' must be non-empty text")
    lists = {}
    for key in OPTIONAL:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(_is_text(v) for v in value):
            raise FieldGuideError(f"{label}: field '{key}' must be a list of non-empty texts")
        lists[key] = tuple(v.strip() for v in value)
    short = raw["short"].strip()
    if "\n" in short:
        raise FieldGuideError(f"{label}: field 'short' must be a single line (it is the tooltip)")
    if "$$" in raw["definition"]:
        raise FieldGuideError(f"{label}: field 'definition' has display math ($$); the glossary "
                              "shows definitions as running text, so write it inline ($...$)")
    return Entry(
        term=raw["term"].strip(),
        short=short,
        definition=raw["definition"].strip(),
        page=raw["page"].strip(),
        aliases=lists["aliases"],
        related=lists["related"],
        source=where,
    )


def load(directory: Path) -> list[Entry]:
    """Read and check every `*.yml` file in `directory`; raise FieldGuideError on any fault."""
    entries: list[Entry] = []
    owner: dict[str, Entry] = {}  # lower-cased term or alias -> its entry
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise FieldGuideError(f"{directory}: no glossary files (*.yml) found")
    for path in files:
        where = f"glossary/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise FieldGuideError(f"{where}: not valid YAML: {error}") from error
        if not isinstance(data, list):
            raise FieldGuideError(f"{where}: the file must hold a list of entries")
        for raw in data:
            entry = _parse_entry(raw, where)
            for name in entry.names:
                key = name.lower()
                if key in owner:
                    first = owner[key]
                    raise FieldGuideError(
                        f"{where}: entry '{entry.term}': '{name}' is already used by entry "
                        f"'{first.term}' in {first.source} (terms and aliases must be unique)"
                    )
                owner[key] = entry
            entries.append(entry)
    for entry in entries:
        for name in entry.related:
            if name.lower() not in owner:
                raise FieldGuideError(
                    f"{entry.source}: entry '{entry.term}': related term '{name}' "
                    "is not a term or alias in the glossary"
                )
    return sorted(entries, key=lambda e: e.term.lower())


def check_pages(entries: list[Entry], doc_pages: set[str]) -> None:
    """Every entry's page must be one of the site's Markdown pages."""
    for entry in entries:
        page = entry.page.partition("#")[0]
        if page not in doc_pages:
            raise FieldGuideError(
                f"{entry.source}: entry '{entry.term}': page '{page}' does not exist under docs/"
            )


def alias_anchors(entries: list[Entry]) -> dict[str, Entry]:
    """Anchor -> entry for the aliases whose slug is not already a term's anchor (first wins)."""
    anchors = {e.anchor: e for e in entries}
    extra: dict[str, Entry] = {}
    for entry in entries:
        for alias in entry.aliases:
            anchor = slug(alias)
            if anchor and anchor not in anchors and anchor not in extra:
                extra[anchor] = entry
    return extra


def all_anchors(entries: list[Entry]) -> set[str]:
    """Every anchor the glossary page carries: one per term, and those of the aliases."""
    return {e.anchor for e in entries} | set(alias_anchors(entries))


def read_published(path: Path) -> list[str]:
    """The anchors listed in `path` (one per line; blank lines and # comments ignored)."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def check_published(entries: list[Entry], path: Path) -> None:
    """Every anchor ever published (listed in `path`) still exists on the glossary page."""
    gone = sorted(set(read_published(path)) - all_anchors(entries))
    if gone:
        raise FieldGuideError(
            f"glossary/{path.name}: published anchor(s) {gone} no longer exist on the glossary "
            "page; links to them would break. Keep the old name as an alias of the entry that "
            "replaced it (aliases get anchors too)."
        )


def lookup(entries: list[Entry]) -> dict[str, Entry]:
    return {name.lower(): entry for entry in entries for name in entry.names}


def render_page(entries: list[Entry]) -> str:
    """The Markdown of the glossary page, A to Z, one `###` heading and anchor per term."""
    by_name = lookup(entries)
    lines = [
        "---",
        "search:",
        "  boost: 4  # a term's own entry should rank above pages that merely mention it",
        "---",
        "",
        "# Glossary",
        "",
        "Every term the site uses, A to Z. Hover a linked term on any page to see its one-line",
        "definition; the same entries are published as",
        '<a href="../glossary.json">glossary.json</a> for tools, described by the JSON Schema',
        '<a href="../glossary.schema.json">glossary.schema.json</a>.',
        "",
    ]
    extra = alias_anchors(entries)
    spans: dict[str, list[str]] = {}
    for anchor, entry in extra.items():
        spans.setdefault(entry.term, []).append(f'<span id="{anchor}"></span>')
    letters = sorted({e.term[0].upper() for e in entries})
    lines += [" · ".join(f"[{c}](#letter-{c.lower()})" for c in letters), ""]
    letter = None
    for entry in entries:
        if entry.term[0].upper() != letter:
            letter = entry.term[0].upper()
            lines += [f"## {letter} {{#letter-{letter.lower()}}}", ""]
        # Aliases go in the heading too: search ranks heading words far above body text.
        also = ""
        if entry.aliases:
            also = f' <small class="fg-aliases">({", ".join(entry.aliases)})</small>'
        targets = "".join(spans.get(entry.term, []))  # old or alternative names link here too
        lines += [f"### {entry.term}{also} {{#{entry.anchor}}}", "",
                  f"{targets}**{entry.short}**", ""]
        if entry.aliases:
            lines += ["*Also called:* " + ", ".join(entry.aliases) + ".", ""]
        lines += [entry.definition, ""]
        if entry.related:
            links = [f"[{name}](#{by_name[name.lower()].anchor})" for name in entry.related]
            lines += ["*Related:* " + ", ".join(links) + ".", ""]
        lines += [f"*Covered in:* [{entry.page.partition('#')[0]}]({entry.page})", ""]
    return "\n".join(lines)


def export(entries: list[Entry], page_urls: dict[str, str]) -> str:
    """The machine-readable glossary, as JSON text; `page_urls` maps a page to its site URL."""
    items = []
    for entry in entries:
        page, _, anchor = entry.page.partition("#")
        item = asdict(entry)
        del item["source"]
        item["anchor"] = entry.anchor
        item["glossary_url"] = f"glossary/#{entry.anchor}"
        item["page_url"] = page_urls[page] + (f"#{anchor}" if anchor else "")
        items.append(item)
    return json.dumps({"version": 1, "terms": items}, indent=2, ensure_ascii=False) + "\n"


def relative_link(from_page: str, target: str) -> str:
    """A Markdown-style relative link from one docs page to another (MkDocs rewrites it)."""
    return posixpath.relpath(target, start=posixpath.dirname(from_page) or ".")
