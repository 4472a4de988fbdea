r"""L1, L2 and L0 penalties on weights, their gradients, and the proximal step of L1.

References: Tibshirani, "Regression Shrinkage and Selection via the Lasso", 1996; Hoerl and
Kennard, "Ridge Regression", 1970. Checked against the autograd gradients of
`torch.linalg.vector_norm` and against `torch.nn.functional.softshrink`.
"""

# --8<-- [start:impl]
# --8<-- [start:l1]
import numpy as np


def l1_penalty(w, lam):
    r"""L1 penalty $\lambda \lVert w\rVert_1 = \lambda \sum_j |w_j|$ over all elements.

    Args:
        w: float array of any shape.
        lam: the strength $\lambda$.

    Returns:
        A 0-d array of the dtype of `w`.
    """
    w = np.asarray(w)
    return lam * np.abs(w).sum(dtype=w.dtype)


def l1_grad(w, lam):
    r"""Gradient of the L1 penalty as autograd gives it, $\lambda\,\mathrm{sign}(w)$.

    $|w|$ has no derivative at 0; like torch, this returns 0 there (and at a NaN).

    Args:
        w: float array of any shape.
        lam: the strength $\lambda$.

    Returns:
        An array with the shape and dtype of `w`.
    """
    w = np.asarray(w)
    sign = np.where(w > 0, 1, np.where(w < 0, -1, 0)).astype(w.dtype)  # 0 at 0 and NaN
    return lam * sign
# --8<-- [end:l1]


# --8<-- [start:l2]
def l2_penalty(w, lam):
    r"""L2 penalty $\frac{\lambda}{2} \lVert w\rVert_2^2$, over all elements.

    Args:
        w: float array of any shape.
        lam: the strength $\lambda$.

    Returns:
        A 0-d array of the dtype of `w`.
    """
    w = np.asarray(w)
    return lam / 2 * (w * w).sum(dtype=w.dtype)


def l2_grad(w, lam):
    r"""Gradient of the L2 penalty: $\lambda w$.

    Args:
        w: float array of any shape.
        lam: the strength $\lambda$.

    Returns:
        An array with the shape and dtype of `w`.
    """
    w = np.asarray(w)
    return (lam * w).astype(w.dtype)
# --8<-- [end:l2]


# --8<-- [start:l0]
def l0_norm(w):
    r"""The "L0 norm" $\lVert w\rVert_0$: how many elements are not zero.

    Its gradient is 0 wherever it exists (everywhere but at the zeros, where it jumps).

    Args:
        w: float array of any shape; NaN counts as non-zero.

    Returns:
        A 0-d array of the dtype of `w`, as `torch.linalg.vector_norm(w, ord=0)`.
    """
    w = np.asarray(w)
    return np.asarray(np.count_nonzero(w), dtype=w.dtype)
# --8<-- [end:l0]


# --8<-- [start:soft_threshold]
def soft_threshold(w, t):
    r"""Soft thresholding, the proximal step of $t\,|w|$: shrink by $t$, stop at 0.

    $$\mathrm{prox}(w) = \arg\min_z \tfrac12 (z - w)^2 + t|z|
    = \mathrm{sign}(w)\max(|w| - t, 0)$$

    Args:
        w: float array of any shape.
        t: the threshold, finite and $t \ge 0$.

    Returns:
        An array with the shape and dtype of `w`, as `torch.nn.functional.softshrink`.

    Raises:
        ValueError: for $t < 0$, $t = \infty$ or NaN (torch refuses them too).
    """
    if not 0 <= t < np.inf:
        raise ValueError(f"the threshold t must be finite and >= 0, got {t}")
    w = np.asarray(w)
    return (np.sign(w) * np.maximum(np.abs(w) - t, 0)).astype(w.dtype)


def soft_threshold_grad(w, t):
    r"""Derivative of `soft_threshold` in $w$: 1 where $|w| > t$ (and at NaN), else 0.

    Args:
        w: float array of any shape.
        t: the threshold, $t \ge 0$.

    Returns:
        An array with the shape and dtype of `w`.
    """
    w = np.asarray(w)
    return (~(np.abs(w) <= t)).astype(w.dtype)
# --8<-- [end:soft_threshold]
# --8<-- [end:impl]


# --8<-- [start:mse_grad]
def mse_grad(w, X, y):
    r"""Gradient of the least-squares loss $f(w) = \frac{1}{2n}\lVert Xw - y\rVert^2$.

    Args:
        w: weights, shape (d,).
        X: inputs, shape (n, d).
        y: targets, shape (n,).

    Returns:
        $X^\top (Xw - y) / n$, shape (d,).
    """
    return X.T @ (X @ w - y) / len(y)
# --8<-- [end:mse_grad]


