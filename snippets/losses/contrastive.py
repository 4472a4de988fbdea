r"""Contrastive losses: the margin loss on pairs, and InfoNCE / CLIP / NT-Xent on batches.

References: R. Hadsell, S. Chopra and Y. LeCun, "Dimensionality Reduction by Learning an
Invariant Mapping", CVPR 2006; A. van den Oord, Y. Li and O. Vinyals, "Representation
Learning with Contrastive Predictive Coding", 2018 (InfoNCE); T. Chen et al., "A Simple
Framework for Contrastive Learning of Visual Representations", ICML 2020 (NT-Xent);
A. Radford et al., "Learning Transferable Visual Models From Natural Language
Supervision", ICML 2021 (CLIP). torch has no built-in for either: the pair loss is checked
against its formula written in torch on `torch.nn.functional.pairwise_distance` (same
`eps`), the batch losses against `torch.nn.functional.cross_entropy` on the same logits.
"""

# --8<-- [start:impl]
# --8<-- [start:reduce]
import numpy as np


def _reduce(loss, reduction):
    """Apply torch's `reduction` to per-pair losses (mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else loss.dtype.type(np.nan)
    raise ValueError(f"unknown reduction {reduction!r}")


def _scale(n, reduction):
    """d(reduced loss) / d(per-pair loss) for n pairs: 1/n for "mean", else 1."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0
# --8<-- [end:reduce]


# --8<-- [start:distance]
def _distance(x1, x2, eps):
    r"""As torch's `pairwise_distance`: $u = x_1 - x_2 + \epsilon$ and its 2-norm."""
    if x1.ndim == 0:
        raise ValueError("embeddings need a feature axis: shape (d,) or (N, d)")
    u = x1 - x2 + eps  # (N, d); torch adds eps to every component
    return u, np.sqrt((u * u).sum(axis=-1))  # (N, d), (N,)
# --8<-- [end:distance]


# --8<-- [start:pair]
def contrastive_loss(input1, input2, target, margin=1.0, eps=1e-6, reduction="mean"):
    r"""Contrastive loss of Hadsell, Chopra and LeCun (2006) on pairs of embeddings.

    $$\ell = y\,\tfrac{1}{2} D^2 + (1 - y)\,\tfrac{1}{2} \max(0,\ m - D)^2,
    \qquad D = \lVert x_1 - x_2 + \epsilon \rVert_2$$

    Similar pairs ($y = 1$) are pulled together; dissimilar pairs ($y = 0$) are pushed
    apart until they are at least $m$ apart. The paper writes $Y = 1 - y$.

    Args:
        input1: embeddings $x_1$, shape (N, d) or (d,); 0-d raises ValueError.
        input2: embeddings $x_2$, same shape.
        target: $y$, 1 for a similar pair and 0 for a dissimilar one, shape (N,) or ().
        margin: $m > 0$ (otherwise ValueError). Default 1.
        eps: added to the difference before the norm, as in torch. Default 1e-6.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or shape (N,) / () for "none".
    """
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    _, D = _distance(x1, x2, eps)
    loss = 0.5 * y * D**2 + 0.5 * (1 - y) * np.maximum(margin - D, 0) ** 2
    return _reduce(loss, reduction)
# --8<-- [end:pair]


# --8<-- [start:pair-grad]
def contrastive_loss_grad(input1, input2, target, margin=1.0, eps=1e-6,
                          reduction="mean"):
    r"""Gradients of `contrastive_loss` w.r.t. `input1` and `input2`.

    For reduction "none", the gradients of the sum of the per-pair losses.

    With $u = x_1 - x_2 + \epsilon$ and $D = \lVert u \rVert$:

    $$\frac{\partial \ell}{\partial x_1} = y\,u - (1 - y)\max(0,\ m - D)\,\frac{u}{D}
    = -\frac{\partial \ell}{\partial x_2}$$

    The similar-pair term needs no division; for $D = 0$ the direction $u / D$ is taken
    as 0, as torch's norm does. NaN inputs give NaN gradients.

    Returns:
        A pair of arrays shaped like the inputs.
    """
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)[..., None]  # (N, 1)
    u, D = _distance(x1, x2, eps)
    D = D[..., None]  # (N, 1)
    unit = np.divide(u, D, out=np.zeros_like(u), where=D != 0)  # u / D, 0 where D = 0
    g1 = y * u - (1 - y) * np.maximum(margin - D, 0) * unit  # (N, d)
    g1 = g1 * _scale(D.size, reduction)
    return g1.astype(x1.dtype), (-g1).astype(x1.dtype)
