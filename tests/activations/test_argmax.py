"""argmax and max along dim match torch.argmax and torch.max exactly, ties and NaN included."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from snippets.activations.argmax import argmax, max_dim
from snippets.activations.softmax import softmax
from tests.helpers import dtype_id, tensor

MATRIX = np.array([[1, 3, 5], [2, 4, 1]])
INDEX_DTYPES = [
    pytest.param(np.float64, id="float64"),
    pytest.param(np.float32, id="float32"),
    pytest.param(np.int64, id="int64"),
]
SHAPE_DIMS = [
    pytest.param(shape, dim, id=f"{shape}-dim{dim}")
    for shape in [(7,), (4, 5), (2, 3, 4), (0, 4)]
    for dim in range(-len(shape), len(shape))
    if shape[dim] > 0  # torch refuses to reduce an empty dimension
]


def assert_same(ours, reference):
    """Exact agreement: same dtype, same shape, same entries (indices must not differ at all)."""
    expected = reference.numpy()
    ours = np.asarray(ours)
    assert ours.dtype == expected.dtype, f"dtype {ours.dtype}, expected {expected.dtype}"
    assert ours.shape == expected.shape, f"shape {ours.shape}, expected {expected.shape}"
    np.testing.assert_array_equal(ours, expected)


def with_ties(shape, dtype, seed=0):
    """Random entries from only four levels, so most slices have a tied maximum."""
    return np.random.default_rng(seed).integers(-2, 2, size=shape).astype(dtype)


def test_matrix_example():
    """[[1,3,5],[2,4,1]]: flattened argmax 2, dim=0 gives [1,1,0], dim=1 gives [2,1], as torch
    (0-based indices, as on the page)."""
    t = tensor(MATRIX)
    assert argmax(MATRIX) == 2
    assert argmax(MATRIX, dim=0).tolist() == [1, 1, 0]
    assert argmax(MATRIX, dim=1).tolist() == [2, 1]
    assert_same(argmax(MATRIX), torch.argmax(t))
    assert_same(argmax(MATRIX, dim=0), torch.argmax(t, 0))
    assert_same(argmax(MATRIX, dim=1), torch.argmax(t, 1))


@pytest.mark.parametrize("keepdim", [False, True], ids=["drop-dim", "keepdim"])
@pytest.mark.parametrize("dtype", INDEX_DTYPES)
@pytest.mark.parametrize(("shape", "dim"), SHAPE_DIMS)
def test_argmax_and_max_match_torch(shape, dim, dtype, keepdim):
    """Indices, values and shapes of argmax / max along dim equal torch's, with many ties."""
    x = with_ties(shape, dtype)
    t = tensor(x)
    assert_same(argmax(x, dim, keepdim), torch.argmax(t, dim, keepdim))
    values, indices = max_dim(x, dim, keepdim)
    reference = torch.max(t, dim, keepdim)
    assert_same(values, reference.values)
    assert_same(indices, reference.indices)


@pytest.mark.parametrize("keepdim", [False, True], ids=["drop-dim", "keepdim"])
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4), ()], ids=str)
def test_flattened_argmax_matches_torch(shape, keepdim):
    """dim=None indexes the row-major flattening, with torch's shape for keepdim."""
    x = with_ties(shape, np.float64, seed=3)
    assert_same(argmax(x, keepdim=keepdim), torch.argmax(tensor(x), keepdim=keepdim))


