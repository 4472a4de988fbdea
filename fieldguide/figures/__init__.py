"""Figures drawn at build time, one module per family, from the snippets' own functions.

A page asks for one with a fence whose body names `<module>.<function>`:

    ```figure
    activations.relu
    ```

The function takes no argument and returns the figure's HTML (see fieldguide.plotting).
"""

import importlib

from fieldguide.errors import FieldGuideError


def render(name: str, where: str) -> str:
    """The HTML of figure `name` (e.g. 'activations.relu'); `where` names the page asking."""
    module_name, _, function = name.strip().rpartition(".")
    try:
        module = importlib.import_module(f"fieldguide.figures.{module_name}")
        make = getattr(module, function)
    except (ImportError, AttributeError, ValueError) as error:
        raise FieldGuideError(f"{where}: unknown figure '{name.strip()}': {error}") from error
    return make()
