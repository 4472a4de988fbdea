"""The soft lookup of the attention family page matches torch's SDPA and has the stated limits."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.attention.index import memory, soft_lookup
from tests.helpers import TOLERANCE

TORCH_DTYPES = (torch.float64, torch.float32)


def dtype_id(dtype):
    return str(dtype).removeprefix("torch.")


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=dtype_id)
@pytest.mark.parametrize("query_shape", [(3,), (5, 3), (2, 4, 3), (0, 3)], ids=str)
@pytest.mark.parametrize("sharpness", [0.0, 0.5, 2.5, 40.0])
def test_matches_torch_sdpa_with_scale(query_shape, sharpness, dtype):
    """Output and gradients equal torch's SDPA with scale = sharpness, for several query shapes
    (torch needs a row axis, so a single query is passed to it as one row)."""
    g = torch.Generator().manual_seed(1)
    q = torch.randn(query_shape, dtype=dtype, generator=g).requires_grad_()
    k, v = (t.to(dtype).requires_grad_() for t in memory())
    ours, _ = soft_lookup(q, k, v, sharpness=sharpness)
    ins = [t.detach().clone().requires_grad_() for t in (q, k, v)]
    ref = F.scaled_dot_product_attention(ins[0].reshape(-1, 3), ins[1], ins[2], scale=sharpness)
    ref = ref.reshape(*query_shape[:-1], 1)
    up = torch.randn(ours.shape, dtype=dtype, generator=g)
    ours.backward(up)
    ref.backward(up)
    tol = TOLERANCE[np.dtype(dtype_id(dtype))]
    # the values are tens (10 to 40), so absolute tolerances scale by 40
    kw = {"rtol": tol["rtol"], "atol": tol["atol"] * 40}
    torch.testing.assert_close(ours, ref, **kw)
    for a, b in zip((q, k, v), ins, strict=True):
        torch.testing.assert_close(a.grad, b.grad, **kw)


def test_sharpness_zero_is_the_plain_mean_and_negative_is_refused():
    """Sharpness 0 gives every key weight 1/S and returns the mean value; a negative, infinite
    or NaN sharpness raises."""
    keys, values = memory()
    out, w = soft_lookup(torch.tensor([0.3, -2.0, 5.0], dtype=torch.float64), keys, values, 0.0)
    assert torch.equal(w, torch.full((4,), 0.25, dtype=torch.float64))
    assert out.item() == 25.0
    for bad in (-1.0, math.inf, math.nan):  # inf * 0 similarity would give NaN weights
        with pytest.raises(ValueError, match="sharpness"):
            soft_lookup(torch.zeros(3, dtype=torch.float64), keys, values, bad)


@settings(max_examples=60, deadline=None)
@given(x=st.floats(-1, 1), y=st.floats(-1, 1), z=st.floats(-1, 1),
       beta=st.floats(0, 1e3))
def test_output_approaches_the_best_key_as_sharpness_grows(x, y, z, beta):
    """With best key b and a similarity gap delta to the runner-up, the output is within
    (S - 1) exp(-beta delta) max_j |v_j - v_b| of v_b (each other weight is at most
    exp(-beta delta) times weight b <= 1), and always between the smallest and largest value."""
    keys, values = memory()
    q = torch.tensor([x, y, z], dtype=torch.float64)
    sims = keys @ q
    best = int(sims.argmax())
    gap = (sims[best] - sims[torch.arange(4) != best].max()).item()
    out, w = soft_lookup(q, keys, values, beta)
    spread = (values - values[best]).abs().max().item()
    assert abs(out.item() - values[best].item()) <= 3 * math.exp(-beta * gap) * spread + 1e-9
    assert values.min().item() - 1e-9 <= out.item() <= values.max().item() + 1e-9
    assert abs(w.sum().item() - 1) < 1e-12
