"""Figures of the sequence pages, one module per page."""
