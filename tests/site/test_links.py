"""Walk every HTML file of the built site: internal links, assets and anchors all resolve.

The strict build already checks the links written in Markdown; this walks what was published,
including what the theme, the plugins and the build hooks add (navigation, assets, glossary
links, SVG references), and the 404 page, whose URLs are absolute.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
URL_ATTRIBUTES = {"href", "src", "xlink:href", "poster", "data"}
SVG_REFERENCE = re.compile(r"url\(#([^)]+)\)")
TRACEBACK = "Traceback (most recent call last)"


class PageParser(HTMLParser):
    """Collects the ids of a page and every URL it links to or loads."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif name in URL_ATTRIBUTES:
                self.urls.append((tag, value))
            elif name == "srcset":
                self.urls += [(tag, part.split()[0]) for part in value.split(",") if part.strip()]
            for ref in SVG_REFERENCE.findall(value):  # clip-path="url(#...)" in inline SVG
                self.urls.append((tag, f"#{ref}"))

    def handle_data(self, data):
        self.text.append(data)


@cache
def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def site_path_prefix() -> str:
    """The path of `site_url` ('/' when empty): root-absolute URLs (404 page) start with it."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    path = urlsplit(config.get("site_url") or "").path or "/"
    return path if path.endswith("/") else path + "/"


def target_file(site: Path, url_path: str) -> Path | None:
    """The file a site URL path ('/a/b/', '/a/b.css') is served from, or None if there is none."""
    candidate = site / unquote(url_path).lstrip("/")
    if url_path.endswith("/") or candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def broken_links(site: Path, page: Path) -> list[str]:
    """Every internal URL of `page` that does not lead to a file (and an id, if it has one)."""
    prefix = site_path_prefix()
    here = "/" + page.relative_to(site).as_posix()
    faults = []
    for tag, url in parse(page).urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:  # external, data:, mailto:: not the site's business here
            continue
        if not parts.path and not parts.fragment:
            continue  # href="" or "?query": this very page
        if url.startswith("/"):
            if not url.startswith(prefix):
                faults.append(f"<{tag}> {url}: absolute URL outside the site path {prefix}")
                continue
            resolved = "/" + url.removeprefix(prefix)
        else:
            resolved = urljoin(here, url)
        target = target_file(site, urlsplit(resolved).path) if parts.path else page
        if target is None:
            faults.append(f"<{tag}> {url}: no such file")
        elif parts.fragment and target.suffix == ".html":
            fragment = unquote(parts.fragment)
            if fragment not in parse(target).ids:
                where = target.relative_to(site).as_posix()
                faults.append(f"<{tag}> {url}: no id {fragment!r} in {where}")
    return faults


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_internal_link_and_anchor_resolves(built_site):
    """Each relative href/src of every page names an existing file, and an existing id if any."""
    pages = html_files(built_site)
    assert len(pages) >= 5, "suspiciously few pages"
    faults = [f"{page.relative_to(built_site)}: {fault}"
              for page in pages for fault in broken_links(built_site, page)]
    checked = sum(len(parse(page).urls) for page in pages)
    assert checked > 100, f"only {checked} URLs found: is the walker broken?"
    assert not faults, f"{len(faults)} broken links:\n" + "\n".join(faults)


def test_glossary_export_urls_resolve(built_site):
    """Each term's glossary_url and page_url in glossary.json lead to an existing entry and page."""
    terms = json.loads((built_site / "glossary.json").read_text(encoding="utf-8"))["terms"]
    faults = []
    for term in terms:
        for key in ("glossary_url", "page_url"):
            parts = urlsplit(term[key])
            target = target_file(built_site, "/" + parts.path)
            if target is None:
                faults.append(f"{term['term']}: {key} {term[key]}: no such page")
            elif parts.fragment and parts.fragment not in parse(target).ids:
                faults.append(f"{term['term']}: {key} {term[key]}: no such anchor")
    assert not faults, "\n".join(faults)


def test_404_page_exists_and_renders(built_site):
    """The 404 page is a full page of the site: title, theme stylesheet, search, navigation."""
    page = built_site / "404.html"
    assert page.is_file(), "no 404.html"
    html = page.read_text(encoding="utf-8")
    assert re.search(r"<h1[^>]*>\s*404 - Not found\s*</h1>", html), "no 404 heading"
    assert re.search(r'<link[^>]+rel="stylesheet"[^>]+assets/stylesheets/main\.', html)
    assert 'data-md-component="search"' in html
    assert 'class="md-nav' in html
    assert not broken_links(built_site, page)


def test_no_page_contains_a_python_traceback(built_site):
    """No published page shows a traceback (a code block that raised while building)."""
    faults = []
    for page in html_files(built_site):
        text = "".join(parse(page).text)
        if TRACEBACK in text:
            excerpt = text[text.index(TRACEBACK):][:300]
            faults.append(f"{page.relative_to(built_site)}:\n{excerpt}")
    assert not faults, "\n\n".join(faults)
