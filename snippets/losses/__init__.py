"""Loss functions, in NumPy, checked against torch."""
