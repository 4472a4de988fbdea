"""The real site builds with --strict and carries what every reader relies on."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def nav_pages(nav) -> list[str]:
    pages = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


PAGES = nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
CONCEPT_PAGES = [p for p in PAGES if p.count("/") == 1 and not p.endswith("index.md")
                 and not p.startswith("reference/")]


def html_of(site: Path, page: str) -> str:
    """The built HTML of a docs page ('a/b.md' -> a/b/index.html, 'a/index.md' -> a/index.html)."""
    stem = page.removesuffix(".md")
    folder = stem.removesuffix("index") if stem.split("/")[-1] == "index" else stem + "/"
    return (site / folder / "index.html").read_text(encoding="utf-8")


def test_every_nav_page_is_built(built_site):
    """Each page in the nav exists in the output."""
    for page in PAGES:
        assert html_of(built_site, page)


def test_versions_in_footer(built_site):
    """The footer states the torch and numpy versions the code ran with."""
    import numpy
    import torch

    home = html_of(built_site, "index.md")
    assert f"PyTorch {torch.__version__}" in home
    assert f"NumPy {numpy.__version__}" in home


@pytest.mark.parametrize("page", CONCEPT_PAGES)
def test_concept_page_shows_code_output_error_and_figures(built_site, page):
    """A concept page shows executed code, its output and the measured error against its
    reference, and every figure its source asks for as an inline SVG."""
    html = html_of(built_site, page)
    assert 'class="language-python highlight"' in html, "no code shown"
    # A float error like 1.2e-07, or an exact check's whole-number difference ("value 0").
    measured = r"max \|ours - (?:torch|reference)\|[^<]*(?:\d\.\de[+-]\d\d|value \d+\b)"
    assert re.search(measured, html), "no measured error"
    asked = len(re.findall(r"^\s*`{3,}figure\s*$", (ROOT / "docs" / page).read_text(), re.M))
    drawn = len(re.findall(r'<figure class="fg-figure"><svg', html))
    assert drawn == asked, f"{asked} figure fences, {drawn} drawn figures"
    assert "Traceback" not in html


def test_math_is_mathml_with_no_raw_tex(built_site):
    """Math is rendered to MathML at build time; no TeX delimiters are left in the text."""
    html = html_of(built_site, "activations/relu.md")
    assert "<math" in html
    visible = re.sub(r"<annotation.*?</annotation>", "", html, flags=re.S)
    visible = re.sub(r"<(pre|code)\b.*?</\1>", "", visible, flags=re.S)
    assert "\\(" not in visible
    assert "\\[" not in visible
    assert "$$" not in visible


def test_no_third_party_requests_in_pages(built_site):
    """No page loads a script, style or font from another host (no CDN, no Google Fonts)."""
    for page in built_site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for url in re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(https?:)?//", url), f"{page}: loads {url}"


def test_glossary_page_and_export(built_site):
    """The glossary page has an anchor per term; glossary.json lists the same terms."""
    data = json.loads((built_site / "glossary.json").read_text())
    html = (built_site / "glossary" / "index.html").read_text()
    assert data["terms"], "empty glossary export"
    for term in data["terms"]:
        assert f'id="{term["anchor"]}"' in html
        for alias in term["aliases"]:
            assert alias in html, f"alias {alias} missing from the glossary page"


def test_tooltips_link_terms_with_their_definition(built_site):
    """A glossary term in running text is a link to its entry whose title is the one-liner."""
    data = {t["term"]: t for t in json.loads((built_site / "glossary.json").read_text())["terms"]}
    html = html_of(built_site, "activations/index.md")
    links = re.findall(r'<a class="fg-term" href="([^"]+)" title="([^"]+)">', html)
    assert links, "no glossary tooltips on the activations index"
    anchors = {t["anchor"]: t["short"] for t in data.values()}
    for href, title in links:
        anchor = href.rpartition("#")[2]
        assert anchors[anchor] == title.replace("&amp;", "&").replace("&quot;", '"')


def test_search_index_has_every_term_and_alias(built_site):
    """Site search finds each glossary term and alias (through the glossary page's sections)."""
    index = json.loads((built_site / "search" / "search_index.json").read_text())
    text = " ".join(d["title"] + " " + d["text"] for d in index["docs"]).lower()
    for term in json.loads((built_site / "glossary.json").read_text())["terms"]:
        for name in [term["term"], *term["aliases"]]:
            assert name.lower() in text, f"search cannot find {name}"


def test_search_index_holds_math_once_without_its_tex(built_site):
    """Formulas are indexed as the text they show; their TeX annotations stay out of search."""
    index = json.loads((built_site / "search" / "search_index.json").read_text())
    code = re.compile(r"<(pre|code)\b.*?</\1>", re.S)  # code may show TeX (in docstrings)
    texts = {d["location"]: code.sub("", d["text"]) for d in index["docs"]}
    # The ReLU page's formula max(0, x) is indexed, but no TeX command from any formula is.
    assert any("max" in text for loc, text in texts.items() if loc.startswith("activations/relu"))
    tex = [(loc, m.group(0)) for loc, text in texts.items()
           for m in re.finditer(r"\\(?:frac|infty|sigma|log|max|sum|operatorname)\b", text)]
    assert not tex, f"TeX in the search index: {tex[:5]}"
    # The attribute that keeps annotations out of search is stripped from the pages.
    assert "data-search-exclude" not in html_of(built_site, "activations/relu.md")


def test_verification_page_and_json_report_every_checked_page(built_site):
    """verification.json has float64 figures (and float32 ones, except for the learning-rate
    schedules, which are plain Python floats) or exact ones (parameter counts, all matching)
    for every page whose check ran, and the
    verification page shows a row linking each of those pages."""
    from fieldguide.verification import has_check

    data = json.loads((built_site / "verification.json").read_text(encoding="utf-8"))
    assert {"python", "numpy", "torch", "matplotlib"} <= set(data["versions"])
    by_page: dict[str, set[str]] = {}
    for record in data["figures"]:
        by_page.setdefault(record["page"], set()).add(record["dtype"])
    checked = [p for p in PAGES if (ROOT / "docs" / p).is_file()
               and has_check((ROOT / "docs" / p).read_text(encoding="utf-8"))]
    assert len(checked) >= 20
    missing = [p for p in checked if not by_page.get(p, set()) & {"float64", "exact"}]
    assert not missing, f"pages with a check but no float64 or exact figures: {missing}"
    # Schedules are plain Python floats and parameter counts are exact; everything else is also
    # checked in float32.
    no_float32 = [p for p in checked if "float32" not in by_page[p]
                  and by_page[p] != {"exact"}]
    assert all(p.startswith("schedules/") for p in no_float32), no_float32
    exact = [r for r in data["figures"] if r["dtype"] == "exact"]
    assert exact, "no exact check (the parameter counts of the blocks pages)"
    assert all(r["value"] == 0 for r in exact), [r for r in exact if r["value"] != 0]
    html = (built_site / "verification" / "index.html").read_text(encoding="utf-8")
    rows = html.count("<tr>") - 1
    assert rows >= len(checked)
    for page in checked:
        stem = page.removesuffix(".md")
        url = stem.removesuffix("index") if stem.endswith("index") else stem + "/"
        assert f'href="../{url}"' in html, f"the verification page does not link {page}"


def test_home_page_shows_every_family_with_its_pages(built_site):
    """The home page has a card per family of the nav, with the right count and every page."""
    from fieldguide.home import families

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    html = (built_site / "index.html").read_text(encoding="utf-8")
    sections = families(config["nav"])
    assert len(sections) >= 2
    for title, index, concepts in sections:
        assert f'<a href="{index.removesuffix("index.md")}">{title}</a></strong>: ' \
               f"{len(concepts)} pages" in html, title
        for _, page in concepts:
            assert f'href="{page.removesuffix(".md")}/"' in html, page



def test_questions_hub_links_every_question_to_an_existing_section(built_site):
    """The questions page answers the 20 questions of the notes, each followed by links to
    sections that exist (the target page is built and has an element with the link's id), and
    the home page links it."""
    source = (ROOT / "docs" / "questions.md").read_text(encoding="utf-8")
    blocks = [b for b in source.split("\n\n") if b.startswith("**")]
    assert len(blocks) == 20, [b.splitlines()[0] for b in blocks]
    faults = []
    for block in blocks:
        question = block.split("**")[1]
        answer, arrow, targets = block.partition("→")
        links = re.findall(r"\]\(([^)\s]+)\)", targets)
        if not arrow or not links:
            faults.append(f"{question!r}: no link after the arrow")
        if len(answer.split("**")[2].split()) < 15:
            faults.append(f"{question!r}: no answer of its own before the links")
        for link in links:
            page, _, anchor = link.partition("#")
            if not (ROOT / "docs" / page).is_file():
                faults.append(f"{question!r}: {page} does not exist")
            elif not anchor:
                faults.append(f"{question!r}: {link} links a page, not a section")
            elif f'id="{anchor}"' not in html_of(built_site, page):
                faults.append(f"{question!r}: {page} has no section #{anchor}")
    assert not faults, "\n".join(faults)
    assert 'href="questions/"' in html_of(built_site, "index.md")
