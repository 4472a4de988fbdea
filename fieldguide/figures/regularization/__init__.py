"""Figures of the regularization pages, one module per page."""
