"""MkDocs hooks (mkdocs.yml `hooks:`): the single entry point of the site's build-time glue.

- on_config: footer with the library versions; the `figure` fence; the glossary tooltips;
  the cache around markdown-exec (fieldguide/cache.py); fence errors that stop the build;
  project paths that hold wherever `mkdocs` is started from.
- on_pre_build: forget modules of snippets/ and figures, and markdown-exec's sessions, so a
  `make serve` rebuild starts as clean as a fresh build and sees edits at once.
- on_files: load and check the glossary; add the generated glossary page and API reference.
- on_page_markdown: check snippet includes (file and section) and session names before
  anything runs; title the blocks that continue an earlier block of their session
  ("Continues the block above").
- on_page_content: math to MathML; refuse pages that contain a traceback.
- on_post_build: write glossary.json; log how many blocks ran and how many came from the cache.
- on_serve: while `make serve` waits for the first edit, import numpy, torch and
  matplotlib in the background, so that the first edited block does not pay for the imports.

Set FIELDGUIDE_EXEC=0 to build without running any code block or drawing any figure: the pages
then show their code unexecuted. Benchmarks use it to measure the build floor. A comma-separated
list of pages (FIELDGUIDE_EXEC=index.md,activations/relu.md) runs those pages only: the fault
tests use it to build a copy with one broken page without running all the others.
"""

from __future__ import annotations

import functools
import importlib
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

from fieldguide import checks, figures, glossary, mathml, reference  # noqa: E402
from fieldguide.cache import Cache, log  # noqa: E402
from fieldguide.errors import FenceError, FieldGuideError  # noqa: E402
from fieldguide.tooltips import GlossaryLinkExtension  # noqa: E402

_EXEC = os.environ.get("FIELDGUIDE_EXEC", "1").strip()
EXECUTE = _EXEC != "0"  # anything runs at all
ONLY = None if _EXEC in ("0", "1") else {p.strip() for p in _EXEC.split(",") if p.strip()}


def executes(page: str | None) -> bool:
    """Whether the blocks and figures of `page` (a path under docs/) run in this build."""
    return EXECUTE and (ONLY is None or page in ONLY)

state = SimpleNamespace(entries=[], page=None, urls={}, linked=set(), sessions={})
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


@_loud
def _figure_fence(source, language, class_name, options, md, **kwargs):
    if not executes(state.page):
        return f'<p class="fg-figure-off">Figure <code>{source.strip()}</code> (not drawn).</p>'
    where = state.page or "?"
    path = figures.module_file(source, where)  # the cache key needs no import of matplotlib
    return cache.figure(source.strip(), path, lambda: figures.resolve(source, where)())


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
            fence["format"] = _loud(cache.wrap_exec(
                fence["format"], lambda: state.page or "?", checks.has_traceback
            ))
            fence["format"].fg_cached = True
    return config


def on_pre_build(config):
    cache.reset()
    state.sessions = {}  # session name -> page (see checks.check_sessions)
    try:  # markdown-exec keeps each session's variables for the life of the process
        from markdown_exec._internal.formatters.python import _sessions_globals
    except ImportError:  # another markdown-exec layout: `make build` is a fresh process anyway
        pass
    else:
        _sessions_globals.clear()
    for name in [m for m in sys.modules if m.split(".")[0] == "snippets"]:
        del sys.modules[name]
    for name in [m for m in sys.modules if m.startswith("fieldguide.figures.")]:
        del sys.modules[name]


def on_files(files, config):
    state.entries = glossary.load(ROOT / "glossary")
    pages = {f.src_uri for f in files.documentation_pages()}
    glossary.check_pages(state.entries, pages | {"glossary.md"})
    files.append(File.generated(config, "glossary.md", content=glossary.render_page(state.entries)))
    for family in reference.families(ROOT / "snippets"):
        uri = f"reference/{family.name}.md"
        files.append(File.generated(config, uri, content=reference.page(family)))
    state.urls = {f.src_uri: f.url for f in files.documentation_pages()}
    return files


def on_page_markdown(markdown, page, config, files):
    state.page = page.file.src_uri
    state.linked = set()  # glossary terms already linked on this page (see tooltips.py)
    checks.check_includes(markdown, page.file.src_uri, ROOT)
    checks.check_sessions(markdown, page.file.src_uri, state.sessions)
    # The terms and aliases a page covers become its search `tags`, the field Material's
    # search ranks highest (nothing is displayed: the tags plugin is off). So a search for
    # an alias such as "Jaccard loss" puts the page that covers it first.
    names = [n for e in state.entries if e.page.partition("#")[0] == state.page for n in e.names]
    if names:
        page.meta["tags"] = [*page.meta.get("tags", []), *names]
    markdown = checks.mark_continuations(markdown)
    return markdown if executes(state.page) else checks.without_execution(markdown)


def on_page_content(html, page, config, files):
    checks.check_no_traceback(html, page.file.src_uri)
    return mathml.render(html, page.file.src_uri)


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
    stats = cache.stats
    log.info(
        "fieldguide: %d code blocks and figures ran, %d came from the cache, %d were replayed",
        stats["run"], stats["cached"], stats["replayed"],
    )
    if cache.drawn:  # `mkdocs build -v` shows what an edit redrew
        log.debug("fieldguide: figures drawn: %s", ", ".join(sorted(cache.drawn)))
