"""Figures drawn at build time from the snippets' own functions, one module per page.

The figures of `docs/<family>/<page>.md` live in `fieldguide/figures/<family>/<page>.py` (with
`-` in the page name written `_`), the same relative path as the page's snippet and test, and
family-wide figures in `<family>/index.py`. A page asks for one with a fence whose body names
`<family>.<page>.<function>`:

    ```figure
    activations.relu.relu
    ```

The function takes no argument and returns the figure's HTML (see fieldguide.plotting).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path

from fieldguide.errors import FieldGuideError

NAME = re.compile(r"^(?P<family>[a-z_][a-z0-9_]*)\.(?P<page>[a-z_][a-z0-9_]*)\.(?P<function>\w+)$")


def _parts(name: str, where: str) -> tuple[str, str, str]:
    match = NAME.match(name.strip())
    if not match:
        raise FieldGuideError(
            f"{where}: unknown figure '{name.strip()}': a figure is named "
            "<family>.<page>.<function>, e.g. activations.relu.relu"
        )
    return match["family"], match["page"], match["function"]


def module_file(name: str, where: str) -> Path:
    """The file of the module that draws figure `name` (found without importing it)."""
    family, page, _ = _parts(name, where)
    path = Path(__file__).parent / family / f"{page}.py"
    if not path.is_file():
        raise FieldGuideError(
            f"{where}: unknown figure '{name.strip()}': no module "
            f"fieldguide/figures/{family}/{page}.py"
        )
    return path


def resolve(name: str, where: str) -> Callable[[], str]:
    """The function drawing figure `name`, e.g. 'activations.relu.relu' (imports its module)."""
    family, page, function = _parts(name, where)
    try:
        module = importlib.import_module(f"fieldguide.figures.{family}.{page}")
        return getattr(module, function)
    except (ImportError, AttributeError) as error:
        raise FieldGuideError(f"{where}: unknown figure '{name.strip()}': {error}") from error
