"""The one-hidden-layer ReLU network of snippets/fundamentals/index.py: it fits sin, it is
piecewise linear with kinks at -b_i/w_i, a hand-built one interpolates within h^2/8, and it
computes what torch.nn.Sequential(Linear, ReLU, Linear) computes with the same weights."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.fundamentals.index import fit, interpolating_net, kinks, net
from tests.helpers import DTYPES, TOLERANCE, dtype_id

# Over seeds 0-49 the final training loss of fit(np.sin) was at most 8.1e-4 (median 1.7e-4).
# The bound leaves a factor 2.5 over that worst case; for scale, the hand-built interpolant
# with the same 16 units has a squared error of at most (h^2/8)^2 = 3.7e-4 everywhere.
LOSS_BOUND = 2e-3


@pytest.mark.parametrize("seed", range(10))
def test_fit_sin_below_bound(seed):
    """Training lowers the mean squared error on sin from above 0.1 to below LOSS_BOUND."""
    _, losses = fit(np.sin, hidden=16, seed=seed)
    assert losses[0] > 0.1
    assert losses[-1] < LOSS_BOUND


def test_interpolant_scale_of_the_bound():
    """The 16-unit interpolant's mean squared error on the training grid is below
    (h^2/8)^2, the comparison the bound's comment makes."""
    x = np.linspace(-np.pi, np.pi, 100)
    out, _ = net(x, *interpolating_net(np.sin, -np.pi, np.pi, 16))
    h = 2 * np.pi / 16
    assert np.mean((out - np.sin(x)) ** 2) <= (h**2 / 8) ** 2


def random_params(H, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=H), rng.normal(size=H) * 2, rng.normal(size=H), rng.normal()


@settings(max_examples=30)
@given(st.integers(1, 12), st.integers(0, 10_000))
def test_linear_between_kinks(H, seed):
    """Between consecutive kinks -b_i/w_i the output is exactly a straight line: the midpoint
    of two points of a piece maps to the midpoint of their outputs."""
    w, b, v, c = random_params(H, seed)
    edges = np.concatenate([[-np.pi], kinks(w, b), [np.pi]])
    for lo, hi in pairwise(edges):
        if hi - lo < 1e-6:
            continue
        p, q = lo + 0.25 * (hi - lo), lo + 0.75 * (hi - lo)
        f, _ = net(np.array([p, q, (p + q) / 2]), w, b, v, c)
        assert f[2] == pytest.approx((f[0] + f[1]) / 2, rel=1e-9, abs=1e-9)


@settings(max_examples=30)
@given(st.integers(1, 12), st.integers(0, 10_000))
def test_slope_changes_only_at_kinks(H, seed):
    """The slope sum_{i on} w_i v_i takes at most H + 1 values on [-pi, pi], and changes only
    where x crosses a kink."""
    w, b, v, c = random_params(H, seed)
    x = np.linspace(-np.pi, np.pi, 5001)
    _, z = net(x, w, b, v, c)
    pattern = z > 0  # which units are on at each x
    changes = np.flatnonzero(np.any(pattern[1:] != pattern[:-1], axis=1))
    ks = kinks(w, b)
    assert len(changes) <= len(ks) <= H
    for i in changes:  # each change of the on/off pattern brackets a kink
        assert np.any((ks >= x[i]) & (ks <= x[i + 1]))


def test_kinks_skip_constant_units_and_outside_points():
    """A unit with w = 0 has no kink; kinks outside the interval are dropped; output sorted."""
    w = np.array([0.0, 1.0, 2.0, 1.0])
    b = np.array([1.0, -1.0, 1.0, -10.0])  # kinks: none, 1, -0.5, 10 (outside)
    np.testing.assert_array_equal(kinks(w, b), [-0.5, 1.0])


