"""Figures of the losses pages, one module per page."""
