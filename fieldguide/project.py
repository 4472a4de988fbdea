"""What the build reads, and how to copy it: used by the tests and the benchmark."""

from __future__ import annotations

import shutil
from pathlib import Path

from fieldguide import ROOT

PARTS = ("mkdocs.yml", "docs", "snippets", "glossary", "fieldguide", "includes")


def copy_project(dest: Path) -> Path:
    """A throw-away copy of everything the build reads (to inject faults into, or to time)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, dest / part, ignore=shutil.ignore_patterns("__pycache__"),
                            dirs_exist_ok=True)
        else:
            shutil.copy2(source, dest / part)
    return dest
