"""Figures of the learning-rate schedule pages, one module per page."""
