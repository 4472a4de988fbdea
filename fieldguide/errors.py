"""The error types the build raises for bad input; MkDocs prints them and stops."""

from mkdocs.exceptions import PluginError
from pymdownx.superfences import SuperFencesException


class FieldGuideError(PluginError):
    """Bad input to the build: the message names the file and the item at fault."""


class FenceError(FieldGuideError, SuperFencesException):
    """A fence (figure or code block) that could not be rendered.

    pymdownx.superfences drops any other exception raised while formatting a fence and shows
    the fence as plain text, so a failing figure would vanish from the page without a word.
    It passes this type on, and MkDocs stops the build with the message.
    """
