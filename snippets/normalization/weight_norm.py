r"""Weight normalization: a weight tensor written as a length times a direction.

Reference: Salimans and Kingma, "Weight Normalization: A Simple Reparameterization to
Accelerate Training of Deep Neural Networks", NeurIPS 2016. Checked against
`torch.nn.utils.parametrizations.weight_norm`.
"""

# --8<-- [start:impl]
# --8<-- [start:weight_norm]
import numpy as np


def norm_axes(ndim, dim):
    """The axes the norm runs over: all but `dim`; all of them for dim None (or -1)."""
    # torch turns None into -1 and reads -1 as "the whole tensor", not "the last axis"
    if dim is None or dim == -1:
        return tuple(range(ndim))
    if not -ndim <= dim < ndim:
        raise ValueError(f"dim {dim} is out of range for a {ndim}-d weight")
    return tuple(a for a in range(ndim) if a != dim % ndim)


def weight_norm(g, v, dim=0):
    r"""The weight $w = g\, v / \lVert v \rVert$, the norm taken over every axis but `dim`.

    $$w = g \frac{v}{\lVert v \rVert}$$

    Args:
        g: lengths, shape of `v` with 1 on every axis but `dim` (0-d when `dim` is None).
        v: direction parameter of any shape, e.g. (out, in) or (out, in, kh, kw).
        dim: the axis that keeps one length per slice; None (or -1) for one length.

    Returns:
        The weight, with the shape of `v`. A slice of `v` that is all zero gives NaN.
    """
    v = np.asarray(v)
    norm = np.sqrt(np.sum(v * v, axis=norm_axes(v.ndim, dim), keepdims=True))  # like g
    return g * (v / norm)
# --8<-- [end:weight_norm]


# --8<-- [start:weight_norm_init]
def weight_norm_init(w, dim=0):
    r"""The (g, v) that reproduce a given weight: $g = \lVert w \rVert$, $v = w$.

    Args:
        w: the weight to start from.
        dim: as in `weight_norm`.

    Returns:
        `(g, v)`, with `weight_norm(g, v, dim)` equal to `w` up to rounding.
    """
    w = np.asarray(w)
    g = np.sqrt(np.sum(w * w, axis=norm_axes(w.ndim, dim), keepdims=True))
    if dim is None or dim == -1:
        g = g.reshape(())  # one length for the whole tensor, a 0-d array as in torch
    return g, w.copy()
# --8<-- [end:weight_norm_init]


# --8<-- [start:weight_norm_grad]
def weight_norm_grad(g, v, grad_w, dim=0):
    r"""Gradients of a loss with respect to g and v, given its gradient G for w.

    $$\frac{\partial L}{\partial g} = \sum G \odot u, \qquad
    \frac{\partial L}{\partial v} = \frac{g}{\lVert v \rVert}
    \Big(G - u \sum G \odot u\Big), \qquad u = \frac{v}{\lVert v \rVert}$$

    Args:
        g: lengths, as in `weight_norm`.
        v: direction parameter, as in `weight_norm`.
        grad_w: $G = \partial L / \partial w$, shape of `v`.
        dim: as in `weight_norm`.

    Returns:
        `(grad_g, grad_v)` with the shapes of `g` and `v`.
    """
    v, grad_w = np.asarray(v), np.asarray(grad_w)
    axes = norm_axes(v.ndim, dim)
    norm = np.sqrt(np.sum(v * v, axis=axes, keepdims=True))
    u = v / norm  # unit direction, per slice
    along = np.sum(grad_w * u, axis=axes, keepdims=True)  # G . u, per slice
    grad_g = along.reshape(np.shape(g))
    grad_v = (g / norm) * (grad_w - u * along)  # G with its part along u removed
    return grad_g, grad_v
# --8<-- [end:weight_norm_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn.utils.parametrizations import weight_norm as torch_weight_norm

    rng = np.random.default_rng(0)
    v = np.array([[3.0, 4.0], [1.0, -1.0]])
    g = np.array([[2.0], [0.5]])  # one length per output row (dim=0)
    print("w =", weight_norm(g, v).tolist())
    print("row norms of w:", np.linalg.norm(weight_norm(g, v), axis=1))

    print("checked against torch.nn.utils.parametrizations.weight_norm")
    for dtype in (torch.float64, torch.float32):
        value_err = grad_err = 0.0
        torch.manual_seed(0)
        for make, dim in [(lambda: torch.nn.Linear(3, 4), 0),
                          (lambda: torch.nn.Conv2d(2, 5, 3), 0),
                          (lambda: torch.nn.Conv2d(2, 5, 3), 1),
                          (lambda: torch.nn.Conv2d(2, 5, 3), None)]:
            module = torch_weight_norm(make().to(dtype), dim=dim)
            g_t = module.parametrizations.weight.original0  # the length g
            v_t = module.parametrizations.weight.original1  # the direction v
            G = rng.normal(size=tuple(v_t.shape))  # the loss sum(w * G) has dL/dw = G
            (module.weight * torch.tensor(G, dtype=dtype)).sum().backward()
            g, v = g_t.detach().numpy(), v_t.detach().numpy()
            grad_g, grad_v = weight_norm_grad(g, v, G.astype(g.dtype), dim=dim)
            w_t = module.weight.detach().numpy()
            value_err = max(value_err, np.abs(weight_norm(g, v, dim) - w_t).max())
            grad_err = max(grad_err, np.abs(grad_g - g_t.grad.numpy()).max(),
                           np.abs(grad_v - v_t.grad.numpy()).max())
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:properties]
    v = rng.normal(size=(4, 3))
    g, v = weight_norm_init(v)
    G = rng.normal(size=v.shape)
    _, grad_v = weight_norm_grad(g, v, G)
    print("w unchanged when v is scaled by 10:",
          np.allclose(weight_norm(g, 10 * v), weight_norm(g, v)))
    print("max |v . dL/dv| per row:", f"{np.abs(np.sum(v * grad_v, axis=1)).max():.1e}")
    grow = np.linalg.norm(v - 0.1 * grad_v, axis=1) / np.linalg.norm(v, axis=1)
    print("row norms of v after one SGD step (lr 0.1), relative:", np.round(grow, 4))
    # --8<-- [end:properties]
