r"""Softmax and log-softmax along any `dim`, computed stably, with their backward pass.

Reference: J. S. Bridle, "Probabilistic Interpretation of Feedforward Classification
Network Outputs, with Relationships to Statistical Pattern Recognition", Neurocomputing,
1990. Checked against `torch.softmax` and `torch.log_softmax`.
"""

# --8<-- [start:impl]
# --8<-- [start:shift]
import numpy as np


def _shift(x, dim):
    r"""`x` minus its maximum along `dim`, so that the largest entry becomes exactly 0.

    Args:
        x: array with at least one dimension.
        dim: the dimension to take the maximum over.

    Returns:
        `x - max(x, dim)`, same shape and dtype. A slice holding a NaN, or $+\infty$,
        or only $-\infty$, becomes all NaN.
    """
    m = np.max(x, axis=dim, keepdims=True, initial=-np.inf)  # initial: empty dims work
    z = x - m
    no_max = np.isnan(z).any(axis=dim, keepdims=True)  # NaN, +inf, or only -inf
    return np.where(no_max, np.nan, z)  # the whole slice is NaN, as in torch
# --8<-- [end:shift]


# --8<-- [start:softmax]
def softmax(x, dim):
    r"""Softmax along `dim`: exponentiate, then normalise to sum to 1.

    $$\operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},
      \quad m = \max_j x_j$$

    Subtracting $m$ changes nothing mathematically but keeps every exponent $\le 0$, so
    nothing overflows; entries equal to $-\infty$ get probability 0.

    Args:
        x: float array of any shape; a 0-d array counts as one entry along dim 0.
        dim: the dimension that is normalised (negative values count from the end).

    Returns:
        An array with the shape and dtype of `x`; slices along `dim` sum to 1.
    """
    e = np.exp(_shift(np.asarray(x), dim))
    return e / e.sum(axis=dim, keepdims=True)
# --8<-- [end:softmax]


# --8<-- [start:log_softmax]
def log_softmax(x, dim):
    r"""Logarithm of softmax along `dim`, in one step (log-sum-exp).

    $$\log \operatorname{softmax}(x)_i = z_i - \log\Big(1 + \sum_{j \ne t} e^{z_j}\Big),
      \quad z = x - \max_j x_j,$$

    where $t$ is the (first) position of the maximum, whose term $e^{z_t} = 1$ is taken
    out of the sum so that `log1p` keeps the digits of a probability close to 1.

    Args:
        x: float array of any shape; a 0-d array counts as one entry along dim 0.
        dim: the dimension that is normalised.

    Returns:
        An array with the shape and dtype of `x`; finite wherever `x` is finite.
    """
    x = np.asarray(x)
    if x.size == 0:
        return x.copy()  # nothing to normalise (and the log of an empty sum is -inf)
    z = _shift(np.atleast_1d(x), dim)  # the largest entry is exactly 0
    e = np.exp(z)
    top = np.argmax(z, axis=dim, keepdims=True)  # where the largest entry is
    np.put_along_axis(e, top, 0, axis=dim)  # leave out its term, e^0 = 1
    return (z - np.log1p(e.sum(axis=dim, keepdims=True))).reshape(x.shape)
# --8<-- [end:log_softmax]


# --8<-- [start:log_softmax_grad]
def log_softmax_grad(x, grad_output, dim):
    r"""Vector-Jacobian product of log-softmax: the gradient with respect to `x`.

    With $y = \operatorname{softmax}(x)$ and upstream gradient $g$,
    $\partial \log y_i / \partial x_k = \delta_{ik} - y_k$, so

    $$\frac{\partial L}{\partial x_k} = g_k - y_k \sum_i g_i
      = (1 - y_k)\, g_k - y_k \sum_{i \ne k} g_i .$$

    The second form is evaluated: $1 - y_k$ comes from `expm1` of the log-probability,
    so it keeps its digits when $y_k$ is close to 1.

    Args:
        x: the input of log-softmax.
        grad_output: $g = \partial L / \partial \log y$, same shape as `x`.
        dim: the dimension log-softmax normalised.

    Returns:
        $\partial L / \partial x$, same shape and dtype as `x`.
    """
    log_y = log_softmax(x, dim)
    g = np.asarray(grad_output)
    others = g.sum(axis=dim, keepdims=True) - g  # sum over i != k: exact for one-hot g
    return -np.expm1(log_y) * g - np.exp(log_y) * others  # (1 - y_k) g_k - y_k (...)
# --8<-- [end:log_softmax_grad]


