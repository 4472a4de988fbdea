"""Fundamentals snippets, one module per page, checked against torch."""
