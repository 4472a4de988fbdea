"""Settings shared by every test."""

from hypothesis import settings

# Hypothesis fails an example that runs longer than 200 ms by default. On a shared 2-core machine
# running the suite over both cores that is a timing test in disguise, and it flakes; speed is
# measured by the benchmark (tools/bench.py), not by tests. So examples have no deadline.
settings.register_profile("fieldguide", deadline=None)
settings.load_profile("fieldguide")
