"""Figures of the optimizers pages, one module per page."""
