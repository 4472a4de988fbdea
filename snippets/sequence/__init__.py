"""Sequence snippets, one module per page, checked against torch."""
