"""The lunr key fix applied to the theme's search worker (fieldguide/search.py)."""

from pathlib import Path

import pytest

from fieldguide.errors import FieldGuideError
from fieldguide.search import LUNR_NODE_KEY, LUNR_NODE_KEY_FIXED, fix_search_worker

THEME_WORKERS = Path(__import__("material").__file__).parent / "templates" / "assets" / \
    "javascripts" / "workers"


def _site_with(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "assets" / "javascripts" / "workers"
    folder.mkdir(parents=True)
    (folder / "search.abc.min.js").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_installed_theme_has_the_unpatched_key_once():
    """The installed theme's worker holds lunr's node key exactly once, so the patch applies."""
    workers = list(THEME_WORKERS.glob("search.*.min.js"))
    assert len(workers) == 1, workers
    assert workers[0].read_text(encoding="utf-8").count(LUNR_NODE_KEY) == 1


def test_patch_separates_label_and_id_and_is_idempotent(tmp_path):
    """The key gains a ';' after each id; patching twice changes nothing more."""
    site = _site_with(tmp_path, f"a;{LUNR_NODE_KEY};b")
    fix_search_worker(site)
    fix_search_worker(site)
    text = next(site.rglob("search.*.min.js")).read_text(encoding="utf-8")
    assert text == f"a;{LUNR_NODE_KEY_FIXED};b"


def test_changed_theme_code_stops_the_build(tmp_path):
    """A worker whose lunr code no longer matches is reported by name instead of skipped."""
    site = _site_with(tmp_path, "e=e+s+o.id+'|'}return e")
    with pytest.raises(FieldGuideError, match=r"search\.abc\.min\.js: lunr's token-set key"):
        fix_search_worker(site)


def test_a_site_without_search_is_left_alone(tmp_path):
    """No worker folder (search plugin off): nothing to patch, no error."""
    fix_search_worker(tmp_path)
