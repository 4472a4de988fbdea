"""Figures of the attention pages, one module per page."""
