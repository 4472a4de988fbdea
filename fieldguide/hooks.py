"""MkDocs hooks (mkdocs.yml `hooks:`): the single entry point of the site's build-time glue.

Each hook only wires plain functions of the other fieldguide modules together, so that another
builder could call them too.

- on_startup: `mkdocs serve` turns on the per-page memo (fieldguide/pagememo.py).
- on_config: footer with the library versions; the `figure` fence; the glossary tooltips;
  executed Python blocks get the cache (fieldguide/cache.py), docstrings stripped from what they
  show and run (fieldguide/code.py), a "Copy the runnable program" button when they continue
  a session, and errors that stop the build; project paths that hold wherever `mkdocs` starts.
- on_pre_build: forget modules of snippets/ and figures, and markdown-exec's sessions, so a
  `make serve` rebuild starts as clean as a fresh build and sees edits at once.
- on_files: load and check the glossary; add the generated glossary page, API reference and
  verification page (last, so that every check has run when it is written).
- on_env: in `make serve`, keep compiled templates across rebuilds.
- on_page_markdown: the home page's family cards (fieldguide/home.py); check snippet includes
  (file and section) and session names before anything runs; title the blocks that continue an
  earlier block of their session ("Continues the block above"); reuse an unchanged page's
  rendering in `make serve`; write the verification page from what the checks printed
  (fieldguide/verification.py).
- on_page_content: math to MathML; refuse pages that contain a traceback.
- on_post_page: give the theme's search dialog an accessible name.
- on_post_build: glossary terms as search tags on the entries that cover them
  (fieldguide/search.py); write glossary.json and verification.json; log how many blocks ran
  and how many came from the cache.
- on_serve: while `make serve` waits for the first edit, import numpy, torch and
  matplotlib in the background, so that the first edited block does not pay for the imports.

FIELDGUIDE_TIMINGS=<file> writes how long each block and figure that ran took (tools/bench.py).

Set FIELDGUIDE_EXEC=0 to build without running any code block or drawing any figure: the pages
then show their code unexecuted. Benchmarks use it to measure the build floor. A comma-separated
list of pages (FIELDGUIDE_EXEC=index.md,activations/relu.md) runs those pages only: the fault
tests use it to build a copy with one broken page without running all the others.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import platform
import sys
import threading
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so that fieldguide and snippets import during the build
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File  # noqa: E402

from fieldguide import (  # noqa: E402
    checks,
    code,
    figures,
    glossary,
    home,
    mathml,
    pagememo,
    reference,
    search,
    verification,
)
from fieldguide.cache import Cache, log  # noqa: E402
from fieldguide.errors import FenceError, FieldGuideError  # noqa: E402
from fieldguide.tooltips import GlossaryLinkExtension  # noqa: E402

_EXEC = os.environ.get("FIELDGUIDE_EXEC", "1").strip()
EXECUTE = _EXEC != "0"  # anything runs at all
ONLY = None if _EXEC in ("0", "1") else {p.strip() for p in _EXEC.split(",") if p.strip()}


def executes(page: str | None) -> bool:
    """Whether the blocks and figures of `page` (a path under docs/) run in this build."""
    return EXECUTE and (ONLY is None or page in ONLY)

state = SimpleNamespace(entries=[], page=None, urls={}, linked=set(), sessions={}, programs={},
                        checked=set(), figures=[], titles={}, shared_key="", reused=None,
                        in_output=False)
VERIFICATION = "verification.md"  # generated last, so every check has run when it is written
cache = Cache()


def versions_line() -> str:
    return (
        f"Every code block on this site ran, and was checked, at build time with "
        f"Python {platform.python_version()}, NumPy {version('numpy')}, "
        f"PyTorch {version('torch')} and matplotlib {version('matplotlib')}."
    )


def _loud(formatter):
    """`formatter` for a fence, raising FenceError (which stops the build) on any error."""

    @functools.wraps(formatter)
    def wrapper(source, language, *args, **kwargs):
        try:
            return formatter(source, language, *args, **kwargs)
        except FenceError:
            raise
        except FieldGuideError as error:
            raise FenceError(str(error)) from error
        except Exception as error:
            what = f"figure '{source.strip()}'" if language == "figure" else f"a {language} block"
            message = f"{state.page or '?'}: {what} failed: {type(error).__name__}: {error}"
            raise FenceError(message) from error

    return wrapper


def _shown(formatter):
    """`formatter` for executed Python blocks: docstrings are stripped before the block runs (see
    fieldguide/code.py), and a block that continues its session gets a button that copies the
    runnable program: every block of the session so far, in order."""

    @functools.wraps(formatter)
    def wrapper(source, language, css_class, options, md, **kwargs):
        source = code.strip_docstrings(source)
        state.in_output = True  # what the block prints gets no glossary links (its links
        try:  # would not be rewritten by MkDocs)
            html = formatter(source, language, css_class, options, md, **kwargs)
        finally:
            state.in_output = False
        session = options.get("session") or ""
        if not session:
            return html
        state.figures += verification.parse(str(html), state.page or "?")
        program = state.programs.setdefault((state.page, session), [])
        program.append(source.strip("\n"))
        if (options.get("extra") or {}).get("title") == checks.CONTINUES:
            html = f"{html}{checks.program_button(program)}"
        return html

    return wrapper


@_loud
def _figure_fence(source, language, class_name, options, md, **kwargs):
    if not executes(state.page):
        return f'<p class="fg-figure-off">Figure <code>{source.strip()}</code> (not drawn).</p>'
    where = state.page or "?"
    path = figures.module_file(source, where)  # the cache key needs no import of matplotlib
    return cache.figure(source.strip(), path, lambda: figures.resolve(source, where)(), where)


def on_startup(command, dirty):
    pagememo.start(command)  # `make serve` re-renders only the pages an edit touches


def on_config(config):
    # MkDocs restores sys.path after loading this file, but figures import `snippets` later on.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    config.copyright = versions_line()
    # Includes are relative to the project, wherever `mkdocs` is started from.
    snippets = config.mdx_configs.setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(ROOT / p) for p in snippets.get("base_path", ["."])]
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {})
    fences.setdefault("custom_fences", []).append(
        {"name": "figure", "class": "fg-figure", "format": _figure_fence}
    )
    config.markdown_extensions.append(GlossaryLinkExtension(state))
    for fence in fences["custom_fences"]:
        if fence["name"] == "python" and not getattr(fence["format"], "fg_cached", False):
            fence["format"] = _loud(_shown(cache.wrap_exec(
                fence["format"], lambda: state.page or "?", checks.has_traceback
            )))
            fence["format"].fg_cached = True
    return config


def on_pre_build(config):
    cache.reset()
    state.sessions = {}  # session name -> page (see checks.check_sessions)
    state.programs = {}  # (page, session) -> the code of its blocks so far
    state.checked, state.figures, state.titles = set(), [], {}  # see fieldguide/verification.py
    try:  # markdown-exec keeps each session's variables for the life of the process
        from markdown_exec._internal.formatters.python import _sessions_globals
    except ImportError:  # another markdown-exec layout: `make build` is a fresh process anyway
        pass
    else:
        _sessions_globals.clear()
    pagememo.stats.update(reused=0, rendered=0)
    if pagememo.ENABLED:
        for plugin in config.plugins.values():
            pagememo.wrap_search_index(plugin)
    for name in [m for m in sys.modules if m.split(".")[0] == "snippets"]:
        del sys.modules[name]
    for name in [m for m in sys.modules if m.startswith("fieldguide.figures.")]:
        del sys.modules[name]


def on_files(files, config):
    state.entries = glossary.load(ROOT / "glossary")
    pages = {f.src_uri for f in files.documentation_pages()}
    glossary.check_pages(state.entries, pages | {"glossary.md"})
    glossary.check_published(state.entries, ROOT / "glossary" / "anchors.txt")
    files.append(File.generated(config, "glossary.md", content=glossary.render_page(state.entries)))
    for family in reference.families(ROOT / "snippets"):
        uri = f"reference/{family.name}.md"
        files.append(File.generated(config, uri, content=reference.page(family)))
    files.append(File.generated(config, VERIFICATION, content="# Verification\n"))
    state.urls = {f.src_uri: f.url for f in files.documentation_pages()}
    if pagememo.ENABLED:  # what every page's rendering depends on
        shared = [Path(config.config_file_path), ROOT / "includes" / "abbreviations.md"]
        state.shared_key = pagememo.digest(
            *pagememo.file_texts(shared), repr(config.nav), repr(sorted(state.urls.items())),
            repr(state.entries), cache.environment, _EXEC)
    return files


def on_env(env, config, files):
    if pagememo.ENABLED:  # `make serve`: compile the theme's templates once, not every rebuild
        env.bytecode_cache = pagememo.template_cache()
    return env


def on_page_markdown(markdown, page, config, files):
    state.page = page.file.src_uri
    if state.page == VERIFICATION:
        verification.check_reported(state.checked, state.figures)
        return verification.page(state.figures, state.titles, state.urls, versions_line(),
                                 executed=EXECUTE)
    state.titles[state.page] = page.title or state.page
    markdown = home.render(markdown, config.nav or [])
    if executes(state.page) and verification.has_check(markdown):
        state.checked.add(state.page)
    state.linked = set()  # glossary terms already linked on this page (see tooltips.py)
    checks.check_includes(markdown, page.file.src_uri, ROOT)
    checks.check_sessions(markdown, page.file.src_uri, state.sessions)
    markdown = checks.mark_continuations(markdown)
    markdown = markdown if executes(state.page) else checks.without_execution(markdown)
    state.reused = None
    if pagememo.memoizable(state.page):
        key = pagememo.digest(state.shared_key, markdown, *pagememo.file_texts(_inputs(markdown)))
        memo = pagememo.pages.get(state.page)
        if memo is not None and memo.key == key:
            pagememo.reuse_render(page, memo)
            state.figures += memo.figures
            state.reused = memo
        else:
            pagememo.remember_render(page, key, len(state.figures), state)
    return markdown


def _inputs(markdown: str) -> list[Path]:
    """The files a page's rendering reads besides its Markdown: its includes and the files its
    figures depend on (for fieldguide/pagememo.py)."""
    paths = [ROOT / path for path in checks.included_files(markdown)]
    for name in checks.figure_names(markdown):
        module = figures.module_file(name, state.page or "?")
        paths += [ROOT / "fieldguide" / "plotting.py",
                  *cache._closure(module, name.rpartition(".")[2])]
    return paths


def on_page_content(html, page, config, files):
    memo = state.reused
    if memo is not None and memo.before == html:
        return memo.after
    checks.check_no_traceback(html, page.file.src_uri)
    result = mathml.render(html, page.file.src_uri)
    memo = pagememo.pages.get(page.file.src_uri) if pagememo.memoizable(page.file.src_uri) else None
    if memo is not None and memo.before is None:
        memo.before, memo.after = html, result
    return result


SEARCH_DIALOG = '<div class="md-search" data-md-component="search" role="dialog">'
NAMED_DIALOG = SEARCH_DIALOG.replace('role="dialog"', 'role="dialog" aria-label="Search"')


def on_post_page(output, page, config):
    # The theme's search dialog has no accessible name; give it one (axe: aria-dialog-name).
    if SEARCH_DIALOG in output:
        output = output.replace(SEARCH_DIALOG, NAMED_DIALOG)
    return output


def on_serve(server, config, builder):
    """`make serve` waits for edits after its first build: use the wait to import the libraries
    the blocks and figures use, so the first edit rebuilds as fast as the ones after it."""
    if EXECUTE:
        threading.Thread(target=_preload, name="fieldguide-preload", daemon=True).start()
    return server


def _preload() -> None:
    for name in ("numpy", "torch", "matplotlib.pyplot"):
        try:
            importlib.import_module(name)
        except Exception as error:  # the block that imports it will show the error
            log.debug("fieldguide: preloading %s failed: %s", name, error)


def on_post_build(config):
    out = Path(config.site_dir) / "glossary.json"
    out.write_text(glossary.export(state.entries, state.urls), encoding="utf-8")
    index = Path(config.site_dir) / "search" / "search_index.json"
    if index.is_file():  # the theme's search plugin wrote it before this hook runs
        search.tag_index(index, state.entries, state.urls)
    search.fix_search_worker(Path(config.site_dir))
    libraries = {n: version(n) for n in ("numpy", "torch", "matplotlib")}
    exported = verification.export(state.figures, state.titles, state.urls,
                                   {"python": platform.python_version(), **libraries})
    (Path(config.site_dir) / "verification.json").write_text(exported, encoding="utf-8")
    stats = cache.stats
    log.info(
        "fieldguide: %d code blocks and figures ran, %d came from the cache, %d were replayed",
        stats["run"], stats["cached"], stats["replayed"],
    )
    if pagememo.ENABLED:
        log.info("fieldguide: %d pages rendered, %d reused unchanged from the last rebuild",
                 pagememo.stats["rendered"], pagememo.stats["reused"])
    if timings := os.environ.get("FIELDGUIDE_TIMINGS"):  # for tools/bench.py
        Path(timings).write_text(json.dumps(sorted(cache.timings, reverse=True)), encoding="utf-8")
    if cache.drawn:  # `mkdocs build -v` shows what an edit redrew
        log.debug("fieldguide: figures drawn: %s", ", ".join(sorted(cache.drawn)))
