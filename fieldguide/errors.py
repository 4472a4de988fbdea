"""The one error type the build raises for bad input; MkDocs prints it and stops."""

from mkdocs.exceptions import PluginError


class FieldGuideError(PluginError):
    """Bad input to the build: the message names the file and the item at fault."""
