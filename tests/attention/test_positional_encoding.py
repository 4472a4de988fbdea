"""Sinusoidal positional encoding: the paper's formula, and the shift-by-k rotation property."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.attention.positional_encoding import (
    float32_angles,
    frequencies,
    shift_matrix,
    sinusoidal_encoding,
)

EPS64 = 2.0**-52


def formula(T, d, base=10000.0):
    """The paper's two equations, entry by entry, in float64 Python arithmetic."""
    rows = [[math.sin(p / base ** (j / d)) if j % 2 == 0 else math.cos(p / base ** ((j - 1) / d))
             for j in range(d)] for p in range(T)]
    return torch.tensor(rows, dtype=torch.float64).reshape(T, d)


def angle_tolerance(T):
    """Both sides round an angle of size up to T a few times (relative EPS64 each), and sin and
    cos pass an angle error straight through: 8 roundings of T * EPS64 is a safe bound."""
    return 8 * max(T, 1) * EPS64


@pytest.mark.parametrize(("T", "d"), [(0, 4), (1, 2), (7, 2), (50, 16), (300, 64), (1000, 6)])
@pytest.mark.parametrize("base", [10000.0, 100.0])
def test_float64_matches_the_formula(T, d, base):
    """float64 table equals the formula to within the rounding of the angles."""
    ours = sinusoidal_encoding(T, d, base=base, dtype=torch.float64)
    assert ours.dtype == torch.float64
    assert ours.shape == (T, d)
    torch.testing.assert_close(ours, formula(T, d, base), rtol=0, atol=angle_tolerance(T))


@pytest.mark.parametrize(("T", "d"), [(1, 2), (64, 32), (2048, 16)])
def test_float32_is_the_float64_table_rounded_once(T, d):
    """float32 entries are within half a float32 spacing below 1 (2**-25) of the formula."""
    ours = sinusoidal_encoding(T, d)
    assert ours.dtype == torch.float32
    err = (ours.double() - formula(T, d)).abs().max().item()
    assert err <= 2.0**-25 + angle_tolerance(T)


def test_float32_angles_lose_accuracy_at_large_positions():
    """Angles computed in float32 err by up to about T * 2**-23 radians; ours stay exact.

    omega rounded to float32 is off by a relative 2**-24, so p * omega is off by up to
    p * omega * 2**-24, plus 2**-24 relative for rounding the product: at most 2 T 2**-24.
    """
    T, d = 4096, 64
    exact = formula(T, d)
    naive = (float32_angles(T, d).double() - exact).abs().max().item()
    ours = (sinusoidal_encoding(T, d).double() - exact).abs().max().item()
    assert naive <= 2 * T * 2.0**-24 + 1e-6  # + the float32 rounding of sin and cos
    assert naive > 100 * ours


def test_odd_width_is_refused():
    """d must be even: an odd d raises a ValueError naming the problem."""
    with pytest.raises(ValueError, match="even"):
        sinusoidal_encoding(4, 5)


def test_first_pair_and_position_zero():
    """Position 0 is (0, 1, 0, 1, ...); frequencies run from 1 to 10000**(-(d - 2) / d)."""
    pe = sinusoidal_encoding(3, 8, dtype=torch.float64)
    assert torch.equal(pe[0], torch.tensor([0.0, 1.0] * 4, dtype=torch.float64))
    omega = frequencies(8)
    assert omega[0].item() == 1.0
    assert omega[-1].item() == pytest.approx(10000.0 ** (-6 / 8), rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    p1=st.integers(0, 2000),
    p2=st.integers(0, 2000),
    k=st.integers(-500, 500),
    half_d=st.integers(1, 32),
)
def test_shift_by_k_is_one_rotation_for_every_position(p1, p2, k, half_d):
    """PE(p + k) = R_k PE(p) for two unrelated positions with the same R_k: it depends on k only."""
    d = 2 * half_d
    k = max(k, -min(p1, p2))  # keep p + k >= 0, where the table is defined
    T = max(p1, p2) + max(k, 0) + 1  # positions 0..T-1 cover p and p + k
    pe = sinusoidal_encoding(T, d, dtype=torch.float64)
    R = shift_matrix(k, d)  # its angles k * omega are rounded too: |k| <= 500 adds to T
    for p in (p1, p2):
        torch.testing.assert_close(R @ pe[p], pe[p + k], rtol=0, atol=angle_tolerance(T + 500))


@settings(max_examples=40, deadline=None)
@given(j=st.floats(-100, 100), k=st.floats(-100, 100), half_d=st.integers(1, 16))
def test_shift_matrices_are_rotations_that_compose(j, k, half_d):
    """R_k is orthogonal with determinant 1, R_j R_k = R_(j+k), and R_0 = I."""
    d = 2 * half_d
    eye = torch.eye(d, dtype=torch.float64)
    Rj, Rk = shift_matrix(j, d), shift_matrix(k, d)
    torch.testing.assert_close(Rk @ Rk.T, eye, rtol=0, atol=1e-14)
    assert torch.linalg.det(Rk).item() == pytest.approx(1.0, abs=1e-12)
    torch.testing.assert_close(Rj @ Rk, shift_matrix(j + k, d), rtol=0, atol=1e-12)
    torch.testing.assert_close(shift_matrix(0, d), eye, rtol=0, atol=0)


@settings(max_examples=40, deadline=None)
@given(p=st.integers(0, 1000), k=st.integers(0, 1000), half_d=st.integers(1, 32))
def test_dot_product_depends_on_the_offset_only(p, k, half_d):
    """PE(p) . PE(p + k) = sum_i cos(k omega_i), whatever p is."""
    d = 2 * half_d
    pe = sinusoidal_encoding(p + k + 1, d, dtype=torch.float64)
    expected = torch.cos(k * frequencies(d)).sum()
    torch.testing.assert_close(pe[p] @ pe[p + k], expected, rtol=0,
                               atol=d * angle_tolerance(p + k))


def test_torch_transformer_layer_adds_no_position_information():
    """Without an encoding, nn.TransformerEncoderLayer is permutation equivariant: permuting the
    tokens permutes the outputs; adding the encoding first breaks that."""
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                             dtype=torch.float64).eval()
    x = torch.randn(1, 5, 8, dtype=torch.float64)
    perm = torch.tensor([3, 0, 4, 1, 2])
    with torch.no_grad():
        torch.testing.assert_close(layer(x)[:, perm], layer(x[:, perm]), rtol=1e-12, atol=1e-12)
        pe = sinusoidal_encoding(5, 8, dtype=torch.float64)
        moved = (layer(x + pe)[:, perm] - layer(x[:, perm] + pe)).abs().max().item()
    assert moved > 1e-3
