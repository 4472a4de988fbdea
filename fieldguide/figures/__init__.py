"""Figures drawn at build time, one module per family, from the snippets' own functions.

A page asks for one with a fence whose body names `<module>.<function>`:

    ```figure
    activations.relu
    ```

The function takes no argument and returns the figure's HTML (see fieldguide.plotting).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from fieldguide.errors import FieldGuideError


def module_file(name: str, where: str) -> Path:
    """The file of the module that draws figure `name` (found without importing it)."""
    module_name = name.strip().rpartition(".")[0]
    path = Path(__file__).parent / f"{module_name}.py"
    if not module_name.isidentifier() or not path.is_file():
        raise FieldGuideError(f"{where}: unknown figure '{name.strip()}': no module {path.name}")
    return path


def resolve(name: str, where: str) -> Callable[[], str]:
    """The function drawing figure `name`, e.g. 'activations.relu' (imports its module)."""
    module_name, _, function = name.strip().rpartition(".")
    try:
        module = importlib.import_module(f"fieldguide.figures.{module_name}")
        return getattr(module, function)
    except (ImportError, AttributeError) as error:
        raise FieldGuideError(f"{where}: unknown figure '{name.strip()}': {error}") from error
