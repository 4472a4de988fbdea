"""Figures of the blocks pages, one module per page."""