# --8<-- [end:pair-grad]


# --8<-- [start:normalize]
def normalize(z, eps=1e-12):
    """Rows scaled to unit length, as torch's F.normalize: z / max(|z|, eps)."""
    return z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), eps)
# --8<-- [end:normalize]


# --8<-- [start:normalize-grad]
def normalize_grad(z, grad_u, eps=1e-12):
    r"""Back-propagate `grad_u`, a gradient w.r.t. `normalize(z)`, to `z`.

    $$\frac{\partial L}{\partial z}
    = \frac{g - \hat z\,(\hat z \cdot g)}{\lVert z \rVert},
    \qquad \hat z = \frac{z}{\lVert z \rVert}$$

    (only the part of $g$ orthogonal to $\hat z$ survives); where
    $\lVert z \rVert < \epsilon$ the norm is the constant $\epsilon$ and the gradient is
    $g / \epsilon$, as in torch.
    """
    n = np.linalg.norm(z, axis=-1, keepdims=True)  # (N, 1)
    u = z / np.maximum(n, eps)
    tangent = grad_u - u * (u * grad_u).sum(axis=-1, keepdims=True)
    return np.where(n >= eps, tangent / np.maximum(n, eps), grad_u / eps)
# --8<-- [end:normalize-grad]


# --8<-- [start:xent]
def softmax_xent(logits, target):
    r"""Cross-entropy of each row of `logits` against a target column, and its gradient.

    $$\ell_i = -\log \frac{e^{S_{i t_i}}}{\sum_j e^{S_{ij}}},
    \qquad \frac{\partial \ell_i}{\partial S_{ij}} = P_{ij} - [j = t_i]$$

    The target entry $P_{it} - 1$ is computed as minus the sum of the other
    probabilities, which keeps its relative accuracy when $P_{it}$ is close to 1.
    Entries of $-\infty$ (masked out) get probability 0.

    Returns:
        The losses (N,) and the gradient (N, M).
    """
    hit = np.arange(logits.shape[1]) == target[:, None]  # (N, M): the target entries
    shifted = logits - logits.max(axis=1, keepdims=True, initial=-np.inf)  # max is 0
    e = np.exp(shifted)  # (N, M)
    others = np.where(hit, 0, e).sum(axis=1, keepdims=True)  # (N, 1)
    total = others + np.where(hit, e, 0).sum(axis=1, keepdims=True)  # (N, 1)
    loss = np.log(total[:, 0]) - shifted[hit]
    return loss, np.where(hit, -others, e) / total  # P - onehot
# --8<-- [end:xent]