def test_ties_go_to_the_first_index():
    """Several maximal entries: the smallest index wins, in every slice, as torch documents."""
    x = np.array([[1.0, 5.0, 5.0, 2.0], [7.0, 7.0, 7.0, 7.0], [0.0, 0.0, 0.0, 9.0]])
    assert argmax(x, dim=1).tolist() == [1, 0, 3]
    assert_same(argmax(x, dim=1), torch.argmax(tensor(x), 1))
    y = np.array([3.0, 8.0, 1.0, 8.0, 8.0])
    assert argmax(y) == 1
    assert_same(argmax(y), torch.argmax(tensor(y)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=dtype_id)
def test_hard_values(dtype):
    """+-inf, +-1e4 and signed zeros: same indices and values as torch (-0.0 ties with 0.0)."""
    x = np.array([
        [-np.inf, -1e4, -np.inf],
        [np.inf, 1e4, np.inf],
        [-0.0, 0.0, -0.0],
        [-1e4, -1e4 + 1, -np.inf],
    ], dtype=dtype)
    t = tensor(x)
    for dim in (0, 1):
        assert_same(argmax(x, dim), torch.argmax(t, dim))
        values, indices = max_dim(x, dim)
        assert_same(values, torch.max(t, dim).values)
        assert_same(indices, torch.max(t, dim).indices)


def test_nan_counts_as_the_maximum_like_torch():
    """torch.argmax and torch.max return the first NaN (and max's value is NaN); so do we."""
    x = np.array([[1.0, np.nan, 5.0, np.nan], [2.0, 3.0, 1.0, 0.0]])
    t = tensor(x)
    assert argmax(x, dim=1).tolist() == [1, 1]
    assert_same(argmax(x, dim=1), torch.argmax(t, 1))
    assert_same(argmax(x), torch.argmax(t))
    values, indices = max_dim(x, 1)
    assert np.isnan(values[0])
    assert torch.isnan(torch.max(t, 1).values[0])
    assert_same(indices, torch.max(t, 1).indices)


def test_empty_dimension_is_refused_like_torch():
    """Reducing a dimension of size 0 has no answer: both raise instead of inventing one
    (torch an IndexError, we a ValueError, as the page says), flattened or along dim."""
    x = np.zeros((3, 0))
    with pytest.raises(ValueError, match="size 0"):
        argmax(x, dim=1)
    with pytest.raises(IndexError):
        torch.argmax(tensor(x), 1)
    with pytest.raises(ValueError, match="size 0"):
        argmax(np.zeros(0))
    with pytest.raises(IndexError):
        torch.argmax(tensor(np.zeros(0)))
    with pytest.raises(ValueError, match="size 0"):
        max_dim(x, 1)


@pytest.mark.parametrize("keepdim", [False, True], ids=["drop-dim", "keepdim"])
@pytest.mark.parametrize("dim", [0, -1, None])
@pytest.mark.parametrize("dtype", INDEX_DTYPES)
def test_zero_d_input_like_torch(dtype, dim, keepdim):
    """A 0-d array is one entry: argmax 0 and max the entry itself, 0-d results, as torch."""
    x = np.array(5, dtype=dtype)
    t = tensor(x)
    if dim is None:
        assert_same(argmax(x, keepdim=keepdim), torch.argmax(t, keepdim=keepdim))
        return
    assert_same(argmax(x, dim, keepdim), torch.argmax(t, dim, keepdim))
    values, indices = max_dim(x, dim, keepdim)
    reference = torch.max(t, dim, keepdim)
    assert_same(values, reference.values)
    assert_same(indices, reference.indices)


@pytest.mark.parametrize("dim", [1, -2])
def test_zero_d_input_refuses_other_dims_like_torch(dim):
    """Only dim 0 and -1 exist for a 0-d array: any other dim raises IndexError in both."""
    x = np.array(5.0)
    with pytest.raises(IndexError):
        torch.argmax(tensor(x), dim)
    with pytest.raises(IndexError, match="out of range"):
        argmax(x, dim)
    with pytest.raises(IndexError):
        max_dim(x, dim)


finite = arrays(np.float64, (3, 4), elements=st.floats(-1e4, 1e4))


@given(finite, st.sampled_from([0, 1, -1, -2]))
def test_argmax_points_at_the_max(x, dim):
    """Identity: x at argmax(x, dim) is max(x, dim), and no earlier entry reaches it."""
    i = argmax(x, dim, keepdim=True)
    top = np.take_along_axis(x, i, axis=dim)
    np.testing.assert_array_equal(top, x.max(axis=dim, keepdims=True))
    earlier = np.arange(x.shape[dim]).reshape([-1 if d == dim % 2 else 1 for d in range(2)]) < i
    assert not (earlier & (x == top)).any()


@given(finite)
def test_softmax_keeps_the_argmax(x):
    """Identity: softmax is increasing, so the logits' argmax has the largest probability."""
    p = softmax(x, 1)
    winner = np.take_along_axis(p, argmax(x, 1, keepdim=True), axis=1)
    np.testing.assert_array_equal(winner, p.max(axis=1, keepdims=True))
