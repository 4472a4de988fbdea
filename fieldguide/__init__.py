"""Build-time glue of the Deep Learning Field Guide (glossary, math, figures, checks).

MkDocs loads `fieldguide/hooks.py` (see `hooks:` in mkdocs.yml); everything else here is
imported from it. Nothing in this package is shown to readers.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository root: `snippets/`, `glossary/` and `docs/` live here."""
