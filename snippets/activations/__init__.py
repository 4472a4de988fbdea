"""Activation functions and their derivatives, in NumPy, checked against torch."""
