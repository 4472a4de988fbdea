"""Shared pieces for the regression-loss tests (MSE, MAE, Huber, smooth L1, log-cosh)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

from tests.helpers import HARD_VALUES, dtype_id, tensor

__all__ = ["REDUCTIONS", "dtype_id", "floats", "hard_pair", "nonfinite_pair", "pair",
           "reduce_torch_style", "torch_value_and_grad"]

REDUCTIONS = [pytest.param(r, id=f"reduction-{r}") for r in ("mean", "sum", "none")]


def torch_value_and_grad(fn, x: np.ndarray, y: np.ndarray, reduction: str, **kwargs):
    """torch's loss value and d(loss.sum())/d(input) (for "none": the summed losses)."""
    xt = tensor(x, grad=True)
    out = fn(xt, tensor(y), reduction=reduction, **kwargs)
    out.sum().backward()
    return out.detach(), xt.grad


def pair(shape, dtype, seed=0, scale=3.0) -> tuple[np.ndarray, np.ndarray]:
    """A prediction and a target of the same shape and dtype."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=shape) * scale).astype(dtype)
    y = (rng.normal(size=shape) * scale).astype(dtype)
    return x, y


def hard_pair(dtype) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of +-1e4 down to +-0 against targets that make residuals of every size, from
    0 and 1e-8 up to 2e4 (the last pair is 1e4 against -1e4)."""
    x = HARD_VALUES.astype(dtype)
    y = np.concatenate([HARD_VALUES[::2], np.zeros(len(HARD_VALUES) // 2 - 1), [-1e4]])
    return x, y.astype(dtype)


def nonfinite_pair(dtype) -> tuple[np.ndarray, np.ndarray]:
    """NaN in the prediction and in the target, infinities of both signs, and inf - inf."""
    x = np.array([np.nan, 1.0, np.inf, -np.inf, 0.0, np.inf, 2.0], dtype=dtype)
    y = np.array([0.0, np.nan, 1.0, 1.0, 0.0, np.inf, -1.0], dtype=dtype)
    return x, y


def reduce_torch_style(values: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce an elementwise torch tensor the way torch's losses do."""
    return {"mean": values.mean, "sum": values.sum, "none": lambda: values}[reduction]()


def floats(bound: float) -> st.SearchStrategy[float]:
    """Floats in [-bound, bound] whose squares stay normal numbers.

    Magnitudes below 1e-100 are replaced by 0: squaring them would underflow into subnormal
    numbers (or 0), which carry few significant bits, and relative checks on them mean nothing.
    """
    values = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
    return values.map(lambda v: 0.0 if abs(v) < 1e-100 else v)
