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
        '<a href="../glossary.json">glossary.json</a> for tools.',
        "",
    ]
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
        lines += [f"### {entry.term}{also} {{#{entry.anchor}}}", "", f"**{entry.short}**", ""]
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
