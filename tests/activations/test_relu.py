"""ReLU and its derivative match torch.relu and its autograd gradient."""

import numpy as np
import pytest
import torch

from snippets.activations.relu import relu, relu_grad
from tests.helpers import (
    DTYPES,
    HARD_VALUES,
    SHAPES,
    assert_matches,
    dtype_id,
    random_input,
    tensor,
)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_value_and_gradient_match_torch(shape, dtype):
    """Values and d(sum)/dx agree with torch for every shape and both precisions."""
    x = random_input(shape, dtype)
    xt = tensor(x, grad=True)
    y = torch.relu(xt)
    y.sum().backward()
    assert_matches(relu(x), y)
    assert_matches(relu_grad(x), xt.grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_hard_inputs(dtype):
    """Huge magnitudes and signed zeros: exact agreement, including the derivative 0 at x = 0."""
    x = HARD_VALUES.astype(dtype)
    xt = tensor(x, grad=True)
    torch.relu(xt).sum().backward()
    assert_matches(relu(x), torch.relu(xt), rtol=0, atol=0)
    assert_matches(relu_grad(x), xt.grad, rtol=0, atol=0)


def test_nan_propagates_like_torch():
    """NaN in, NaN out, as torch.relu does (a silent 0 would hide a bug upstream)."""
    x = np.array([np.nan, -1.0, 1.0])
    assert np.isnan(relu(x)[0])
    assert torch.isnan(torch.relu(tensor(x)))[0]
