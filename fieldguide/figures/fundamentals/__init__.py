"""Figures of the fundamentals pages, one module per page."""