@pytest.mark.parametrize("H", [1, 2, 4, 8, 16, 32, 64])
def test_interpolant_error_bound(H):
    """Joining H + 1 knots of sin by lines errs by at most h^2/8 max|sin''| = h^2/8, h the
    knot spacing, and passes through every knot."""
    w, b, v, c = interpolating_net(np.sin, -np.pi, np.pi, H)
    x = np.linspace(-np.pi, np.pi, 20_001)
    out, _ = net(x, w, b, v, c)
    h = 2 * np.pi / H
    assert np.abs(out - np.sin(x)).max() <= h**2 / 8 + 1e-12
    t = np.linspace(-np.pi, np.pi, H + 1)
    np.testing.assert_allclose(net(t, w, b, v, c)[0], np.sin(t), atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("n", [0, 1, 257])
def test_matches_torch_sequential(n, dtype):
    """Values and d(output)/dx equal torch's Sequential(Linear(1, H), ReLU, Linear(H, 1)) with
    the same weights, for an empty batch, one input and many."""
    H = 7
    w, b, v, c = (np.asarray(p, dtype=dtype) for p in random_params(H, 3))
    x = np.linspace(-3, 3, n).astype(dtype)
    model = torch.nn.Sequential(torch.nn.Linear(1, H), torch.nn.ReLU(),
                                torch.nn.Linear(H, 1)).to(torch.from_numpy(w).dtype)
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(w)[:, None])
        model[0].bias.copy_(torch.from_numpy(b))
        model[2].weight.copy_(torch.from_numpy(v)[None, :])
        model[2].bias.fill_(float(c))
    xt = torch.tensor(x[:, None], requires_grad=True)
    yt = model(xt)[:, 0]
    yt.sum().backward()
    ours, z = net(x, w, b, v, c)
    assert ours.dtype == dtype
    assert ours.shape == (n,)
    tol = TOLERANCE[np.dtype(dtype)]
    np.testing.assert_allclose(ours, yt.detach().numpy(), **tol)
    np.testing.assert_allclose((z > 0) @ (w * v), xt.grad[:, 0].numpy(), **tol)


def test_fit_takes_the_same_steps_as_torch_adam():
    """fit's hand-written gradient and Adam update equal torch.optim.Adam's (default betas and
    eps) on the same network, initial weights and loss: same losses and weights after 25 steps;
    the 16-unit network has 3 * 16 + 1 = 49 parameters."""
    (w0, b0, v0, c0), _ = fit(np.sin, hidden=16, steps=1, lr=0.0, seed=4)  # lr 0: initial
    assert sum(np.size(p) for p in (w0, b0, v0, c0)) == 49
    (w, b, v, c), losses = fit(np.sin, hidden=16, steps=25, lr=0.01, seed=4)
    x = torch.linspace(-np.pi, np.pi, 100, dtype=torch.float64)
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True)
              for p in (w0, b0, v0, [c0])]
    opt = torch.optim.Adam(params, lr=0.01)
    ref = []
    for _ in range(25):
        pw, pb, pv, pc = params
        loss = torch.mean((torch.relu(x[:, None] * pw + pb) @ pv + pc - torch.sin(x)) ** 2)
        ref.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(losses, ref, rtol=1e-12)
    for ours, theirs in zip((w, b, v, [c]), params, strict=True):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_demo_run_loss_falls_by_three_orders_of_magnitude():
    """The run shown on the page (seed 0) ends with a loss more than 1000 times below its
    initial one, as the prose says."""
    _, losses = fit(np.sin, hidden=16, seed=0)
    assert losses[-1] < 1e-3 * losses[0]


def test_doubling_the_units_quarters_the_interpolation_error():
    """For sin, the largest error of the H-unit interpolant falls by a factor between 3.5 and 4
    when H doubles from 8 on (h^2/8 is attained near the extrema of sin as h -> 0)."""
    x = np.linspace(-np.pi, np.pi, 200_001)
    err = {H: np.abs(net(x, *interpolating_net(np.sin, -np.pi, np.pi, H))[0] - np.sin(x)).max()
           for H in (8, 16, 32, 64)}
    for H in (8, 16, 32):
        assert 3.5 < err[H] / err[2 * H] <= 4.0 + 1e-6
