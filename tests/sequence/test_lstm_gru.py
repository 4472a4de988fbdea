"""LSTM and GRU cells match torch.nn.LSTM / torch.nn.GRU with copied weights; the gate order
and the GRU form of Cho et al. (2014)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.sequence.lstm_gru import (
    compare_with_torch,
    gru_cell,
    gru_cell_cho,
    lstm_cell,
    run,
)
from tests.helpers import TOLERANCE

TORCH_DTYPES = (torch.float64, torch.float32)


def bound(dtype, scale):
    """The shared tolerance as an absolute bound: rtol times the magnitude involved plus atol.
    States are below 1 in size (scale 1); gradients sum O(1) products over T steps and four
    or three gates, so they use scale 30."""
    t = TOLERANCE[np.dtype(str(dtype).removeprefix("torch."))]
    return t["rtol"] * scale + t["atol"]


CASES = [
    ("lstm", {}), ("lstm", {"bidirectional": True}), ("lstm", {"proj_size": 3}),
    ("lstm", {"proj_size": 2, "bidirectional": True}),
    ("gru", {}), ("gru", {"bidirectional": True}),
]


@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=str)
@pytest.mark.parametrize(("kind", "config"), CASES, ids=str)
@pytest.mark.parametrize("sizes", [{}, {"T": 1, "B": 1}, {"T": 15, "B": 2, "C": 1, "H": 7},
                                   {"B": 0}], ids=str)
def test_matches_torch(kind, config, sizes, dtype):
    """Outputs, final states and the gradients of x, h0 (c0) and every weight match torch,
    for one step, long sequences, an empty batch, bidirectional and projected LSTMs."""
    v, g = compare_with_torch(kind, dtype, **config, **sizes)
    assert v <= bound(dtype, 1.0)
    assert g <= bound(dtype, 30.0)


def test_lstm_gate_order_i_f_g_o():
    """torch's LSTM blocks are i, f, g, o: a huge bias on block 2 (f = 1) and a hugely
    negative one on block 1 (i = 0) keep c exactly; the same on blocks 3 and 1 does not."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4).double()
    x = torch.randn(10, 2, 3, dtype=torch.float64)
    h0, c0 = torch.randn(2, 1, 2, 4, dtype=torch.float64)
    for block, keeps in [(1, True), (2, False)]:
        with torch.no_grad():
            lstm.bias_ih_l0.zero_()
            lstm.bias_ih_l0[4 * block: 4 * block + 4] = 1e4
            lstm.bias_ih_l0[0:4] = -1e4
        _, (_, c_n) = lstm(x, (h0, c0))
        assert torch.equal(c_n, c0) == keeps
    # and ours agrees with torch on what block 2 is
    p = [w.detach() for w in lstm.parameters()]
    _, (_, c_ours) = run(lstm_cell, x, (h0[0], c0[0]), p)
    torch.testing.assert_close(c_ours, c_n[0], rtol=1e-12, atol=1e-12)


def test_lstm_output_gate_is_block_4():
    """A hugely negative bias on block 4 (o = 0) makes every output exactly 0."""
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(3, 4).double()
    with torch.no_grad():
        lstm.bias_ih_l0[12:16] = -1e4
    out, _ = lstm(torch.randn(5, 2, 3, dtype=torch.float64))
    assert torch.equal(out, torch.zeros_like(out))


