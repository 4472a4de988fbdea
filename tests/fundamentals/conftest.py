"""Shared fixtures of the fundamentals tests."""

import pytest

from fieldguide.plotting import one_torch_thread


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks: one thread avoids thread contention on a shared machine."""
    with one_torch_thread():
        yield