# --8<-- [start:softmax_grad]
def softmax_grad(x, grad_output, dim):
    r"""Vector-Jacobian product of softmax: the gradient with respect to `x`.

    With $y = \operatorname{softmax}(x)$ and upstream gradient $g$,
    $\partial y_i / \partial x_k = y_i(\delta_{ik} - y_k)$, so

    $$\frac{\partial L}{\partial x_k} = y_k \Big(g_k - \sum_i g_i y_i\Big),$$

    which is the log-softmax product applied to $g \odot y$, because
    $y = e^{\log y}$ and $\partial y_i / \partial \log y_i = y_i$.

    Args:
        x: the input of softmax.
        grad_output: $g = \partial L / \partial y$, same shape as `x`.
        dim: the dimension softmax normalised.

    Returns:
        $\partial L / \partial x$, same shape and dtype as `x`.
    """
    y = softmax(x, dim)
    return log_softmax_grad(x, grad_output * y, dim)  # chain rule through y = e^(log y)
# --8<-- [end:softmax_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    logits = np.array([[2.0, 1.0, 0.1],
                       [1e4, -1e4, 0.0],      # huge logits: no overflow
                       [0.0, -np.inf, 1.0]])  # a masked entry gets probability 0
    with np.printoptions(precision=4, suppress=True):  # readable, only in this block
        print("softmax(dim=1):\n", softmax(logits, dim=1))
        print("rows sum to", softmax(logits, dim=1).sum(axis=1))
        print("log_softmax(dim=1):\n", log_softmax(logits, dim=1))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch

    pairs = [(softmax, softmax_grad, torch.softmax),
             (log_softmax, log_softmax_grad, torch.log_softmax)]
    for ours, ours_grad, theirs in pairs:
        print(f"checked against torch.{theirs.__name__}")
        for dtype in (np.float64, np.float32):
            rng = np.random.default_rng(0)
            x = (rng.normal(size=(2, 3, 4)) * 5).astype(dtype)
            x[0, 0, :2] = [1e4, -1e4]  # extremes in one slice
            g = rng.normal(size=x.shape).astype(dtype)  # an upstream gradient
            value_err = grad_err = 0.0
            for dim in (0, 1, 2, -1, -2, -3):  # worst case over every dim
                xt = torch.tensor(x, requires_grad=True)
                y = theirs(xt, dim)
                y.backward(torch.tensor(g))  # vector-Jacobian product with g
                diff = np.abs(ours(x, dim) - y.detach().numpy()).max()
                value_err = max(value_err, diff)
                diff = np.abs(ours_grad(x, g, dim) - xt.grad.numpy()).max()
                grad_err = max(grad_err, diff)
            name = np.dtype(dtype).name
            print(f"{name}: max |ours - torch| value {value_err:.1e}, "
                  f"grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:pitfall]
    x = np.array([0.0, -800.0])  # float64: exp(-800) underflows to 0
    with np.errstate(divide="ignore"):  # log(0) would warn; we want to see the value
        two_step = np.log(softmax(x, dim=0))
    print("log(softmax(x)) =", two_step)
    print("log_softmax(x)  =", log_softmax(x, dim=0))
    print("torch           =", torch.log_softmax(torch.tensor(x), 0).numpy())

    big = np.array([1e4, 0.0], dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # silence inf and inf/inf
        naive = np.exp(big) / np.exp(big).sum()
    print("naive softmax of [1e4, 0]  =", naive)
    print("shifted softmax of [1e4, 0] =", softmax(big, dim=0))
    # --8<-- [end:pitfall]

    # --8<-- [start:confident]
    x = np.array([0.0, -12.0, -14.0], dtype=np.float32)  # a confident prediction
    g = np.array([-1.0, 0.0, 0.0], dtype=np.float32)  # cross-entropy, target 0
    xt = torch.tensor(x, requires_grad=True)
    log_y = torch.log_softmax(xt, 0)
    log_y.backward(torch.tensor(g))
    ref = -np.log1p(np.exp(x[1:].astype(np.float64)).sum())  # log y_0 in float64
    ref_grad = np.expm1(ref)  # dL/dx_0 = y_0 - 1
    ours = (log_softmax(x, 0)[0], log_softmax_grad(x, g, 0)[0])
    theirs = (log_y[0].item(), xt.grad[0].item())
    print("         log y_0       relative error   dL/dx_0       relative error")
    for who, (value, grad) in (("ours ", ours), ("torch", theirs)):
        value_err, grad_err = abs(value / ref - 1), abs(grad / ref_grad - 1)
        print(f"{who}:  {value:.6e}  {value_err:.0e}            "
              f"{grad:.6e}  {grad_err:.0e}")
    # --8<-- [end:confident]
