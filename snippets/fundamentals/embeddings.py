r"""Embeddings: a one-hot vector times a weight matrix is a row lookup, with the gradient of
`torch.nn.Embedding`; and a tiny example in which learned embeddings of words used alike end up
close in cosine similarity.

Reference: `torch.nn.Embedding` / `torch.nn.functional.embedding`, checked with
`torch.nn.functional.one_hot`.
"""

# --8<-- [start:impl]
# --8<-- [start:one_hot]
import numpy as np


def one_hot(idx, num_classes, dtype=np.float64):
    r"""One-hot encoding: row $i$ of the identity matrix for each index $i$.

    $$e_i \in \{0, 1\}^V, \qquad (e_i)_j = [j = i]$$

    Args:
        idx: integer array of any shape, values in $[0, V)$.
        num_classes: $V$, the size of the vocabulary.
        dtype: float dtype of the result.

    Returns:
        An array of shape `idx.shape + (V,)`.
    """
    idx = np.asarray(idx)
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"indices must lie in [0, {num_classes})")
    return (idx[..., None] == np.arange(num_classes)).astype(dtype)  # (..., V)
# --8<-- [end:one_hot]


# --8<-- [start:embed]
def embed(idx, W):
    r"""Embedding lookup written as a product: $\mathrm{onehot}(i)\,W = W_{i,:}$.

    $$E = \mathrm{onehot}(\text{idx})\, W$$

    Args:
        idx: integer array of any shape, values in $[0, V)$.
        W: (V, D) weight matrix, one row per vocabulary entry.

    Returns:
        An array of shape `idx.shape + (D,)`, the dtype of `W`.
    """
    return one_hot(idx, W.shape[0], W.dtype) @ W  # (..., V) @ (V, D) -> (..., D)
# --8<-- [end:embed]


# --8<-- [start:embed_grad]
def embed_grad(idx, W, upstream, padding_idx=None):
    r"""Gradient of a loss with respect to $W$, given the gradient $G$ at the output.

    $$\frac{\partial L}{\partial W} = \mathrm{onehot}(\text{idx})^\top G$$

    Row $v$ is the sum of the upstream gradients of every position holding index $v$:
    zero for unused rows, accumulated for repeated ones. The row `padding_idx` gets none.

    Args:
        idx: integer array of any shape.
        W: (V, D) weight matrix.
        upstream: $G$, gradient at the output, shape `idx.shape + (D,)`.
        padding_idx: optional index whose row receives no gradient, as in torch.

    Returns:
        A (V, D) array, the dtype of `W`.
    """
    V, D = W.shape
    E = one_hot(idx, V, W.dtype).reshape(-1, V)  # (N, V)
    grad = E.T @ np.asarray(upstream, W.dtype).reshape(-1, D)  # (V, D)
    if padding_idx is not None:
        grad[padding_idx] = 0  # torch never updates the padding row
    return grad
# --8<-- [end:embed_grad]
# --8<-- [end:impl]


# --8<-- [start:learn]
def learn_embeddings(pairs, vocab_size, dim=4, steps=300, seed=0):
    r"""Train embeddings by predicting, from each word, a word that follows it.

    A minimal skip-gram-like model: logits $= W_{\text{out}}\, e_{w}$, cross-entropy against
    the next word. Words with the same successors get similar rows.

    Args:
        pairs: (N, 2) integer array of (word, next word) indices.
        vocab_size: $V$.
        dim: embedding width $D$.
        steps: full-batch Adam steps.
        seed: torch seed for the initial weights.

    Returns:
        The learned (V, D) embedding matrix as a NumPy array.
    """
    import torch

    torch.manual_seed(seed)
    emb = torch.nn.Embedding(vocab_size, dim)
    out = torch.nn.Linear(dim, vocab_size)
    opt = torch.optim.Adam([*emb.parameters(), *out.parameters()], lr=0.05)
    x, y = torch.as_tensor(pairs[:, 0]), torch.as_tensor(pairs[:, 1])
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(out(emb(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return emb.weight.detach().numpy()


def cosine(a, b):
    """Cosine similarity of two vectors."""
    return a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
# --8<-- [end:learn]


# --8<-- [start:corpus]
SENTENCES = ["cat eats fish", "dog eats meat", "cat drinks milk", "dog drinks water",
             "car needs fuel", "bus needs fuel", "car burns petrol", "bus burns diesel"]


def corpus_pairs():
    """The vocabulary of SENTENCES and every (word, next word) pair in them."""
    words = sorted({w for s in SENTENCES for w in s.split()})
    index = {w: i for i, w in enumerate(words)}
    pairs = [(index[a], index[b]) for s in SENTENCES
             for a, b in zip(s.split(), s.split()[1:], strict=False)]
    return words, index, np.array(pairs)
# --8<-- [end:corpus]


if __name__ == "__main__":
    # --8<-- [start:demo]
    W = np.arange(12.0).reshape(4, 3)  # V = 4 words, D = 3
    idx = np.array([2, 0, 2])
    print("one_hot(idx)\n", one_hot(idx, 4))
    print("one_hot(idx) @ W\n", embed(idx, W))
    print("W[idx]\n", W[idx])
    print("gradient of sum(E) in W\n", embed_grad(idx, W, np.ones((3, 3))))
    # --8<-- [end:demo]

    # --8<-- [start:similarity]
    words, index, pairs = corpus_pairs()  # ("cat", "eats"), ("eats", "fish"), ...
    W = learn_embeddings(pairs, len(words))
    for a, b in [("cat", "dog"), ("car", "bus"), ("cat", "car"), ("dog", "bus")]:
        print(f"cos({a}, {b}) = {cosine(W[index[a]], W[index[b]]):+.2f}")
    # --8<-- [end:similarity]

    # --8<-- [start:check]
    import torch

    rng = np.random.default_rng(0)
    idx = rng.integers(0, 10, size=(4, 7))
    idx[0, :3] = 3  # a repeated index: its row's gradient accumulates
    idx[1, :2] = 0  # the padding index
    print("checked against torch.nn.functional.embedding (padding_idx=0)")
    for dtype in (np.float64, np.float32):
        W = rng.normal(size=(12, 5)).astype(dtype)  # rows 10 and 11 never used
        G = rng.normal(size=(4, 7, 5)).astype(dtype)
        Wt = torch.tensor(W, requires_grad=True)
        Et = torch.nn.functional.embedding(torch.tensor(idx), Wt, padding_idx=0)
        Et.backward(torch.tensor(G))
        value_err = np.abs(embed(idx, W) - Et.detach().numpy()).max()
        grad_err = np.abs(embed_grad(idx, W, G, padding_idx=0) - Wt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
