"""MkDocs hooks (mkdocs.yml `hooks:`): the single entry point of the site's build-time glue.

- on_config: footer with the library versions; the `figure` fence; the glossary tooltips.
- on_files: load and check the glossary, add the generated glossary page.
- on_page_markdown: check snippet includes (file and section) before anything runs.
- on_page_content: math to MathML; refuse pages that contain a traceback.
- on_post_build: write glossary.json.

Set FIELDGUIDE_EXEC=0 to build without running any code block or drawing any figure: the pages
then show their code unexecuted. Benchmarks use it to measure the build floor.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so that fieldguide and snippets import during the build
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File  # noqa: E402

from fieldguide import checks, figures, glossary, mathml  # noqa: E402
from fieldguide.tooltips import GlossaryLinkExtension  # noqa: E402

EXECUTE = os.environ.get("FIELDGUIDE_EXEC", "1") != "0"
state = SimpleNamespace(entries=[], page=None, urls={})


def versions_line() -> str:
    return (
        f"Every code block on this site ran, and was checked, at build time with "
        f"Python {platform.python_version()}, NumPy {version('numpy')}, "
        f"PyTorch {version('torch')} and matplotlib {version('matplotlib')}."
    )


def _figure_fence(source, language, class_name, options, md, **kwargs):
    if not EXECUTE:
        return f'<p class="fg-figure-off">Figure <code>{source.strip()}</code> (not drawn).</p>'
    return figures.render(source, state.page or "?")


def on_config(config):
    config.copyright = versions_line()
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {})
    fences.setdefault("custom_fences", []).append(
        {"name": "figure", "class": "fg-figure", "format": _figure_fence}
    )
    config.markdown_extensions.append(GlossaryLinkExtension(state))
    return config


def on_files(files, config):
    state.entries = glossary.load(ROOT / "glossary")
    pages = {f.src_uri for f in files.documentation_pages()}
    glossary.check_pages(state.entries, pages | {"glossary.md"})
    files.append(File.generated(config, "glossary.md", content=glossary.render_page(state.entries)))
    state.urls = {f.src_uri: f.url for f in files.documentation_pages()}
    return files


def on_page_markdown(markdown, page, config, files):
    state.page = page.file.src_uri
    checks.check_includes(markdown, page.file.src_uri, ROOT)
    return markdown if EXECUTE else checks.without_execution(markdown)


def on_page_content(html, page, config, files):
    checks.check_no_traceback(html, page.file.src_uri)
    return mathml.render(html, page.file.src_uri)


def on_post_build(config):
    out = Path(config.site_dir) / "glossary.json"
    out.write_text(glossary.export(state.entries, state.urls), encoding="utf-8")
