"""Every file in snippets/ runs as a script and exits cleanly, so nothing shown can rot."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = sorted(p for p in (ROOT / "snippets").rglob("*.py") if not p.name.startswith("_"))


def test_there_are_snippets():
    """Guards the parametrisation below against silently collecting nothing."""
    assert len(SNIPPETS) >= 1


@pytest.mark.parametrize("path", SNIPPETS, ids=lambda p: str(p.relative_to(ROOT)))
def test_snippet_runs_as_script(path, capsys):
    """Run the file as __main__; it must finish without raising and print its demonstration."""
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing when run as a script"
