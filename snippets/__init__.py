"""Runnable implementations shown on the site, one concept per file, mirroring docs/."""
