r"""Cycle-consistency loss of CycleGAN: a round trip should give back the input.

Reference: Zhu, Park, Isola and Efros, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", ICCV 2017 (https://arxiv.org/abs/1703.10593).
Checked against `torch.nn.functional.l1_loss` and autograd.
"""

# --8<-- [start:impl]
# --8<-- [start:l1]
import numpy as np


def _float(x):
    r"""`x` as a float array: integers (uint8 images) become float64, floats stay."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _l1(rec, target, reduction):
    r"""Torch's `l1_loss(rec, target, reduction)`; the mean of nothing is NaN."""
    rec, target = _float(rec), _float(target)  # uint8: 3 - 5 would wrap to 254
    if rec.shape != target.shape:
        raise ValueError(f"reconstruction shape {rec.shape} != {target.shape}")
    diff = np.abs(rec - target)
    if reduction == "none":
        return diff
    if reduction == "sum":
        return diff.sum()
    if reduction == "mean":
        return diff.mean() if diff.size else np.array(np.nan, dtype=diff.dtype)
    raise ValueError(f"unknown reduction {reduction!r}")
# --8<-- [end:l1]


# --8<-- [start:l1-grad]
def _l1_grad(rec, target, reduction, weight=1.0):
    r"""d (`weight` * `_l1`) / d `rec`: weight * sign(rec - target) / n for the mean.

    The sign is 0 at 0 and at NaN, as in torch's backward of `l1_loss`.
    """
    rec, target = _float(rec), _float(target)
    if rec.shape != target.shape:
        raise ValueError(f"reconstruction shape {rec.shape} != {target.shape}")
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"unknown reduction {reduction!r}")
    d = rec - target
    g = np.where(np.isnan(d), 0, np.sign(d)) * d.dtype.type(weight)
    return g / max(d.size, 1) if reduction == "mean" else g
# --8<-- [end:l1-grad]


# --8<-- [start:loss]
def cycle_consistency_loss(x, x_rec, y, y_rec, lambda_cyc=10.0, reduction="mean"):
    r"""L1 cycle-consistency loss for the two translation directions.

    $$\mathcal{L}_{\text{cyc}} = \lambda \big( \lVert F(G(x)) - x \rVert_1
    + \lVert G(F(y)) - y \rVert_1 \big)$$

    with $G: X \to Y$, $F: Y \to X$, $\hat{x} = F(G(x))$ and $\hat{y} = G(F(y))$.

    Args:
        x: samples from domain X, array of any shape (0-d and empty included);
            integer arrays such as uint8 images are converted to float64 first.
        x_rec: their reconstructions $F(G(x))$, shape of `x`.
        y: samples from domain Y, float array of any shape.
        y_rec: their reconstructions $G(F(y))$, shape of `y`.
        lambda_cyc: weight $\lambda \ge 0$ of the term (10 in the paper); negative
            values and NaN are refused.
        reduction: "mean" (each L1 term averaged over its elements, as `l1_loss`),
            "sum", or "none" (returns the two weighted elementwise maps as a tuple).

    Returns:
        A scalar, or for "none" the pair (λ|x_rec - x|, λ|y_rec - y|); the dtype of
        the inputs.
    """
    if not lambda_cyc >= 0:  # also refuses NaN
        raise ValueError(f"lambda_cyc must be >= 0, got {lambda_cyc}")
    fwd = _l1(x_rec, x, reduction)  # |F(G(x)) - x|
    bwd = _l1(y_rec, y, reduction)  # |G(F(y)) - y|
    lam_x = fwd.dtype.type(lambda_cyc)  # a float64 λ must not promote float32 maps
    lam_y = bwd.dtype.type(lambda_cyc)
    if reduction == "none":
        return lam_x * fwd, lam_y * bwd
    return lam_x * fwd + lam_y * bwd
# --8<-- [end:loss]