# --8<-- [start:logits]
def cosine_logits(z1, z2, temperature):
    r"""The (N, N) matrix $S_{ij} = \cos(z_{1i}, z_{2j}) / \tau$, and the unit rows."""
    z1, z2 = np.asarray(z1), np.asarray(z2)
    if z1.ndim != 2 or z1.shape != z2.shape:
        shapes = f"{z1.shape} and {z2.shape}"
        raise ValueError(f"embeddings must have one shape (N, d), got {shapes}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    u1, u2 = normalize(z1), normalize(z2)
    return u1 @ u2.T / temperature, u1, u2
# --8<-- [end:logits]


# --8<-- [start:infonce]
def info_nce_loss(z1, z2, temperature=0.1, symmetric=False, reduction="mean"):
    r"""InfoNCE with in-batch negatives; `symmetric=True` is CLIP's loss.

    Row $i$ of `z2` is the positive of row $i$ of `z1`; every other row is a negative.

    $$\ell_i = -\log \frac{e^{S_{ii}}}{\sum_j e^{S_{ij}}},\qquad
    S_{ij} = \frac{\cos(z_{1i}, z_{2j})}{\tau}$$

    With `symmetric=True`, $\ell_i$ is the mean of that row loss and the same loss on
    the column $i$ of $S$ (matching $z_{2i}$ against every $z_{1j}$).

    Args:
        z1: embeddings, shape (N, d), e.g. images.
        z2: embeddings of the positives, shape (N, d), e.g. their captions.
        temperature: $\tau > 0$. Default 0.1.
        symmetric: average both directions, as CLIP. Default False.
        reduction: "mean", "sum" or "none" over the N pairs.

    Returns:
        A scalar, or shape (N,) for "none".
    """
    S, _, _ = cosine_logits(z1, z2, temperature)  # (N, N)
    target = np.arange(len(S))
    loss, _ = softmax_xent(S, target)
    if symmetric:
        loss = (loss + softmax_xent(S.T, target)[0]) / 2
    return _reduce(loss, reduction)
# --8<-- [end:infonce]


# --8<-- [start:infonce-grad]
def info_nce_loss_grad(z1, z2, temperature=0.1, symmetric=False, reduction="mean"):
    r"""Gradients of `info_nce_loss` w.r.t. `z1` and `z2`.

    With $G = \partial L / \partial S$ and the unit rows $\hat Z_1, \hat Z_2$:
    $\partial L / \partial \hat Z_1 = G\,\hat Z_2 / \tau$ and
    $\partial L / \partial \hat Z_2 = G^\top \hat Z_1 / \tau$, then through the
    normalisation.

    Returns:
        A pair of arrays shaped like `z1` and `z2`.
    """
    S, u1, u2 = cosine_logits(z1, z2, temperature)
    target = np.arange(len(S))
    _, G = softmax_xent(S, target)  # (N, N)
    if symmetric:
        G = (G + softmax_xent(S.T, target)[1].T) / 2
    G = G * _scale(len(S), reduction)
    g1 = normalize_grad(np.asarray(z1), G @ u2 / temperature)
    g2 = normalize_grad(np.asarray(z2), G.T @ u1 / temperature)
    return g1.astype(u1.dtype), g2.astype(u2.dtype)
# --8<-- [end:infonce-grad]


# --8<-- [start:ntxent-logits]
def _nt_xent_logits(z1, z2, temperature):
    """Logits of all 2N views with the diagonal masked out, and each view's partner."""
    z = np.concatenate([np.asarray(z1), np.asarray(z2)])  # (2N, d): both views
    S, u, _ = cosine_logits(z, z, temperature)  # (2N, 2N)
    np.fill_diagonal(S, -np.inf)  # a view is never its own candidate
    n = len(z1)
    return S, u, np.concatenate([np.arange(n, 2 * n), np.arange(n)])
# --8<-- [end:ntxent-logits]


# --8<-- [start:ntxent]
def nt_xent_loss(z1, z2, temperature=0.5, reduction="mean"):
    r"""NT-Xent (SimCLR): InfoNCE over the 2N views, each view against the other 2N - 1.

    Returns:
        A scalar, or shape (2N,) for "none" (the N views of `z1`, then those of `z2`).
    """
    S, _, partner = _nt_xent_logits(z1, z2, temperature)
    return _reduce(softmax_xent(S, partner)[0], reduction)
# --8<-- [end:ntxent]


# --8<-- [start:ntxent-grad]
def nt_xent_loss_grad(z1, z2, temperature=0.5, reduction="mean"):
    r"""Gradients of `nt_xent_loss` w.r.t. `z1` and `z2`.

    $S = \hat Z \hat Z^\top / \tau$ uses the unit rows $\hat Z$ twice, so
    $\partial L / \partial \hat Z = (G + G^\top)\,\hat Z / \tau$.

    Returns:
        A pair of arrays shaped like `z1` and `z2`.
    """
    S, u, partner = _nt_xent_logits(z1, z2, temperature)
    G = softmax_xent(S, partner)[1] * _scale(len(S), reduction)  # (2N, 2N)
    z = np.concatenate([np.asarray(z1), np.asarray(z2)])
    g = normalize_grad(z, (G + G.T) @ u / temperature).astype(u.dtype)
    return g[: len(z1)], g[len(z1) :]
# --8<-- [end:ntxent-grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    a = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    b = np.array([[0.3, 0.4], [0.3, 0.4], [3.0, 4.0]])  # distances 0.5, 0.5, 5
    y = np.array([1.0, 0.0, 0.0])  # similar, dissimilar (too close), dissimilar (far)
    print("per pair:", contrastive_loss(a, b, y, margin=1.0, reduction="none"))

    def reference(t1, t2, t, margin):  # the formula, on torch's distance
        d = functional.pairwise_distance(t1, t2)  # p=2, eps=1e-6
        return (0.5 * t * d**2 + 0.5 * (1 - t) * torch.relu(margin - d) ** 2).mean()

    print("checked against the formula in torch on "
          "torch.nn.functional.pairwise_distance")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x1, x2 = (rng.normal(size=(2, 100, 8)) * 0.3).astype(dtype)
        t = (rng.random(100) < 0.5).astype(dtype)
        t1 = torch.tensor(x1, requires_grad=True)
        t2 = torch.tensor(x2, requires_grad=True)
        ref = reference(t1, t2, torch.tensor(t), margin=2.0)
        ref.backward()
        g1, g2 = contrastive_loss_grad(x1, x2, t, margin=2.0)
        v_err = abs(contrastive_loss(x1, x2, t, margin=2.0) - ref.item())
        g_err = max(np.abs(g1 - t1.grad.numpy()).max(),
                    np.abs(g2 - t2.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - reference| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:check-infonce]
    z_img = np.array([[1.0, 0.1], [0.0, 1.0], [-1.0, 0.2]])
    z_txt = np.array([[0.9, 0.0], [0.2, 1.0], [-1.0, -0.1]])  # row i matches row i
    for tau in (0.1, 1.0):
        per_pair = info_nce_loss(z_img, z_txt, tau, reduction="none")
        print(f"InfoNCE per pair, tau = {tau}:", per_pair.round(4))

    def torch_losses(t1, t2, tau):  # cross_entropy on the same cosine logits
        logits = functional.normalize(t1) @ functional.normalize(t2).T / tau
        target = torch.arange(len(t1))
        ce = functional.cross_entropy
        z = torch.cat([t1, t2])  # NT-Xent: 2N views, the diagonal masked out
        s = functional.normalize(z) @ functional.normalize(z).T / tau
        s = s.masked_fill(torch.eye(len(z), dtype=torch.bool), float("-inf"))
        partner = torch.cat([target + len(t1), target])
        return (ce(logits, target), (ce(logits, target) + ce(logits.T, target)) / 2,
                ce(s, partner))

    print("checked against torch.nn.functional.cross_entropy on the cosine logits "
          "(InfoNCE, CLIP, NT-Xent)")
    for dtype in (np.float64, np.float32):
        z1, z2 = rng.normal(size=(2, 32, 16)).astype(dtype)
        ours = (
            (info_nce_loss(z1, z2, 0.07), info_nce_loss_grad(z1, z2, 0.07)),
            (info_nce_loss(z1, z2, 0.07, symmetric=True),
             info_nce_loss_grad(z1, z2, 0.07, symmetric=True)),
            (nt_xent_loss(z1, z2, 0.07), nt_xent_loss_grad(z1, z2, 0.07)),
        )
        v_err = g_err = 0.0
        for k, (value, grads) in enumerate(ours):
            t1 = torch.tensor(z1, requires_grad=True)
            t2 = torch.tensor(z2, requires_grad=True)
            ref = torch_losses(t1, t2, 0.07)[k]
            ref.backward()
            v_err = max(v_err, abs(value - ref.item()))
            g_err = max(g_err, np.abs(grads[0] - t1.grad.numpy()).max(),
                        np.abs(grads[1] - t2.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-infonce]
