"""The recurrent cell and the unrolled RNN match torch.nn.RNN with copied weights."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.sequence.rnn import compare_with_torch, rnn, rnn_cell
from tests.helpers import TOLERANCE

TORCH_DTYPES = (torch.float64, torch.float32)


def tol(dtype):
    """The shared tolerances of tests/helpers.py for a torch dtype."""
    return TOLERANCE[np.dtype(str(dtype).removeprefix("torch."))]


def bound(dtype, scale):
    """An absolute bound: the dtype's rtol times the magnitude involved, plus its atol.

    Values are tanh outputs (|h| < 1, scale 1); gradients sum a few dozen products of O(1)
    terms over time, layers and directions, so they use the largest gradient entry as scale.
    """
    t = tol(dtype)
    return t["rtol"] * scale + t["atol"]


CONFIGS = [
    dict(zip(("num_layers", "bidirectional", "batch_first", "nonlinearity", "bias", "h0"), c,
             strict=True))
    for c in itertools.product(
        (1, 2), (False, True), (False, True), ("tanh", "relu"), (True, False), (True, False))
]


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=str)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in
                                                                 c.items()))
def test_matches_torch_rnn(config, dtype):
    """Output, h_n and the gradients of x, h0 and every weight match torch.nn.RNN for every
    combination of layers, direction, batch_first, nonlinearity, bias and h0."""
    v, g = compare_with_torch(dtype, **config)
    assert v <= bound(dtype, 1.0)
    assert g <= bound(dtype, 30.0)


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=str)
@pytest.mark.parametrize(("T", "B"), [(1, 1), (1, 4), (9, 2), (3, 0)])
def test_shapes_including_one_step_and_empty_batch(T, B, dtype):
    """A single step, a single sequence and an empty batch (B = 0) all match torch."""
    v, g = compare_with_torch(dtype, T=T, B=B, num_layers=2, bidirectional=True)
    assert v <= bound(dtype, 1.0)
    assert g <= bound(dtype, 30.0)


def test_unbatched_input_like_torch():
    """A (T, I) input gives output (T, D*H) and h_n (L*D, H), equal to torch's."""
    torch.manual_seed(1)
    ref = torch.nn.RNN(3, 4, num_layers=2, bidirectional=True).double()
    x, h0 = torch.randn(6, 3, dtype=torch.float64), torch.randn(4, 4, dtype=torch.float64)
    out_ref, hn_ref = ref(x, h0)
    out, hn = rnn(x, dict(ref.named_parameters()), h0, num_layers=2, bidirectional=True)
    assert out.shape == (6, 8)
    assert hn.shape == (4, 4)
    torch.testing.assert_close(out, out_ref, **tol(torch.float64))
    torch.testing.assert_close(hn, hn_ref, **tol(torch.float64))


def test_h_n_layout():
    """h_n row layer*D + d is the last state of that direction: forward's is output[T-1],
    backward's is output[0] (the top layer's halves)."""
    torch.manual_seed(2)
    ref = torch.nn.RNN(3, 5, num_layers=3, bidirectional=True).double()
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    out, hn = rnn(x, dict(ref.named_parameters()), num_layers=3, bidirectional=True)
    assert hn.shape == (6, 2, 5)
    assert torch.equal(hn[4], out[-1, :, :5])
    assert torch.equal(hn[5], out[0, :, 5:])
    torch.testing.assert_close(hn, ref(x)[1], **tol(torch.float64))


def test_huge_inputs_saturate_like_torch():
    """Inputs of ±1e4 saturate tanh to ±1 and make relu states huge, exactly as torch does."""
    for nl in ("tanh", "relu"):
        torch.manual_seed(3)
        ref = torch.nn.RNN(2, 3, nonlinearity=nl).double()
        x = torch.tensor([[[1e4, -1e4]], [[-1e4, 1e4]], [[0.0, 0.0]]], dtype=torch.float64)
        out, _ = rnn(x, dict(ref.named_parameters()), nonlinearity=nl)
        out_ref, _ = ref(x)
        scale = out_ref.abs().max().item()
        torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12 * max(scale, 1.0))
        assert torch.isfinite(out).all()


def test_bad_arguments_refused():
    """An unknown nonlinearity, zero layers and an empty sequence raise ValueError."""
    W = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn_cell(torch.zeros(1, 2), torch.zeros(1, 2), W, W, nonlinearity="sigmoid")
    params = dict(torch.nn.RNN(2, 2).named_parameters())
    with pytest.raises(ValueError, match="num_layers"):
        rnn(torch.zeros(3, 1, 2), params, num_layers=0)
    with pytest.raises(ValueError, match="empty"):
        rnn(torch.zeros(0, 1, 2), params)
    with pytest.raises(RuntimeError):  # torch refuses the empty sequence as well
        torch.nn.RNN(2, 2)(torch.zeros(0, 1, 2))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6))
def test_zero_recurrent_weights_make_steps_independent(T, t):
    """Identity: with W_hh = 0 and no bias, step t is tanh(W_ih x_t) whatever came before."""
    t = min(t, T) - 1
    torch.manual_seed(T)
    ref = torch.nn.RNN(3, 4, bias=False).double()
    params = {n: p.detach().clone() for n, p in ref.named_parameters()}
    params["weight_hh_l0"].zero_()
    x = torch.randn(T, 2, 3, dtype=torch.float64)
    out, _ = rnn(x, params, torch.randn(1, 2, 4, dtype=torch.float64))
    torch.testing.assert_close(out[t], torch.tanh(x[t] @ params["weight_ih_l0"].T),
                               rtol=0, atol=0)


@pytest.mark.parametrize("which", ["b_ih", "b_hh"])
def test_a_single_bias_is_not_dropped(which):
    """Either bias given alone is added (a None partner counts as zero), never ignored."""
    torch.manual_seed(6)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    W_ih, W_hh = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 4, dtype=torch.float64)
    b = torch.randn(4, dtype=torch.float64)
    out = rnn_cell(x, h, W_ih, W_hh, **{which: b})
    torch.testing.assert_close(out, torch.tanh(x @ W_ih.T + h @ W_hh.T + b), **tol(torch.float64))
