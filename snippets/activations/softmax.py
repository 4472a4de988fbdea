r"""Softmax and log-softmax along any `dim`, computed stably, with their backward pass.

Reference: J. S. Bridle, "Probabilistic Interpretation of Feedforward Classification
Network Outputs, with Relationships to Statistical Pattern Recognition", Neurocomputing,
1990. Checked against `torch.softmax` and `torch.log_softmax`.
"""

# --8<-- [start:impl]
import numpy as np


def _shift(x, dim):
    """`x` minus its maximum along `dim`, so that the largest entry becomes 0."""
    m = np.max(x, axis=dim, keepdims=True, initial=-np.inf)  # initial: empty dims work
    return x - m


def softmax(x, dim):
    r"""Softmax along `dim`: exponentiate, then normalise to sum to 1.

    $$\operatorname{softmax}(x)_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}},
      \quad m = \max_j x_j$$

    Subtracting $m$ changes nothing mathematically but keeps every exponent $\le 0$, so
    nothing overflows; entries equal to $-\infty$ get probability 0.

    Args:
        x: array with at least one dimension.
        dim: the dimension that is normalised (negative values count from the end).

    Returns:
        An array with the shape and dtype of `x`; slices along `dim` sum to 1.
    """
    e = np.exp(_shift(np.asarray(x), dim))
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax(x, dim):
    r"""Logarithm of softmax along `dim`, in one step (log-sum-exp).

    $$\operatorname{log\_softmax}(x)_i = x_i - m - \log \sum_j e^{x_j - m}$$

    Args:
        x: array with at least one dimension.
        dim: the dimension that is normalised.

    Returns:
        An array with the shape and dtype of `x`; finite wherever `x` is finite.
    """
    x = np.asarray(x)
    if x.size == 0:
        return x.copy()  # nothing to normalise (and the log of an empty sum is -inf)
    z = _shift(x, dim)
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))  # the sum is >= 1


def softmax_grad(x, grad_output, dim):
    r"""Vector-Jacobian product of softmax: the gradient with respect to `x`.

    With $y = \operatorname{softmax}(x)$ and upstream gradient $g$,
    $\partial y_i / \partial x_k = y_i(\delta_{ik} - y_k)$, so

    $$\frac{\partial L}{\partial x_k} = y_k \Big(g_k - \sum_i g_i y_i\Big)$$

    Args:
        x: the input of softmax.
        grad_output: $g = \partial L / \partial y$, same shape as `x`.
        dim: the dimension softmax normalised.

    Returns:
        $\partial L / \partial x$, same shape and dtype as `x`.
    """
    y = softmax(x, dim)
    return y * (grad_output - (grad_output * y).sum(axis=dim, keepdims=True))


def log_softmax_grad(x, grad_output, dim):
    r"""Vector-Jacobian product of log-softmax: the gradient with respect to `x`.

    $\partial \log y_i / \partial x_k = \delta_{ik} - y_k$, so

    $$\frac{\partial L}{\partial x_k} = g_k - y_k \sum_i g_i$$

    Args:
        x: the input of log-softmax.
        grad_output: $g = \partial L / \partial \log y$, same shape as `x`.
        dim: the dimension log-softmax normalised.

    Returns:
        $\partial L / \partial x$, same shape and dtype as `x`.
    """
    y = np.exp(log_softmax(x, dim))
    return grad_output - y * grad_output.sum(axis=dim, keepdims=True)
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

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        x = (rng.normal(size=(2, 3, 4)) * 5).astype(dtype)
        x[0, 0, :2] = [1e4, -1e4]  # extremes in one slice
        g = rng.normal(size=x.shape).astype(dtype)  # an upstream gradient
        errs = {"value": 0.0, "grad": 0.0}
        for dim in (0, 1, 2, -1, -2, -3):
            for ours, grad, theirs in (
                (softmax, softmax_grad, torch.softmax),
                (log_softmax, log_softmax_grad, torch.log_softmax),
            ):
                xt = torch.tensor(x, requires_grad=True)
                y = theirs(xt, dim)
                y.backward(torch.tensor(g))  # vector-Jacobian product with g
                v = np.abs(ours(x, dim) - y.detach().numpy()).max()
                d = np.abs(grad(x, g, dim) - xt.grad.numpy()).max()
                errs["value"] = max(errs["value"], v)
                errs["grad"] = max(errs["grad"], d)
        name = np.dtype(dtype).name
        print(f"{name}, every dim: max |ours - torch| "
              f"value {errs['value']:.1e}, grad {errs['grad']:.1e}")
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
