"""Settings shared by every test."""

import os

from hypothesis import settings

# Keras (a dev dependency) runs on its PyTorch backend, chosen once here, before any test file
# imports it: tests compare it with torch, and TensorFlow is not installed.
os.environ.setdefault("KERAS_BACKEND", "torch")

# Hypothesis fails an example that runs longer than 200 ms by default. On a shared 2-core machine
# running the suite over both cores that is a timing test in disguise, and it flakes; speed is
# measured by the benchmark (tools/bench.py), not by tests. So examples have no deadline.
settings.register_profile("fieldguide", deadline=None)
settings.load_profile("fieldguide")
