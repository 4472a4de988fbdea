"""Fixtures that build the site: once for real (shared by all site tests), or from a copy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldguide.project import copy_project

__all__ = ["copy_project", "run_build"]

ROOT = Path(__file__).resolve().parents[2]


def run_build(
    root: Path, dest: Path, *, execute: bool = True, cache_dir: Path | None = None
) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of the project at `root` into `dest`; returns the finished process.

    The block cache is off unless `cache_dir` is given, so that tests see a really clean build.
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "FIELDGUIDE_EXEC": "1" if execute else "0"}
    env["FIELDGUIDE_CACHE"] = "1" if cache_dir else "0"
    if cache_dir:
        env["FIELDGUIDE_CACHE_DIR"] = str(cache_dir)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "-f", str(root / "mkdocs.yml"), "-d", str(dest)],
        capture_output=True, text=True, env=env, timeout=900, check=False, cwd=root,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real site, built once per test session with every block executed."""
    dest = tmp_path_factory.mktemp("site")
    result = run_build(ROOT, dest)
    assert result.returncode == 0, f"the site does not build:\n{result.stdout}\n{result.stderr}"
    return dest
