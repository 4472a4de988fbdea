r"""The retrieval step of retrieval-augmented generation: rank passages by cosine similarity to
a query and keep the top k, ties broken by position.

Reference: `torch.nn.functional.cosine_similarity` and `torch.topk` (and
`torch.sort(stable=True)` for the order of ties).
"""

# --8<-- [start:impl]
# --8<-- [start:cosine_scores]
import numpy as np


def cosine_scores(query, passages, eps=1e-8):
    r"""Cosine similarity of one query with every passage, as torch computes it.

    $$\operatorname{score}_i = \frac{p_i \cdot q}
    {\max(\lVert p_i \rVert, \epsilon)\, \max(\lVert q \rVert, \epsilon)}$$

    Args:
        query: (D,) query embedding $q$.
        passages: (N, D) passage embeddings $p_i$, one per row.
        eps: lower bound on each norm; a zero vector gets score 0.

    Returns:
        An (N,) array of scores in $[-1, 1]$.
    """
    q, P = np.asarray(query), np.asarray(passages)
    eps = P.dtype.type(eps)
    q_norm = np.maximum(np.linalg.norm(q), eps)
    p_norm = np.maximum(np.linalg.norm(P, axis=1), eps)  # (N,)
    return (P @ q) / (p_norm * q_norm)  # (N,)
# --8<-- [end:cosine_scores]


# --8<-- [start:top_k]
def top_k(scores, k):
    r"""Indices of the k largest scores, best first; equal scores keep their corpus order.

    Args:
        scores: (N,) array.
        k: how many to keep, $0 \le k \le N$.

    Returns:
        A (k,) integer array of indices.
    """
    scores = np.asarray(scores)
    if not 0 <= k <= scores.shape[0]:
        raise ValueError(f"k must lie in [0, {scores.shape[0]}], not {k}")
    if np.isnan(scores).any():
        raise ValueError("a score is NaN: check the embeddings")
    order = np.argsort(-scores, kind="stable")  # stable: ties in index order
    return order[:k]
# --8<-- [end:top_k]


# --8<-- [start:retrieve]
def retrieve(query, passages, k):
    """The k passages most similar to the query: their indices and scores, best first."""
    scores = cosine_scores(query, passages)
    idx = top_k(scores, k)
    return idx, scores[idx]
# --8<-- [end:retrieve]
# --8<-- [end:impl]


# --8<-- [start:bag_of_words]
PASSAGES = [
    "the eiffel tower is in paris",
    "paris is the capital of france",
    "the tower of london is a castle",
    "berlin is the capital of germany",
    "the capital of france is paris",
]


def bag_of_words(texts, vocabulary):
    """Word counts: a stand-in for a learned sentence embedding."""
    return np.array([[t.split().count(w) for w in vocabulary] for t in texts], float)
# --8<-- [end:bag_of_words]


if __name__ == "__main__":
    # --8<-- [start:demo]
    vocabulary = sorted({w for p in PASSAGES for w in p.split()})
    P = bag_of_words(PASSAGES, vocabulary)  # (5, vocabulary size)
    q = bag_of_words(["what is the capital of france"], vocabulary)[0]
    idx, scores = retrieve(q, P, k=3)
    for i, s in zip(idx, scores, strict=True):
        print(f"{s:.3f}  [{i}] {PASSAGES[i]}")
    # --8<-- [end:demo]

    # --8<-- [start:check]
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    print("checked against torch.nn.functional.cosine_similarity")
    for dtype in (np.float64, np.float32):
        P = rng.normal(size=(1000, 16)).astype(dtype)
        P[1] = 0  # a zero passage: score 0
        P[2] = P[3] = P[4]  # three identical passages: tied scores
        q = rng.normal(size=16).astype(dtype)
        ref = F.cosine_similarity(torch.tensor(P), torch.tensor(q)[None], dim=1)
        err = np.abs(cosine_scores(q, P) - ref.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {err:.1e}")
    print("checked against torch.topk (values; indices when untied)")
    for dtype in (np.float64, np.float32):
        s = rng.integers(0, 50, size=2000).astype(dtype) / 50  # many ties
        values, _ = torch.topk(torch.tensor(s), 100)
        err = np.abs(s[top_k(s, 100)] - values.numpy()).max()
        stable = torch.sort(torch.tensor(s), descending=True, stable=True).indices[:100]
        assert np.array_equal(top_k(s, 100), stable.numpy())  # same order as a stable sort
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]
