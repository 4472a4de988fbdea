"""Shared helpers for checking NumPy snippets against PyTorch.

Tolerances are per dtype and deliberately tight. Our code and torch evaluate the same formula in
the same precision, so they differ only by rounding in a different order of operations:
- float64: relative 1e-12 (about 4500 ULPs of headroom over the ~2e-16 machine epsilon), absolute
  1e-12 for values near zero, where relative error means nothing.
- float32: relative 2e-6 (about 17 ULPs of the ~1.2e-7 machine epsilon), absolute 1e-6.
A formula that is wrong, or merely unstable, misses these by orders of magnitude. A test that
needs looser bounds states why next to the call.
"""

from __future__ import annotations

import numpy as np
import torch

DTYPES = (np.float64, np.float32)
TOLERANCE = {
    np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 2e-6, "atol": 1e-6},
}

# Shapes every elementwise function is checked on: scalar, empty, vector, matrix, 3-D.
SHAPES = [(), (0,), (7,), (4, 5), (2, 3, 4)]

# Inputs that break naive formulas: huge magnitudes, zeros of both signs, tiny values.
HARD_VALUES = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, -1e-8, -0.0, 0.0, 1e-8, 1.0, 30.0, 100.0,
                        1e3, 1e4])


def dtype_id(dtype) -> str:
    """A readable test id for a dtype: 'float64', 'float32'."""
    return np.dtype(dtype).name


def random_input(shape, dtype, seed=0, scale=3.0) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=shape) * scale).astype(dtype)


def tensor(x: np.ndarray, grad: bool = False) -> torch.Tensor:
    """A torch tensor holding exactly `x` (same dtype), optionally tracking gradients."""
    return torch.tensor(np.asarray(x), requires_grad=grad)


def assert_matches(ours, reference, dtype=None, **override) -> None:
    """Assert `ours` equals the torch `reference` within the dtype's tolerance, dtype included."""
    expected = reference.detach().numpy() if isinstance(reference, torch.Tensor) else reference
    ours = np.asarray(ours)
    dtype = np.dtype(dtype or expected.dtype)
    assert ours.dtype == dtype, f"dtype {ours.dtype}, expected {dtype}"
    assert ours.shape == expected.shape, f"shape {ours.shape}, expected {expected.shape}"
    np.testing.assert_allclose(ours, expected, **{**TOLERANCE[dtype], **override})


def torch_elementwise(fn, x: np.ndarray, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    """torch's `fn(x, **kwargs)` and d(sum of it)/dx at `x`: for an elementwise function, its
    derivative at every point."""
    xt = tensor(x, grad=True)
    y = fn(xt, **kwargs)
    y.sum().backward()
    return y, xt.grad
