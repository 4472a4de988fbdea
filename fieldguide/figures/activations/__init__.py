"""Figures of the activations pages, one module per page."""
