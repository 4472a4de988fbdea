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


def resolve(name: str, where: str) -> tuple[Callable[[], str], Path]:
    """The function drawing figure `name` (e.g. 'activations.relu') and its module's file."""
    module_name, _, function = name.strip().rpartition(".")
    try:
        module = importlib.import_module(f"fieldguide.figures.{module_name}")
        make = getattr(module, function)
    except (ImportError, AttributeError, ValueError) as error:
        raise FieldGuideError(f"{where}: unknown figure '{name.strip()}': {error}") from error
    return make, Path(module.__file__)
