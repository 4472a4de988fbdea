"""KL divergence matches torch.nn.functional.kl_div, values and gradients."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.kl_div import kl_div, kl_div_grad
from tests.helpers import DTYPES, assert_matches, dtype_id, tensor

F = torch.nn.functional
SHAPES = [(), (0,), (0, 4), (6,), (3, 4), (2, 3, 4)]
REDUCTIONS = ["none", "mean", "batchmean", "sum"]


def _distributions(shape, dtype, seed=0):
    """log q and p: distributions along the last axis, with some p exactly 0."""
    rng = np.random.default_rng(seed)
    q = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]) if shape and shape[-1] else None
    if q is None:  # scalar or empty: any positive values will do
        q, p = rng.uniform(0.1, 1, size=shape), rng.uniform(0, 1, size=shape)
    else:
        p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        p.reshape(-1, shape[-1])[:, 0] = 0.0  # a zero probability in every row
    return np.log(q).astype(dtype), p.astype(dtype)


def _torch_kl(x, t, reduction, log_target):
    xt = tensor(x, grad=True)
    with warnings.catch_warnings():  # "mean" warns that it is not the KL per sample
        warnings.simplefilter("ignore", UserWarning)
        loss = F.kl_div(xt, tensor(t), reduction=reduction, log_target=log_target)
    loss.sum().backward()
    return loss, xt.grad


@pytest.mark.parametrize("log_target", [False, True], ids=["prob-target", "log-target"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_matches_torch(shape, dtype, reduction, log_target):
    """Values and gradients agree with torch for every reduction, with and without log_target."""
    logq, p = _distributions(shape, dtype)
    t = np.log(p + 0.01).astype(dtype) if log_target else p
    loss, grad = _torch_kl(logq, t, reduction, log_target)
    assert_matches(kl_div(logq, t, reduction, log_target), loss)
    assert_matches(kl_div_grad(logq, t, reduction, log_target), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_zero_target_terms_are_zero(dtype):
    """0 log 0 = 0: a zero target contributes exactly 0, whatever the (finite) input."""
    x = np.array([-1e4, -3.0, 0.0], dtype)
    t = np.zeros(3, dtype)
    np.testing.assert_array_equal(kl_div(x, t, reduction="none"), 0)
    assert_matches(kl_div(x, t, reduction="none"), _torch_kl(x, t, "none", False)[0])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_log_zero_input_with_zero_target_is_nan_like_torch(dtype):
    """Input log q = -inf where p = 0 gives NaN (0 * -inf) in torch and here; the grad is 0."""
    x = np.array([-np.inf, 0.0], dtype)
    t = np.array([0.0, 1.0], dtype)
    loss, grad = _torch_kl(x, t, "sum", False)
    assert np.isnan(loss.item())
    assert np.isnan(kl_div(x, t, reduction="sum"))
    assert_matches(kl_div_grad(x, t, reduction="sum"), grad)


def test_mean_warns_in_torch_and_differs_from_batchmean():
    """'mean' divides by every element, 'batchmean' by the batch: they differ by the class count."""
    logq, p = _distributions((3, 4), np.float64)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(tensor(logq), tensor(p), reduction="mean")
    ratio = kl_div(logq, p, "batchmean") / kl_div(logq, p, "mean")
    assert ratio == pytest.approx(4)


def test_scalar_batchmean_is_the_sum():
    """A 0-d input has no batch dimension: torch's 'batchmean' then returns the sum."""
    x, t = np.array(-0.5), np.array(0.3)
    assert_matches(kl_div(x, t, "batchmean"), _torch_kl(x, t, "batchmean", False)[0])
    assert kl_div(x, t, "batchmean") == kl_div(x, t, "sum")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_batchmean_is_cross_entropy_minus_entropy(n, c, seed):
    """Identity: KL(p||q) = H(p, q) - H(p) >= 0, and it is 0 when q = p."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(c), size=n)
    q = rng.dirichlet(np.ones(c), size=n)
    cross = -(p * np.log(q)).sum() / n
    entropy = -(p * np.log(p)).sum() / n
    kl = kl_div(np.log(q), p, "batchmean")
    np.testing.assert_allclose(kl, cross - entropy, rtol=1e-9, atol=1e-12)
    assert kl >= 0
    assert kl_div(np.log(p), p, "batchmean") == pytest.approx(0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(2, 6), st.integers(0, 2**32 - 1))
def test_log_target_equals_probability_target(n, c, seed):
    """log_target=True on log p gives the same divergence as log_target=False on p."""
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(c), size=n), rng.dirichlet(np.ones(c), size=n)
    np.testing.assert_allclose(kl_div(np.log(q), np.log(p), "none", log_target=True),
                               kl_div(np.log(q), p, "none"), rtol=1e-9, atol=1e-14)
