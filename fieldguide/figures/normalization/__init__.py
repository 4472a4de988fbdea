"""Figures of the normalization pages, one module per page."""