def test_gru_gate_order_r_z_n_and_z_keeps_the_state():
    """torch's GRU blocks are r, z, n and h_t = (1 - z) n + z h_{t-1}: z = 1 (a huge bias on
    block 2) keeps h_0 (to rounding: torch does not evaluate (1 - z) n + z h literally), and
    z = 0 makes h_t = n_t, which then does not depend on h_{t-1} through z."""
    torch.manual_seed(2)
    gru = torch.nn.GRU(3, 4).double()
    x = torch.randn(10, 2, 3, dtype=torch.float64)
    h0 = torch.randn(1, 2, 4, dtype=torch.float64)
    with torch.no_grad():
        gru.bias_ih_l0[4:8] = 1e4
    _, h_n = gru(x, h0)
    torch.testing.assert_close(h_n, h0, rtol=0, atol=1e-15)
    p = [w.detach() for w in gru.parameters()]
    assert torch.equal(run(gru_cell, x, h0[0], p)[1], h0[0])  # ours: exactly
    with torch.no_grad():
        gru.bias_ih_l0[4:8] = -1e4  # z = 0
        gru.bias_ih_l0[0:4] = -1e4  # r = 0: n_t = tanh(W_in x_t + b_in)
    out, _ = gru(x, h0)
    n = torch.tanh(x @ gru.weight_ih_l0[8:].T + gru.bias_ih_l0[8:])
    torch.testing.assert_close(out, n, rtol=1e-12, atol=1e-12)


def test_cho_form_differs_from_torch_and_agrees_when_r_is_one():
    """Same weights: torch's GRU (r after W_hn h + b_hn) and Cho et al.'s (r before W_hn)
    differ by a visible amount, and agree to rounding when r = 1."""
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4).double()
    p = [w.detach().clone() for w in gru.parameters()]
    x = torch.randn(20, 2, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, dtype=torch.float64)
    diff = (run(gru_cell, x, h0, p)[0] - run(gru_cell_cho, x, h0, p)[0]).abs().max()
    assert diff > 0.05
    p[2][:4] = 1e4
    diff = (run(gru_cell, x, h0, p)[0] - run(gru_cell_cho, x, h0, p)[0]).abs().max()
    assert diff < 1e-14


def test_cho_form_by_formula():
    """gru_cell_cho computes tanh(W_in x + b_in + W_hn (r * h) + b_hn) literally."""
    torch.manual_seed(3)
    H, C = 4, 3
    W_ih, W_hh = torch.randn(3 * H, C), torch.randn(3 * H, H)
    b_ih, b_hh = torch.randn(3 * H), torch.randn(3 * H)
    x, h = torch.randn(2, C), torch.randn(2, H)
    r = torch.sigmoid(x @ W_ih[:H].T + b_ih[:H] + h @ W_hh[:H].T + b_hh[:H])
    z = torch.sigmoid(x @ W_ih[H:2 * H].T + b_ih[H:2 * H] + h @ W_hh[H:2 * H].T
                      + b_hh[H:2 * H])
    n = torch.tanh(x @ W_ih[2 * H:].T + b_ih[2 * H:] + (r * h) @ W_hh[2 * H:].T
                   + b_hh[2 * H:])
    torch.testing.assert_close(gru_cell_cho(x, h, W_ih, W_hh, b_ih, b_hh),
                               (1 - z) * n + z * h)


