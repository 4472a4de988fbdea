"""The built site in a real browser: what a reader sees and does, page by page.

Debian's Chromium, driven by Playwright, loads every page of the site built once for the session
(`built_site`) from a local static server. Each check collects every fault it finds on every page
and reports them all at once, so one run shows the whole picture.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
COPY_BUTTON = ".md-clipboard, button.md-code__button[data-md-type='copy']"

# One worker runs the whole file: its fixtures load every page once, for all its tests.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# TeX that escaped conversion: delimiters, common commands, or `$...$` holding TeX syntax.
RAW_TEX = re.compile(
    r"\$\$|\\[()[\]]|\\(?:frac|sum|prod|begin|end|operatorname|mathbb|mathrm|text|left|right"
    r"|cdot|sqrt|log|exp|max|min|lVert|rVert)\b|\$[^$\n]*[\\^_{][^$\n]*\$"
)
# TeX in a Markdown source, outside fenced code: `$$` or an inline `$...$`.
SOURCE_TEX = re.compile(r"\$\$|(?<![\\$])\$[^$\s][^$\n]*\$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}).*?^\1\2\s*$", re.M | re.S)

# Runs in the page: the visible text of the article outside code and math, and the math elements.
INSPECT_JS = """() => {
  const root = document.querySelector("article") || document.body;
  const skip = "pre, code, math, script, style, kbd, samp, .highlight";
  const parts = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    parts.push(node.textContent);
  }
  const maths = Array.from(document.querySelectorAll("article math"));
  const unrendered = maths.filter((m) => {
    if (!m.checkVisibility()) return false;
    const box = m.getBoundingClientRect();
    return !getComputedStyle(m).display.includes("math") || box.width === 0 || box.height === 0;
  });
  return {
    text: parts.join(""),
    math: maths.length,
    unrendered: unrendered.map((m) => m.textContent.slice(0, 60)),
  };
}"""

# Runs in the page: does it scroll sideways, and which elements stick out if it does. A phone
# zooms out to fit a page that is too wide, which widens the layout viewport (innerWidth): so
# both are compared with the screen's width.
OVERFLOW_JS = """(screenWidth) => {
  const width = Math.max(window.innerWidth, screenWidth);
  const scrollWidth = document.documentElement.scrollWidth;
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + Array.from(el.classList).join(".") : "");
  const wide = [];
  if (scrollWidth > screenWidth || window.innerWidth > screenWidth) {
    for (const el of document.body.querySelectorAll("article *")) {
      const box = el.getBoundingClientRect();
      if (box.right <= screenWidth + 1 || box.width === 0) continue;
      let parent = el.parentElement;
      let inScroller = false;
      for (; parent && parent !== document.body; parent = parent.parentElement) {
        if (["auto", "scroll"].includes(getComputedStyle(parent).overflowX)) {
          inScroller = true;
          break;
        }
      }
      if (!inScroller) wide.push(describe(el) + " (right edge at " + Math.round(box.right) + "px)");
      if (wide.length >= 5) break;
    }
  }
  const wideCode = Array.from(document.querySelectorAll("pre > code"))
    .filter((c) => c.scrollWidth > c.clientWidth + 1);
  const stuck = wideCode.filter((c) => !["auto", "scroll"].includes(getComputedStyle(c).overflowX));
  return {width: window.innerWidth, scrollWidth, wide, wideCode: wideCode.length,
          stuck: stuck.length};
}"""


def page_urls(site: Path) -> list[str]:
    """The URL path of every HTML page of the site ('' for the home page), 404 page excluded."""
    urls = []
    for path in sorted(site.rglob("*.html")):
        rel = path.relative_to(site).as_posix()
        if rel != "404.html":
            urls.append(rel.removesuffix("index.html"))
    return urls


def html_file(site: Path, url: str) -> Path:
    """The file behind a page URL path ('a/b/' -> a/b/index.html)."""
    return site / (url + "index.html" if url.endswith("/") or not url else url)


def source_of(url: str) -> Path | None:
    """The Markdown source of a page URL ('a/b/' -> docs/a/b.md or docs/a/b/index.md)."""
    stem = url.rstrip("/")
    candidates = [ROOT / "docs" / "index.md"] if not stem else [
        ROOT / "docs" / f"{stem}.md", ROOT / "docs" / stem / "index.md"]
    return next((c for c in candidates if c.is_file()), None)


def expects_math(url: str, glossary: dict) -> bool:
    """Whether the page must show math: its source has TeX, or it documents snippets."""
    if url == "glossary/":
        return any("$" in t["definition"] for t in glossary["terms"])
    source = source_of(url)
    if source is None:
        return False
    text = FENCE.sub("", source.read_text(encoding="utf-8"))
    return bool(SOURCE_TEX.search(text)) or bool(re.search(r"^:::\s", text, re.M))


@dataclass
class Visit:
    """What loading one page did."""

    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    status: int = 0
    inspect: dict = field(default_factory=dict)
    copied: int = 0  # code blocks whose copy button was clicked
    copy_faults: list[str] = field(default_factory=list)
    hovered: int = 0  # glossary terms hovered
    hover_faults: list[str] = field(default_factory=list)
    hidden_code: list[str] = field(default_factory=list)  # code lines behind a scroll bar
    programs: list[tuple[str, str, str]] = field(default_factory=list)  # (button, copied, want)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about"} or parts.hostname in LOOPBACK


def record(page, visits: dict[str, Visit], current: list[str]) -> None:
    """Attribute every console error, request and failed response to the page being visited."""

    def visit() -> Visit:
        return visits.setdefault(current[0], Visit())

    page.on("console", lambda m: m.type == "error" and visit().console.append(
        f"{m.text} (at {m.location.get('url', '?')})"))
    page.on("pageerror", lambda e: visit().console.append(f"uncaught: {e}"))
    page.on("request", lambda r: visit().requests.append(r.url))
    # ERR_ABORTED: a request cut short by moving on to the next page, not a fault of the site.
    page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
            and visit().failed.append(f"{r.url}: {r.failure}"))
    # The page's own status is checked by the caller; here, only what the page goes on to load.
    page.on("response", lambda r: r.status >= 400 and not r.request.is_navigation_request()
            and visit().failed.append(f"{r.url}: HTTP {r.status}"))


@pytest.fixture(scope="module")
def glossary(built_site) -> dict:
    return json.loads((built_site / "glossary.json").read_text(encoding="utf-8"))


READ_CLIPBOARD_JS = """async () => {
  const text = await navigator.clipboard.readText();
  await navigator.clipboard.writeText("(nothing copied)");  // so a click that copies nothing shows
  return text;
}"""


def click_copy_buttons(page) -> tuple[int, list[str]]:
    """Click the copy button of every code block; compare the clipboard with the code shown."""
    faults, copied = [], 0
    for i, block in enumerate(page.query_selector_all("article div.highlight:has(pre > code)"), 1):
        button = block.query_selector(COPY_BUTTON)
        if button is None:
            faults.append(f"code block {i} has no copy button")
            continue
        button.click(force=True)  # a real click, without waiting out the hover animation
        clip = page.evaluate(READ_CLIPBOARD_JS)
        shown = block.query_selector("pre > code").inner_text()
        copied += 1
        if clip != shown.rstrip("\n"):  # the shown code ends with the line's newline
            faults.append(f"block {i}: copied {clip[:80]!r}... but shows {shown[:80]!r}...")
    return copied, faults


# Runs in the page: shown code blocks wider than their box (a line hides behind a scroll bar).
HIDDEN_CODE_JS = """() => Array.from(document.querySelectorAll(
    "article div.language-python pre > code"))
  .filter((c) => c.checkVisibility() && c.scrollWidth > c.clientWidth + 1)
  .map((c) => c.innerText.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), ""))"""

# Runs in the page: the code shown in each block before every "Copy the runnable program" button
# of a continuation block, from the first block of the run of continued blocks it belongs to.
PROGRAM_JS = """(button) => {
  const blocks = Array.from(document.querySelectorAll("article div.language-python"));
  // the last block before the button (its output may sit between the two)
  const end = blocks.findLastIndex(
    (b) => b.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING);
  const title = (b) => (b.querySelector(".filename") || {}).innerText || "";
  let start = end;
  while (start > 0 && title(blocks[start]).includes("Continues")) start--;
  return blocks.slice(start, end + 1).map((b) => b.querySelector("pre > code").innerText);
}"""


def copy_programs(page) -> list[tuple[str, str, list[str]]]:
    """Click every "Copy the runnable program" button; (its label, the clipboard, the code of
    the blocks it should hold, as shown)."""
    found = []
    for button in page.query_selector_all("article button.fg-copy-program"):
        button.click(force=True)
        clip = page.evaluate(READ_CLIPBOARD_JS)
        found.append((button.inner_text(), clip, page.evaluate(PROGRAM_JS, button)))
    return found


# Runs in the page: the text of the tooltip of glossary link `a`, once it shows (active, laid out
# and fading in; waiting out the fade would cost 0.2 s a term), else false.
TOOLTIP_JS = """(a) => {
  const tip = document.getElementById(a.getAttribute("aria-describedby"));
  const shown = tip && tip.classList.contains("md-tooltip2--active") && tip.checkVisibility()
    && getComputedStyle(tip).opacity > 0;
  return shown && tip.innerText;
}"""


def terms_to_hover(site: Path) -> dict[str, list[str]]:
    """Page URL -> anchors of the glossary terms first linked there (each term hovered once)."""
    targets: dict[str, list[str]] = {}
    seen = set()
    for url in page_urls(site):
        if url == "glossary/":
            continue
        html = html_file(site, url).read_text(encoding="utf-8")
        for anchor in re.findall(r'<a class="fg-term" href="[^"]*#([^"]+)"', html):
            if anchor not in seen:
                seen.add(anchor)
                targets.setdefault(url, []).append(anchor)
    return targets


def hover_terms(page, anchors: list[str], short: dict[str, str]) -> list[str]:
    """Hover the first link to each glossary entry in `anchors`; check the tooltip's text."""
    faults = []
    for anchor in anchors:
        link = page.locator(f'article a.fg-term[href$="glossary/#{anchor}"]').first
        try:
            link.hover(timeout=5000)
            text = page.wait_for_function(TOOLTIP_JS, arg=link.element_handle(),
                                          timeout=3000).json_value()
        except Exception as error:  # Playwright's TimeoutError: report it, go on with the rest
            first_line = str(error).splitlines()[0]
            faults.append(f"hovering {anchor!r} shows no tooltip ({first_line})")
            continue
        if " ".join(text.split()) != short[anchor]:
            faults.append(f"the tooltip of {anchor!r} says {text!r}, not {short[anchor]!r}")
        page.mouse.move(1, 1)
    return faults


