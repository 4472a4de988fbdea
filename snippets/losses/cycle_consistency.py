r"""Cycle-consistency loss of CycleGAN: a round trip should give back the input.

Reference: Zhu, Park, Isola and Efros, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", ICCV 2017 (https://arxiv.org/abs/1703.10593).
Checked against `torch.nn.functional.l1_loss` and autograd.
"""

# --8<-- [start:impl]
import numpy as np


def _l1(rec, target, reduction):
    diff = np.abs(rec - target)
    if reduction == "none":
        return diff
    if reduction == "sum":
        return diff.sum()
    if reduction == "mean":
        return diff.mean()
    raise ValueError(f"unknown reduction {reduction!r}")


def cycle_consistency_loss(x, x_rec, y, y_rec, lambda_cyc=10.0, reduction="mean"):
    r"""L1 cycle-consistency loss for the two translation directions.

    $$\mathcal{L}_{\text{cyc}} = \lambda \big( \lVert F(G(x)) - x \rVert_1
    + \lVert G(F(y)) - y \rVert_1 \big)$$

    with $G: X \to Y$, $F: Y \to X$, $\hat{x} = F(G(x))$ and $\hat{y} = G(F(y))$.

    Args:
        x: samples from domain X, any shape.
        x_rec: their reconstructions $F(G(x))$, shape of `x`.
        y: samples from domain Y, any shape.
        y_rec: their reconstructions $G(F(y))$, shape of `y`.
        lambda_cyc: weight $\lambda$ of the term (10 in the paper).
        reduction: "mean" (each L1 term averaged over its elements, as `l1_loss`),
            "sum", or "none" (returns the two weighted elementwise maps as a tuple).

    Returns:
        A scalar, or for "none" the pair (λ|x_rec - x|, λ|y_rec - y|).
    """
    fwd = _l1(x_rec, x, reduction)
    bwd = _l1(y_rec, y, reduction)
    if reduction == "none":
        return lambda_cyc * fwd, lambda_cyc * bwd
    return lambda_cyc * (fwd + bwd)


def cycle_consistency_loss_grad(x, x_rec, y, y_rec, lambda_cyc=10.0, reduction="mean"):
    r"""Gradient of the cycle loss with respect to the two reconstructions.

    $$\frac{\partial \mathcal{L}}{\partial \hat{x}} = \frac{\lambda}{n_x}
    \operatorname{sign}(\hat{x} - x)$$

    with $n_x$ the number of elements of $x$ for "mean" and 1 otherwise ("none":
    gradient of the sum). At $\hat{x} = x$ the sign is 0, as in torch.

    Takes the arguments of `cycle_consistency_loss`.

    Returns:
        (d/dx_rec, d/dy_rec), shapes of `x` and `y`.
    """
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"unknown reduction {reduction!r}")
    gx = np.sign(x_rec - x) * np.asarray(lambda_cyc, dtype=x_rec.dtype)
    gy = np.sign(y_rec - y) * np.asarray(lambda_cyc, dtype=y_rec.dtype)
    if reduction == "mean":
        gx, gy = gx / max(gx.size, 1), gy / max(gy.size, 1)
    return gx, gy
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
        print(f"{name}: loss {float(loss):.4f}, "
              f"max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