# --8<-- [start:grad]
def cycle_consistency_loss_grad(x, x_rec, y, y_rec, lambda_cyc=10.0, reduction="mean"):
    r"""Gradient of the cycle loss with respect to the two reconstructions.

    $$\frac{\partial \mathcal{L}}{\partial \hat{x}} = \frac{\lambda}{n_x}
    \operatorname{sign}(\hat{x} - x)$$

    with $n_x$ the number of elements of $x$ for "mean" and 1 otherwise ("none":
    gradient of the sum). At $\hat{x} = x$ the sign is 0, and where $\hat{x} - x$ is NaN
    the gradient is 0, as in torch's backward of `l1_loss`.

    Takes the arguments of `cycle_consistency_loss`.

    Returns:
        (d/dx_rec, d/dy_rec), shapes and dtypes of `x_rec` and `y_rec`.
    """
    if not lambda_cyc >= 0:
        raise ValueError(f"lambda_cyc must be >= 0, got {lambda_cyc}")
    gx = _l1_grad(x_rec, x, reduction, lambda_cyc)
    gy = _l1_grad(y_rec, y, reduction, lambda_cyc)
    return gx, gy
# --8<-- [end:grad]
# --8<-- [end:impl]


# --8<-- [start:linear]
def linear_cycle_loss(x, y, W_G, W_F, lambda_cyc=10.0, reduction="mean"):
    r"""Cycle loss with linear translators $G(x) = x W_G^\top$, $F(y) = y W_F^\top$.

    Args:
        x: samples from X, shape (N, D_x).
        y: samples from Y, shape (M, D_y).
        W_G: weights of G, shape (D_y, D_x).
        W_F: weights of F, shape (D_x, D_y).
        lambda_cyc: weight of the loss, as in `cycle_consistency_loss`.
        reduction: "mean" or "sum", as in `cycle_consistency_loss`.

    Returns:
        (loss, dW_G, dW_F): the loss and its gradients with respect to the weights.
    """
    h = x @ W_G.T      # (N, D_x) x (D_x, D_y) -> (N, D_y)   G(x)
    x_rec = h @ W_F.T  # (N, D_y) x (D_y, D_x) -> (N, D_x)   F(G(x))
    k = y @ W_F.T      # (M, D_y) x (D_y, D_x) -> (M, D_x)   F(y)
    y_rec = k @ W_G.T  # (M, D_x) x (D_x, D_y) -> (M, D_y)   G(F(y))
    loss = cycle_consistency_loss(x, x_rec, y, y_rec, lambda_cyc, reduction)
    gx, gy = cycle_consistency_loss_grad(x, x_rec, y, y_rec, lambda_cyc, reduction)
    # backpropagate through the two matrix products of each cycle
    dW_F = gx.T @ h + (gy @ W_G).T @ y  # (D_x, D_y)
    dW_G = gy.T @ k + (gx @ W_F).T @ x  # (D_y, D_x)
    return loss, dW_G, dW_F
# --8<-- [end:linear]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn.functional import l1_loss

    x = np.array([[1.0, -2.0]])  # one sample of X
    y = np.zeros((1, 2))  # one sample of Y: 0 maps to 0 and back, exactly
    W_G = np.array([[2.0, 0.0], [0.0, 2.0]])  # G doubles
    W_F = np.array([[0.5, 0.0], [0.0, 0.4]])  # F undoes it in the first coordinate only
    loss, grad_wg, grad_wf = linear_cycle_loss(x, y, W_G, W_F, lambda_cyc=1.0)
    print("x", x, " G(x)", x @ W_G.T, " F(G(x))", x @ W_G.T @ W_F.T)
    print("loss", round(float(loss), 12), " dL/dW_F", grad_wf.tolist())

    print("checked against torch.nn.functional.l1_loss (autograd through G and F)")
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = rng.normal(size=(8, 3)).astype(dtype)
        y = rng.normal(size=(5, 2)).astype(dtype)
        W_G = rng.normal(size=(2, 3)).astype(dtype)
        W_F = rng.normal(size=(3, 2)).astype(dtype)
        loss, grad_wg, grad_wf = linear_cycle_loss(x, y, W_G, W_F)

        xt, yt = torch.tensor(x), torch.tensor(y)
        Gt = torch.tensor(W_G, requires_grad=True)
        Ft = torch.tensor(W_F, requires_grad=True)
        ref = 10.0 * (l1_loss(xt @ Gt.T @ Ft.T, xt) + l1_loss(yt @ Ft.T @ Gt.T, yt))
        ref.backward()
        v_err = abs(float(loss) - ref.item())
        g_err = max(np.abs(grad_wg - Gt.grad.numpy()).max(),
                    np.abs(grad_wf - Ft.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