@pytest.fixture(scope="module")
def desktop_visits(chromium, site_url, built_site, glossary) -> dict[str, Visit]:
    """Load every page once at desktop size; record what happened, inspect it, copy its code,
    hover the glossary terms first linked there."""
    short = {t["anchor"]: " ".join(t["short"].split()) for t in glossary["terms"]}
    hover = terms_to_hover(built_site)
    context = chromium.new_context(viewport=DESKTOP,
                                   permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    visits: dict[str, Visit] = {}
    current = [""]
    record(page, visits, current)
    for url in page_urls(built_site):
        current[0] = url
        response = page.goto(site_url + url, wait_until="load")
        visit = visits.setdefault(url, Visit())
        visit.status = response.status if response else 0
        visit.inspect = page.evaluate(INSPECT_JS)
        visit.copied, visit.copy_faults = click_copy_buttons(page)
        visit.hover_faults = hover_terms(page, hover.get(url, []), short)
        visit.hovered = len(hover.get(url, []))
        visit.hidden_code = page.evaluate(HIDDEN_CODE_JS)
        visit.programs = copy_programs(page)
    page.wait_for_load_state("networkidle")  # late requests (search index) of the last page
    context.close()
    return visits


def test_every_page_loads_cleanly_and_stays_local(desktop_visits):
    """Each page loads (HTTP 200) with no console error, no failed request, only loopback URLs."""
    assert len(desktop_visits) >= 5, "suspiciously few pages"
    faults = []
    for url, visit in desktop_visits.items():
        if visit.status != 200:
            faults.append(f"/{url}: HTTP {visit.status}")
        faults += [f"/{url}: console error: {c}" for c in visit.console]
        faults += [f"/{url}: failed: {f}" for f in visit.failed]
        faults += [f"/{url}: requests another host: {r}" for r in visit.requests
                   if not is_local(r)]
    assert not faults, "\n".join(faults)


def test_math_is_rendered_and_no_raw_tex_is_visible(desktop_visits, glossary):
    """Pages with math show native MathML; no page shows `$$`, `\\(`, `\\[` or TeX commands."""
    faults = []
    with_math = 0
    for url, visit in desktop_visits.items():
        data = visit.inspect
        for match in RAW_TEX.finditer(data["text"]):
            start = max(match.start() - 40, 0)
            excerpt = data["text"][start : start + 100]
            faults.append(f"/{url}: raw TeX {match.group()!r} in: {excerpt!r}")
        if expects_math(url, glossary) and not data["math"]:
            faults.append(f"/{url}: the source has math but the page has no <math> element")
        faults += [f"/{url}: MathML not rendered: {m!r}" for m in data["unrendered"]]
        with_math += bool(data["math"])
    assert with_math, "no page has math at all"
    assert not faults, "\n".join(faults)


def test_phone_width_pages_do_not_scroll_sideways(chromium, site_url, built_site):
    """At 375x812 no page is wider than the screen; wide code scrolls inside its own box."""
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    faults = []
    for url in page_urls(built_site):
        page.goto(site_url + url, wait_until="load")
        data = page.evaluate(OVERFLOW_JS, PHONE["width"])
        if max(data["scrollWidth"], data["width"]) > PHONE["width"]:
            culprits = "; ".join(data["wide"]) or "no single element found"
            faults.append(f"/{url}: {max(data['scrollWidth'], data['width'])}px wide on a "
                          f"{PHONE['width']}px screen; sticking out: {culprits}")
        if data["stuck"]:
            faults.append(f"/{url}: {data['stuck']} wide code block(s) do not scroll in their box")
    context.close()
    assert not faults, "\n".join(faults)


def test_search_puts_each_term_on_its_page_first(chromium, site_url, glossary):
    """Searching each glossary term and alias shows its page as the first result, and, when the
    term is a section of the page, that section's link in the same first result, not folded
    under "more on this page". Only what the reader sees counts."""
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(site_url, wait_until="load")
    box = page.locator("input.md-search__input")
    meta = page.locator(".md-search-result__meta")
    box.click()
    page.wait_for_function(
        "() => document.querySelector('.md-search-result__meta').innerText.includes('Type to')")
    faults = []
    queries = [(name, t) for t in glossary["terms"] for name in (t["term"], *t["aliases"])]
    for query, term in queries:
        box.fill("")
        box.dispatch_event("keyup")
        meta.get_by_text("Type to start searching").wait_for()
        box.fill(query)
        box.dispatch_event("keyup")
        meta.get_by_text(re.compile("matching document")).wait_for()
        links = page.evaluate(
            """() => { const li = document.querySelector('.md-search-result__item');
                 return li ? Array.from(li.querySelectorAll('a'))
                   .filter((a) => !a.closest('details:not([open])')).map((a) => a.href) : []; }""")
        shown = [urlsplit(u) for u in links]
        wanted = urlsplit(urljoin(site_url, term["page_url"]))
        if not shown or shown[0].path != wanted.path:
            first = shown[0].path if shown else "nothing"
            faults.append(f"search {query!r}: first result {first}, not {wanted.path}")
        elif wanted.fragment and wanted.fragment not in {u.fragment for u in shown}:
            faults.append(f"search {query!r}: the first result does not show the section "
                          f"#{wanted.fragment}")
    context.close()
    assert queries, "the glossary is empty"
    assert not faults, f"{len(faults)} of {len(queries)} searches failed:\n" + "\n".join(faults)


def test_hovering_a_glossary_term_shows_its_definition(desktop_visits):
    """Hovering a linked term in running text pops up Material's tooltip with the one-liner."""
    hovered = sum(v.hovered for v in desktop_visits.values())
    faults = [f"/{url}: {f}" for url, v in desktop_visits.items() for f in v.hover_faults]
    assert hovered, "no glossary-linked term anywhere on the site"
    assert not faults, f"{len(faults)} of {hovered} hovers failed:\n" + "\n".join(faults)


def parse_rgba(value: str) -> tuple[float, float, float, float]:
    numbers = [float(n) for n in re.findall(r"[\d.]+", value)]
    return (*numbers[:3], numbers[3] if len(numbers) > 3 else 1.0)


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of colour `fg` (alpha-composited) on the opaque colour `bg`."""
    *front, alpha = parse_rgba(fg)
    back = parse_rgba(bg)[:3]
    mixed = [alpha * f + (1 - alpha) * b for f, b in zip(front, back, strict=True)]

    def luminance(rgb):
        lin = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
               for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(mixed), luminance(back)), reverse=True)
    return (high + 0.05) / (low + 0.05)


SCHEME_JS = """() => {
  const text = document.querySelector("figure.fg-figure svg text");
  const style = getComputedStyle(text);
  return {
    scheme: document.body.getAttribute("data-md-color-scheme"),
    fill: style.fill,
    color: style.color,
    background: getComputedStyle(document.body).backgroundColor,
  };
}"""


def test_light_and_dark_schemes_recolour_figures(chromium, site_url, built_site):
    """The palette toggle and the OS preference switch schemes; figure text follows the theme."""
    url = next((u for u in page_urls(built_site)
                if 'class="fg-figure"' in html_file(built_site, u).read_text()), None)
    assert url is not None, "no page with a build-time figure"
    light = chromium.new_context(viewport=DESKTOP, color_scheme="light")
    page = light.new_page()
    page.goto(site_url + url, wait_until="load")
    before = page.evaluate(SCHEME_JS)
    page.locator("form[data-md-component='palette'] label:visible").click()
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    after = page.evaluate(SCHEME_JS)
    light.close()
    dark = chromium.new_context(viewport=DESKTOP, color_scheme="dark")
    page = dark.new_page()
    page.goto(site_url + url, wait_until="load")
    preferred = page.evaluate(SCHEME_JS)
    dark.close()

    assert before["scheme"] == "default", f"/{url}: light preference gives {before['scheme']}"
    assert preferred["scheme"] == "slate", f"/{url}: dark preference gives {preferred['scheme']}"
    assert preferred == after, "the toggle and the dark preference give different colours"
    for state in (before, after):
        assert state["fill"] == state["color"], f"/{url}: figure text is not currentColor: {state}"
        ratio = contrast(state["fill"], state["background"])
        assert ratio >= 4.5, f"/{url}: figure text contrast {ratio:.1f} < 4.5 in {state}"
    assert before["fill"] != after["fill"], "figure text keeps one colour in both schemes"


def test_missing_page_gets_the_404_page(chromium, site_url):
    """An unknown URL is answered with the site's styled 404 page, whose assets all load."""
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    visits: dict[str, Visit] = {}
    record(page, visits, ["404"])
    response = page.goto(site_url + "no/such/page/", wait_until="load")
    page.wait_for_load_state("networkidle")
    heading = page.locator("article h1").inner_text()
    header_position = page.evaluate(
        "() => getComputedStyle(document.querySelector('.md-header')).position")
    context.close()
    visit = visits["404"]
    assert response.status == 404
    assert "404" in heading
    assert header_position in {"sticky", "fixed"}, "the 404 page is not styled"
    assert not visit.failed, visit.failed
    console = [c for c in visit.console if "status of 404" not in c or "no/such/page" not in c]
    assert not console, console
    assert all(is_local(r) for r in visit.requests), visit.requests


def test_no_code_line_hides_behind_a_scroll_bar_at_desktop_width(desktop_visits):
    """At 1280 px every line of shown code fits its box (shown lines are at most 88 characters;
    printed output wraps instead)."""
    faults = [f"/{url}: {len(v.hidden_code)} block(s) scroll sideways; longest line: "
              f"{max(v.hidden_code, key=len)!r}" for url, v in desktop_visits.items()
              if v.hidden_code]
    assert not faults, "\n".join(faults)


def test_every_continuation_block_copies_its_runnable_program(desktop_visits, tmp_path):
    """The "Copy the runnable program" button of each continuation block copies that block and
    every block of its session before it, in order; each program then runs in `python -I` in an
    empty folder. Programs of one run of blocks are prefixes of its longest one (checked), so
    running the longest runs every line of the others in the same order."""
    from tests.site.test_copy_blocks import Run, execute

    faults, longest, count = [], {}, 0
    for url, visit in desktop_visits.items():
        for label, clip, blocks in visit.programs:
            count += 1
            want = [b.rstrip("\n") for b in blocks]
            if clip.strip("\n") != "\n\n\n".join(want).strip("\n"):
                faults.append(f"/{url}: {label!r} copied {clip[:120]!r}..., not the "
                              f"{len(want)} blocks above it")
                continue
            key = (url, want[0])
            if key in longest and not clip.startswith(longest[key].rstrip("\n")) \
                    and not longest[key].startswith(clip.rstrip("\n")):
                faults.append(f"/{url}: {label!r} is not a prefix of the session's program")
            if len(clip) > len(longest.get(key, "")):
                longest[key] = clip
    assert count, "no continuation block has a 'Copy the runnable program' button"
    for i, ((url, _), program) in enumerate(sorted(longest.items())):
        run = execute(Run(url, "program", program), tmp_path / str(i))
        if run.returncode != 0:
            tail = "\n".join(run.output.strip().splitlines()[-12:])
            faults.append(f"/{url}: the copied program exits {run.returncode}:\n{tail}")
    assert not faults, f"{len(faults)} of {count} programs failed:\n" + "\n".join(faults)


# axe-core rules the theme breaks and our CSS or templates cannot fix, with the reason. Empty:
# every serious or critical finding so far was fixable (see docs/stylesheets/extra.css and the
# search-dialog name in fieldguide/hooks.py).
THEME_EXCEPTIONS: dict[str, str] = {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(chromium, site_url, built_site, scheme):
    """axe-core finds no serious or critical WCAG violation on any page, in either scheme."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = chromium.new_context(viewport=DESKTOP, color_scheme=scheme)
    page = context.new_page()
    faults, pages = [], page_urls(built_site)
    for url in pages:
        page.goto(site_url + url, wait_until="load")
        for v in axe.run(page).response["violations"]:
            if v["impact"] in {"serious", "critical"} and v["id"] not in THEME_EXCEPTIONS:
                node = v["nodes"][0]
                faults.append(f"/{url}: {v['id']} ({v['impact']}, {len(v['nodes'])} element(s)),"
                              f" e.g. {node['target']}: {node.get('failureSummary', '')[:160]}")
    context.close()
    assert len(pages) >= 5
    assert not faults, f"{len(faults)} violations ({scheme} scheme):\n" + "\n".join(faults)
