"""The glossary's published contracts: stable anchors and the JSON Schema of glossary.json."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from fieldguide import glossary
from fieldguide.errors import FieldGuideError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "docs" / "glossary.schema.json"
ANCHORS = ROOT / "glossary" / "anchors.txt"

# The schema of each published format version, by the SHA-256 of its canonical JSON. Changing
# the schema means publishing a new version: bump `version` in the schema and in
# fieldguide/glossary.py's export, and add the new hash here. Never edit an existing line.
SCHEMA_SHA256 = {
    1: "7acd3c213e8bb1e56921e619c8bb87de276e4a1fa028205edddd772ad162c028",
}


def canonical_hash(schema: dict) -> str:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def entries():
    return glossary.load(ROOT / "glossary")


@pytest.fixture(scope="module")
def schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def export(entries) -> dict:
    urls = {e.page.partition("#")[0]: e.page.partition("#")[0].removesuffix(".md") + "/"
            for e in entries}
    return json.loads(glossary.export(entries, urls))


def test_schema_is_a_valid_json_schema(schema):
    """The published schema is itself valid JSON Schema (draft 2020-12)."""
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_changes_are_versioned(schema, entries):
    """The schema's version is the export's, and the schema is exactly the one recorded for that
    version: editing it without a new version number fails here."""
    version = schema["properties"]["version"]["const"]
    assert export(entries)["version"] == version
    assert version in SCHEMA_SHA256, f"record version {version}'s schema hash in this test"
    assert canonical_hash(schema) == SCHEMA_SHA256[version], (
        f"docs/glossary.schema.json changed but its version is still {version}: publish the change "
        f"as version {version + 1} (schema, export and this table)")


def test_export_validates_against_the_schema(schema, entries):
    """Every entry of the export satisfies the schema."""
    jsonschema.validate(export(entries), schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(("field", "value"), [
    ("short", "two\nlines"), ("anchor", "Not A Slug"), ("page", "https://example.com"),
    ("aliases", "not a list"), ("extra", 1),
])
def test_schema_rejects_malformed_entries(schema, entries, field, value):
    """The schema is not vacuous: each malformed field makes validation fail."""
    data = export(entries)
    data["terms"][0] = {**data["terms"][0], field: value}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_every_anchor_is_registered(entries):
    """Each anchor the glossary page carries is listed in glossary/anchors.txt, so that its
    disappearance would be caught."""
    missing = sorted(glossary.all_anchors(entries) - set(glossary.read_published(ANCHORS)))
    assert not missing, f"run `make anchors` to list {len(missing)} new anchor(s): {missing[:8]}"


def test_a_published_anchor_cannot_disappear(entries, tmp_path):
    """Listing an anchor that no entry provides stops the build with a message naming it."""
    listed = tmp_path / "anchors.txt"
    listed.write_text("# comment\n\nrelu\nno-such-term\n", encoding="utf-8")
    with pytest.raises(FieldGuideError, match=r"\['no-such-term'\].*alias"):
        glossary.check_published(entries, listed)


def test_renaming_a_term_keeps_its_anchor_through_an_alias(entries):
    """An alias gets an anchor of its own, so a term renamed with its old name kept as an alias
    keeps every published link working."""
    relu = next(e for e in entries if e.term == "ReLU")
    renamed = glossary.Entry(term="rectifier", short=relu.short, definition=relu.definition,
                             page=relu.page, aliases=("ReLU", *relu.aliases))
    others = [e for e in entries if e is not relu]
    assert "relu" in glossary.all_anchors([*others, renamed])
    assert glossary.alias_anchors([*others, renamed])["relu"].term == "rectifier"


def test_alias_anchors_never_shadow_term_anchors(entries):
    """No alias anchor equals a term's anchor, and each points at the entry of that alias."""
    terms = {e.anchor for e in entries}
    for anchor, entry in glossary.alias_anchors(entries).items():
        assert anchor not in terms
        assert anchor in {glossary.slug(a) for a in entry.aliases}


def test_display_math_in_a_definition_is_refused_by_name():
    """A definition with $$ (shown as raw TeX on the glossary page) stops the build, naming the
    file and the term."""
    raw = {"term": "integral image", "short": "One line.", "page": "fundamentals/index.md",
           "definition": "$$S = 1$$ for every image."}
    with pytest.raises(FieldGuideError, match=r"x\.yml: entry 'integral image'.*display math"):
        glossary._parse_entry(raw, "glossary/x.yml")
