"""The site as hosted: under a sub-path of a server, and the same bytes from every clean build.

Sub-path: a copy of the project with `site_url: http://127.0.0.1/field-guide/` is built (code not
executed, which is enough for URLs) and served under /field-guide/ by a static server that knows
nothing else, as a project site on GitHub Pages is.

Reproducibility: a second clean build with every block executed must give byte-identical output
to the session's `built_site` (the sitemap excepted), so a deploy diff shows only real changes.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from fieldguide.project import PARTS
from tests.site.conftest import ROOT, copy_project, run_build, serve
from tests.site.test_links import PageParser

# One worker runs the whole file, so its module fixture does its work once.
pytestmark = pytest.mark.xdist_group("hosting")

SUB_PATH = "field-guide/"
SITE_URL = f"http://127.0.0.1/{SUB_PATH}"
MAY_DIFFER = {"sitemap.xml", "sitemap.xml.gz"}  # dates of the build
TEXT_SUFFIXES = {".html", ".json", ".js", ".css", ".xml", ".txt", ".svg", ".map"}


@pytest.fixture(scope="module")
def subpath_site(tmp_path_factory) -> Path:
    """A directory holding the site, built for SITE_URL, in its `field-guide/` folder."""
    work = tmp_path_factory.mktemp("hosting")
    root = copy_project(work / "project")
    config = root / "mkdocs.yml"
    text, count = re.subn(r"(?m)^site_url:.*$", f"site_url: {SITE_URL}", config.read_text())
    assert count == 1, "mkdocs.yml has no top-level site_url line to replace"
    config.write_text(text)
    www = work / "www"
    result = run_build(root, www / SUB_PATH, execute=False)
    assert result.returncode == 0, f"the copy does not build:\n{result.stdout}\n{result.stderr}"
    return www


@pytest.fixture(scope="module")
def subpath_url(subpath_site):
    """The URL of the site under its sub-path; anything else on the server is 404."""
    with serve(subpath_site, not_found=subpath_site / SUB_PATH / "404.html") as base:
        yield base + SUB_PATH


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # 404 and co. still have a body: the 404 page
        with error:
            return error.code, error.read()


def local_urls(page_url: str, html: str) -> list[str]:
    """Every URL a page links to or loads on its own server, absolute, without fragment."""
    parser = PageParser()
    parser.feed(html)
    urls = []
    for _, url in parser.urls:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        urls.append(urljoin(page_url, url).partition("#")[0])
    return urls


def check_links(page_url: str, html: str, base: str, status: dict[str, int]) -> list[str]:
    """Faults of a page's local URLs: outside the sub-path, or not served with status 200."""
    faults = []
    for url in local_urls(page_url, html):
        if not url.startswith(base):
            faults.append(f"{page_url}: {url} is outside {urlsplit(base).path}")
            continue
        if url not in status:
            status[url] = fetch(url)[0]
        if status[url] != 200:
            faults.append(f"{page_url}: {url} answers {status[url]}")
    return faults


@pytest.mark.build
def test_every_page_and_asset_is_served_under_the_sub_path(subpath_site, subpath_url):
    """Every page answers 200 under /field-guide/; every URL it uses stays there and answers 200."""
    site = subpath_site / SUB_PATH
    pages = [p.relative_to(site).as_posix().removesuffix("index.html")
             for p in sorted(site.rglob("*.html")) if p.name != "404.html"]
    assert len(pages) >= 5
    status: dict[str, int] = {}
    faults = []
    for page in pages:
        code, body = fetch(subpath_url + page)
        if code != 200:
            faults.append(f"{subpath_url + page}: answers {code}")
            continue
        faults += check_links(subpath_url + page, body.decode("utf-8"), subpath_url, status)
    for extra in ("search/search_index.json", "glossary.json", "sitemap.xml"):
        if fetch(subpath_url + extra)[0] != 200:
            faults.append(f"{subpath_url + extra} is not served")
    assert len(status) > len(pages), "too few URLs checked: is the crawler broken?"
    assert not faults, "\n".join(faults)


@pytest.mark.build
def test_404_page_works_under_the_sub_path(subpath_url):
    """A missing page under the sub-path gets the 404 page, whose assets load from the sub-path."""
    missing = subpath_url + "no/such/page/"
    code, body = fetch(missing)
    html = body.decode("utf-8")
    assert code == 404
    assert "404 - Not found" in html
    faults = check_links(missing, html, subpath_url, {})
    assert not faults, "\n".join(faults)


