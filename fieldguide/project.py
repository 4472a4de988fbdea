"""What the build reads, and how to copy it: used by the tests and the benchmark."""

from __future__ import annotations

import os
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


def build_environment(*, execute: bool | str, cache_dir: Path | None) -> dict[str, str]:
    """The environment for a timed or tested `mkdocs build`: code execution on or off (or, given
    a comma-separated list of pages, on for those pages only), and the block cache off unless
    `cache_dir` is given (so that a test sees a really clean build)."""
    run = execute if isinstance(execute, str) else ("1" if execute else "0")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "FIELDGUIDE_EXEC": run,
           "FIELDGUIDE_CACHE": "1" if cache_dir else "0"}
    if cache_dir:
        env["FIELDGUIDE_CACHE_DIR"] = str(cache_dir)
    return env