def test_huge_inputs_saturate_like_torch():
    """Inputs of ±1e4 saturate every gate; both implementations stay finite and agree."""
    for Module, cell in [(torch.nn.LSTM, lstm_cell), (torch.nn.GRU, gru_cell)]:
        torch.manual_seed(4)
        ref = Module(2, 3).double()
        x = torch.tensor([[[1e4, -1e4]], [[-1e4, 1e4]], [[0.0, 1e4]]], dtype=torch.float64)
        out_ref, _ = ref(x)
        h0 = torch.zeros(1, 3, dtype=torch.float64)
        state = (h0, h0) if cell is lstm_cell else h0
        out, _ = run(cell, x, state, [w.detach() for w in ref.parameters()])
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 1000))
def test_lstm_states_bounded(seed):
    """Property: |h| < 1 (o and tanh are below 1) and |c_t| <= |c_{t-1}| + 1 (f, i, |g| <= 1)."""
    g = torch.Generator().manual_seed(seed)
    H, C = 5, 3
    p = [torch.randn(4 * H, C, generator=g, dtype=torch.float64) * 3,
         torch.randn(4 * H, H, generator=g, dtype=torch.float64) * 3,
         torch.randn(4 * H, generator=g, dtype=torch.float64),
         torch.randn(4 * H, generator=g, dtype=torch.float64)]
    h = torch.zeros(1, H, dtype=torch.float64)
    c = torch.zeros(1, H, dtype=torch.float64)
    for _ in range(10):
        x = torch.randn(1, C, generator=g, dtype=torch.float64)
        h, c_new = lstm_cell(x, h, c, *p)
        assert (h.abs() <= 1).all()
        assert (c_new.abs() <= c.abs() + 1 + 1e-12).all()
        c = c_new


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gradient_reach_against_finite_differences(kind):
    """gradient_reach's entries equal central finite differences of u . h_T with respect to
    the input m steps back (float64, step 1e-6: truncation error ~1e-12, rounding ~1e-10)."""
    from snippets.sequence.lstm_gru import gradient_reach

    T, C, H, seed = 6, 3, 4, 7
    r = gradient_reach(kind, forget_bias=0.5, T=T, C=C, H=H, seed=seed)
    torch.manual_seed(seed)  # rebuild the same layer, inputs and direction
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    m = layer(C, H).double()
    if kind == "lstm":
        with torch.no_grad():
            m.bias_ih_l0[H : 2 * H] += 0.5
    x = torch.randn(T, 1, C, dtype=torch.float64)
    u = torch.randn(H, dtype=torch.float64)

    def f(xx):
        with torch.no_grad():
            return (m(xx)[0][-1, 0] @ u).item()

    eps = 1e-6
    for n in range(T):
        grad = torch.zeros(C, dtype=torch.float64)
        for j in range(C):
            xp, xm = x.clone(), x.clone()
            xp[T - 1 - n, 0, j] += eps
            xm[T - 1 - n, 0, j] -= eps
            grad[j] = (f(xp) - f(xm)) / (2 * eps)
        assert r[n].item() == pytest.approx(grad.norm().item(), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_forget_bias_one_reaches_much_further(seed):
    """The page's figure: 50 steps back, the LSTM with forget bias +1 is at least 1e3 times
    more sensitive than with torch's initialisation. The direct cell path multiplies 50
    forget gates, whose mean moves from about 0.50 to about 0.72, a factor of the order
    (0.72 / 0.5)^50 ~ 1e8; 1e3 leaves a wide margin for the other paths and the seed."""
    from snippets.sequence.lstm_gru import gradient_reach

    plain = gradient_reach("lstm", 0.0, seed=seed)
    biased = gradient_reach("lstm", 1.0, seed=seed)
    assert biased[50] > 1e3 * plain[50]


@pytest.mark.parametrize("seed", range(3))
def test_forget_gate_averages_quoted_on_the_page(seed):
    """The page's averages in the gradient_reach setting: the forget gate averages about 1/2
    with torch's initialisation and about 0.72 with +1 on its bias. The pre-activation is
    symmetric about the added bias with a spread of about 0.5, so the mean is 1/2 for bias 0
    and a little below sigmoid(1) = 0.731 for bias 1; the bounds allow for the seed."""
    T, C, H = 100, 16, 64
    means = []
    for fb in (0.0, 1.0):
        torch.manual_seed(seed)  # the same layer and inputs as gradient_reach
        m = torch.nn.LSTM(C, H).double()
        with torch.no_grad():
            m.bias_ih_l0[H : 2 * H] += fb
        x = torch.randn(T, 1, C, dtype=torch.float64)
        p = [w.detach() for w in m.parameters()]
        h = c = torch.zeros(1, H, dtype=torch.float64)
        fs = []
        for t in range(T):
            a = x[t] @ p[0].T + p[2] + h @ p[1].T + p[3]
            fs.append(torch.sigmoid(a[:, H : 2 * H]))
            h, c = lstm_cell(x[t], h, c, *p)
        means.append(torch.cat(fs).mean().item())
    assert 0.48 < means[0] < 0.52
    assert 0.70 < means[1] < 0.74