@pytest.mark.build
@pytest.mark.browser
def test_pages_and_search_work_in_a_browser_under_the_sub_path(chromium, subpath_url):
    """In Chromium under /field-guide/: no console error, no request elsewhere, search works."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors, requests, bad = [], [], []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: uncaught {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: r.status >= 400 and bad.append(f"{r.url}: {r.status}"))
    glossary = json.loads(fetch(subpath_url + "glossary.json")[1])
    term = glossary["terms"][0]

    page.goto(subpath_url + "glossary/", wait_until="load")
    box = page.locator("input.md-search__input")
    box.click()
    page.locator(".md-search-result__meta").get_by_text("Type to start searching").wait_for()
    box.fill(term["term"])
    box.dispatch_event("keyup")
    page.locator(".md-search-result__meta").get_by_text(re.compile("matching document")).wait_for()
    links = page.eval_on_selector_all(".md-search-result__item a", "els => els.map(a => a.href)")
    assert links, f"searching {term['term']!r} under the sub-path finds nothing"
    response = page.goto(links[0], wait_until="load")
    landed = response.status, page.locator("article h1").count()
    page.wait_for_load_state("networkidle")
    context.close()

    assert all(urlsplit(u).path.startswith("/" + SUB_PATH) for u in links), links
    assert landed == (200, 1), f"the first result {links[0]} does not open a page: {landed}"
    assert not errors, "\n".join(errors)
    assert not bad, "\n".join(bad)
    outside = [u for u in requests if not u.startswith(subpath_url)]
    assert not outside, f"requests outside {subpath_url}: {outside}"


def sources() -> list[Path]:
    """The files the build reads (Python caches aside)."""
    found = []
    for part in PARTS:
        path = ROOT / part
        found += [path] if path.is_file() else [
            p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return found


def first_difference(a: bytes, b: bytes, suffix: str) -> str:
    """Where two versions of a file first differ: a line (text) or a byte offset (binary)."""
    if suffix in TEXT_SUFFIXES:
        lines_a = a.decode("utf-8", "replace").splitlines()
        lines_b = b.decode("utf-8", "replace").splitlines()
        for number, (x, y) in enumerate(zip(lines_a, lines_b, strict=False), start=1):
            if x != y:
                col = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q),
                           min(len(x), len(y)))
                start = max(col - 60, 0)
                return (f"line {number}, column {col + 1}:\n"
                        f"    first:  {x[start:start + 160]!r}\n"
                        f"    second: {y[start:start + 160]!r}")
        return f"one version has more lines ({len(lines_a)} vs {len(lines_b)})"
    offset = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
    return f"first differing byte at offset {offset} ({len(a)} vs {len(b)} bytes)"


@pytest.mark.build
def test_two_clean_builds_are_byte_identical(built_site, tmp_path):
    """A second clean build, every block executed, gives the same bytes in every file.

    It runs as the `mkdocs` command from another directory, so this also shows that the output
    does not depend on how or where the build is started (figures import the snippets).
    """
    started = (built_site / "index.html").stat().st_mtime
    again = tmp_path / "again"
    result = run_build(ROOT, again, elsewhere=True)
    assert result.returncode == 0, f"the second build failed:\n{result.stdout}\n{result.stderr}"

    def files(site: Path) -> set[str]:
        return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()} - MAY_DIFFER

    first, second = files(built_site), files(again)
    faults = [f"only in the first build: {f}" for f in sorted(first - second)]
    faults += [f"only in the second build: {f}" for f in sorted(second - first)]
    for name in sorted(first & second):
        a, b = (built_site / name).read_bytes(), (again / name).read_bytes()
        if a != b:
            faults.append(f"{name} differs at {first_difference(a, b, Path(name).suffix)}")
    if faults:  # edits made while the tests ran would explain a difference: say so
        changed = sorted(str(p.relative_to(ROOT)) for p in sources() if p.stat().st_mtime > started)
        if changed:
            faults.append(f"(note: these sources changed after the first build: {changed})")
    assert not faults, f"{len(faults)} differences between two clean builds:\n" + "\n".join(faults)