# --8<-- [start:steps]
def l2_step(w, g, lr, lam):
    """A gradient step on the loss plus the L2 penalty."""
    return w - lr * (g + l2_grad(w, lam))


def subgradient_step(w, g, lr, lam):
    """A (sub)gradient step on the loss plus the L1 penalty, sign(0) = 0 as in torch."""
    return w - lr * (g + l1_grad(w, lam))


def proximal_step(w, g, lr, lam):
    """A gradient step on the loss alone, then soft thresholding by lr * lam (ISTA)."""
    return soft_threshold(w - lr * g, lr * lam)
# --8<-- [end:steps]


# --8<-- [start:fit]
def fit(X, y, step, lam, lr, steps=2000):
    r"""Train a linear model from $w = 0$ with one of the step functions above.

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        step: `l2_step`, `subgradient_step` or `proximal_step`.
        lam: the penalty's strength $\lambda$.
        lr: the learning rate $\eta$.
        steps: how many full-batch steps.

    Returns:
        The weights, shape (d,).
    """
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        w = step(w, mse_grad(w, X, y), lr, lam)
    return w
# --8<-- [end:fit]


# --8<-- [start:data]
def sparse_regression(n=50, d=10, seed=0):
    r"""A seeded regression problem whose true weights have 3 non-zeros out of `d`.

    Args:
        n: number of samples.
        d: number of features.
        seed: the random seed.

    Returns:
        `(X, y, w_true)` with $y = X w_{\text{true}} + 0.5\,\text{noise}$.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w_true = np.zeros(d)
    w_true[:3] = [3.0, -2.0, 1.5]
    y = X @ w_true + 0.5 * rng.normal(size=n)
    return X, y, w_true
# --8<-- [end:data]


if __name__ == "__main__":
    # --8<-- [start:example]
    w = np.array([-1.5, 0.0, 0.2, 2.0])
    print("w               ", w)
    print("L1 penalty (λ=1)", l1_penalty(w, 1.0), " gradient", l1_grad(w, 1.0))
    print("L2 penalty (λ=1)", l2_penalty(w, 1.0), "gradient", l2_grad(w, 1.0))
    print("L0 norm         ", l0_norm(w))
    print("soft_threshold(w, 0.5)", soft_threshold(w, 0.5))
    # --8<-- [end:example]

    # --8<-- [start:demo]
    X, y, w_true = sparse_regression()
    lr = 1 / np.linalg.eigvalsh(X.T @ X / len(y)).max()  # 1 / Lipschitz constant of f
    lam = 0.1
    runs = {"L2, gradient steps": l2_step, "L1, subgradient steps": subgradient_step,
            "L1, proximal steps": proximal_step}
    print("true weights         ", w_true)
    for name, step in runs.items():
        w = fit(X, y, step, lam, lr)
        print(f"{name:<21} exact zeros {np.sum(w == 0):>2} of {w.size};",
              f"smallest |w_j| {np.abs(w).min():.1e}")
        print("   ", np.array2string(w, precision=3, suppress_small=False))
    # --8<-- [end:demo]

    # --8<-- [start:check]
    import torch

    def torch_value_grad(fn, x):
        xt = torch.tensor(x, requires_grad=True)
        y = fn(xt)
        (g,) = torch.autograd.grad(y.sum(), xt, materialize_grads=True)
        return y.detach().numpy(), g.numpy()

    lam = 0.3
    references = {
        "torch.linalg.vector_norm(ord=1), times λ": (
            lambda x: lam * torch.linalg.vector_norm(x, ord=1),
            lambda x: l1_penalty(x, lam), lambda x: l1_grad(x, lam)),
        "torch.linalg.vector_norm(ord=2) squared, times λ/2": (
            lambda x: lam / 2 * torch.linalg.vector_norm(x) ** 2,
            lambda x: l2_penalty(x, lam), lambda x: l2_grad(x, lam)),
        "torch.linalg.vector_norm(ord=0)": (
            lambda x: torch.linalg.vector_norm(x, ord=0), l0_norm, np.zeros_like),
        "torch.nn.functional.softshrink": (
            lambda x: torch.nn.functional.softshrink(x, lam),
            lambda x: soft_threshold(x, lam), lambda x: soft_threshold_grad(x, lam)),
    }
    for ref, (fn, ours, ours_grad) in references.items():
        print(f"checked against {ref}")
        for dtype in (np.float64, np.float32):
            x = np.random.default_rng(0).normal(size=(40, 25)).astype(dtype)
            x[0, :3] = [0.0, -0.0, lam]  # the kink of |w| and the threshold
            value, grad = torch_value_grad(fn, x)
            err_v = np.abs(ours(x) - value).max()
            err_g = np.abs(ours_grad(x) - grad).max()
            name = np.dtype(dtype).name
            print(f"{name}: max |ours - torch| value {err_v:.1e}, grad {err_g:.1e}")
    # --8<-- [end:check]
