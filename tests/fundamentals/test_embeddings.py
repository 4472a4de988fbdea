"""One-hot times W against torch.nn.functional.embedding and one_hot; learned embeddings of
words used alike are close in cosine similarity."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from snippets.fundamentals.embeddings import (
    corpus_pairs,
    cosine,
    embed,
    embed_grad,
    learn_embeddings,
    one_hot,
)
from tests.helpers import DTYPES, assert_matches, dtype_id


def reference(idx, W, G, padding_idx=None):
    """torch's embedding of idx and the gradient of sum(E * G) in W."""
    Wt = torch.tensor(W, requires_grad=True)
    E = F.embedding(torch.tensor(idx, dtype=torch.long), Wt, padding_idx=padding_idx)
    E.backward(torch.tensor(G))
    return E, Wt.grad


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (3, 4), (2, 3, 5)], ids=str)
@pytest.mark.parametrize("padding_idx", [None, 0, 4])
def test_matches_torch_embedding(shape, dtype, padding_idx):
    """Value and weight gradient equal torch's embedding for every index shape, with and
    without padding_idx."""
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 6, size=shape)
    W = rng.normal(size=(6, 3)).astype(dtype)
    G = rng.normal(size=(*shape, 3)).astype(dtype)
    E, grad = reference(idx, W, G, padding_idx)
    assert_matches(embed(idx, W), E)
    assert_matches(embed_grad(idx, W, G, padding_idx), grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_one_hot_matches_torch(dtype):
    """one_hot equals torch.nn.functional.one_hot, cast to float, exactly."""
    idx = np.array([[0, 3, 3], [1, 2, 0]])
    ref = F.one_hot(torch.tensor(idx), num_classes=5).numpy().astype(dtype)
    np.testing.assert_array_equal(one_hot(idx, 5, dtype), ref)
    assert one_hot(idx, 5, dtype).dtype == dtype


@pytest.mark.parametrize("bad", [-1, 5])
def test_out_of_range_index_is_refused(bad):
    """An index outside [0, V) raises ValueError (torch raises IndexError)."""
    with pytest.raises(ValueError, match="indices"):
        embed(np.array([0, bad]), np.zeros((5, 2)))
    with pytest.raises(IndexError):
        F.embedding(torch.tensor([0, bad]), torch.zeros(5, 2))


def test_gradient_rows_unused_repeated_and_padding():
    """Unused rows get 0, a row used k times gets k upstream gradients, the padding row 0,
    though its forward value is its row of W."""
    W = np.arange(15.0).reshape(5, 3)
    idx = np.array([2, 2, 2, 0, 1])
    G = np.ones((5, 3))
    grad = embed_grad(idx, W, G, padding_idx=1)
    np.testing.assert_array_equal(grad[2], [3, 3, 3])
    np.testing.assert_array_equal(grad[0], [1, 1, 1])
    np.testing.assert_array_equal(grad[[1, 3, 4]], 0)
    E, ref = reference(idx, W, G, padding_idx=1)
    np.testing.assert_array_equal(grad, ref.numpy())
    np.testing.assert_array_equal(E.detach().numpy()[4], W[1])  # lookup still returns the row


def test_nn_embedding_padding_row_is_zero_at_init():
    """torch.nn.Embedding initialises its padding_idx row to zeros, others from N(0, 1)."""
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 4, padding_idx=3)
    assert torch.all(emb.weight[3] == 0)
    assert torch.all(emb.weight[[0, 1, 2, 4]] != 0)


@settings(deadline=None, max_examples=50)
@given(hnp.arrays(np.int64, st.integers(0, 20), elements=st.integers(0, 7)),
       hnp.arrays(np.float64, (8, 3), elements=st.floats(-1e4, 1e4)))
def test_product_is_row_lookup(idx, W):
    """Identity: one_hot(idx) @ W selects rows exactly, W[idx], even for huge weights."""
    np.testing.assert_array_equal(embed(idx, W), W[idx])


def test_nan_weight_row_stays_in_its_row():
    """A NaN in an unused row spreads into every output through the product (0 * NaN = NaN),
    while a lookup (torch) leaves the other rows clean: the product is a definition, not an
    implementation to use."""
    W = np.ones((3, 2))
    W[2, 0] = np.nan
    with np.errstate(invalid="ignore"):
        E = embed(np.array([0, 1]), W)
    assert np.isnan(E).all(axis=0)[0]
    ref = F.embedding(torch.tensor([0, 1]), torch.tensor(W)).numpy()
    assert not np.isnan(ref).any()


@pytest.mark.parametrize("seed", range(8))
def test_words_used_alike_are_close(seed):
    """For 8 seeds, every pair of words with the same successors (cat/dog, car/bus) has a
    cosine larger, by at least 0.3, than every pair across groups. Over these seeds the
    smallest gap is 0.86, so 0.3 is about a third of it."""
    words, index, pairs = corpus_pairs()
    W = learn_embeddings(pairs, len(words), seed=seed)
    c = lambda a, b: cosine(W[index[a]], W[index[b]])  # noqa: E731
    within = [c("cat", "dog"), c("car", "bus")]
    across = [c(a, b) for a, b in itertools.product(["cat", "dog"], ["car", "bus"])]
    assert min(within) > max(across) + 0.3
