"""Search that lands on the right page first: glossary names as tags on the right entries.

Material's search index has one entry per page section (the page itself is the entry without an
`#anchor`); its `tags` field outranks titles and text by far. The theme would put a page's tags
on every one of its sections; here, after the build, each glossary term and alias becomes a tag
of the entry that covers it: the section when it points to an `#anchor` (boosted, since the
theme scores a page's own entry up to 2.5 times higher than a section's), else the page. A search
for the term then ranks its page first, and the result shows the section's link instead of
folding it away under "more on this page".

The theme's index does not normalise by field length, so a name that another name contains
("ReLU" in "leaky ReLU", "hinge loss" in "GAN hinge loss") would score the same on both pages.
Shorter names are therefore repeated more often (see `weighted`): the page whose name is exactly
the query wins, and the longer name still wins a query that spells it out. The theme would show
the tags in each result; docs/stylesheets/extra.css hides them, as they are for ranking only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from fieldguide.errors import FieldGuideError
from fieldguide.glossary import Entry

SPECIFIC = 5  # a one-word name counts 5 times, a two-word name 4 times, ... at least once
# The theme multiplies a page's own entry's score by up to 5 and a section's by up to 2; a
# section that a term points to is boosted just past that (more would let a section named
# "GAN hinge loss" outrank the page of "hinge loss" for the query "hinge loss").
SECTION_BOOST = 2.6
CONTAINED = 3  # and 3 times more for each name of another term that contains all its words


def _words(name: str) -> frozenset[str]:
    return frozenset(re.split(r"[\s\-]+", name.lower())) - {""}


def _ordered(name: str) -> list[str]:
    return list(dict.fromkeys(w for w in re.split(r"[\s\-]+", name.lower()) if w))


def _within(small: frozenset[str], large: frozenset[str]) -> bool:
    """Whether a search for the words of `small` also matches every one of them in `large`.
    The theme searches each word as a prefix ("log" finds "logistic"), so prefixes count."""
    return small != large and all(any(w.startswith(s) for w in large) for s in small)


def weighted(names: list[str], others: list[frozenset[str]]) -> list[str]:
    """The words of the names as tags, each repeated as often as the name that weighs it most
    asks: a name counts more the fewer words it has and the more names of other terms contain
    it (`others`: the word sets of every name of every other term). Taking the largest count
    rather than the sum keeps a term with many aliases from outranking others on a shared
    word such as "loss"."""
    counts: dict[str, int] = {}
    for name in dict.fromkeys(names):
        words = _words(name)
        contained = sum(1 for other in others if _within(words, other))
        weight = max(1, SPECIFIC + 1 - len(words)) + CONTAINED * contained
        # A name that contains another term's name ("GAN hinge loss" holds "hinge loss")
        # counts the words that tell them apart more, so that spelling it out wins.
        extra: dict[str, int] = {}
        for other in others:
            if _within(other, words):
                for word in _ordered(name):
                    if not any(word.startswith(o) for o in other):
                        extra[word] = extra.get(word, 0) + CONTAINED + 1
        for word in _ordered(name):  # in the name's order: the index is the same every build
            counts[word] = max(counts.get(word, 0), weight + extra.get(word, 0))
    return [word for word, count in counts.items() for _ in range(count)]


def _longer(names: list[str], others: list[frozenset[str]]) -> list[str]:
    """Other terms' words that one of these names' words begins ("adamw" for "Adam"), once each.

    The theme searches each word as a prefix, so "Adam" also finds "adamw", a rarer word that
    scores higher; counted once here, it keeps its page from outranking Adam's for "Adam" and
    still loses to AdamW's own page for "AdamW"."""
    mine = {w for name in names for w in _ordered(name) if len(w) >= 3}  # not "l", "s"
    longer = {o for other in others for o in other
              if o not in mine and any(o.startswith(w) for w in mine)}
    return sorted(longer)


def tag_index(path: Path, entries: list[Entry], urls: dict[str, str]) -> int:
    """Rewrite the search index at `path`; returns how many entries carry tags."""
    index = json.loads(path.read_text(encoding="utf-8"))
    tags: dict[str, list[str]] = {}  # index location -> names
    for entry in entries:
        page, _, anchor = entry.page.partition("#")
        url = urls.get(page)
        if url is None:
            continue
        # A term of a section tags the section, not its page: the theme folds away the sections
        # that score lower than the best entry of their page.
        tags.setdefault(f"{url}#{anchor}" if anchor else url, []).extend(entry.names)
    tagged = 0
    for doc in index["docs"]:
        names = tags.get(doc["location"])
        doc.pop("tags", None)
        if names:
            own = {_words(n) for n in names}
            others = [_words(n) for e in entries for n in e.names if _words(n) not in own]
            doc["tags"] = weighted(names, others) + _longer(names, others)
            tagged += 1
            if "#" in doc["location"]:
                doc["boost"] = SECTION_BOOST
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return tagged


# lunr (bundled in the theme's search worker) deduplicates the nodes of its token set by a key
# built as final-flag + (edge label + child id) for each edge, with nothing between a label and
# the id. When labels are digits, two different nodes can get the same key (edges {"1": 234}
# and {"1": 2, "3": 4} both give "01234"), get merged, and the token set then holds words the
# index does not: a query expanding to one (e.g. "1-Lipschitz", or "1") fails with "Cannot read
# properties of undefined (reading '_index')" and finds nothing. Ending each id with ";" makes
# the key unambiguous (a label is one character, an id only digits).
LUNR_NODE_KEY = "e=e+s+o.id}return e"
LUNR_NODE_KEY_FIXED = 'e=e+s+o.id+";"}return e'


def fix_search_worker(site_dir: Path) -> None:
    """Patch lunr's token-set node key in the built search worker (see LUNR_NODE_KEY)."""
    workers = (site_dir / "assets" / "javascripts" / "workers").glob("search.*.min.js")
    for worker in sorted(workers):  # none when the build has no search plugin
        text = worker.read_text(encoding="utf-8")
        if LUNR_NODE_KEY_FIXED in text:
            continue
        if text.count(LUNR_NODE_KEY) != 1:
            raise FieldGuideError(
                f"{worker.relative_to(site_dir)}: lunr's token-set key code has changed "
                f"(expected one '{LUNR_NODE_KEY}'); check whether the theme fixed the key "
                "collision and update fieldguide/search.py")
        worker.write_text(text.replace(LUNR_NODE_KEY, LUNR_NODE_KEY_FIXED), encoding="utf-8")
