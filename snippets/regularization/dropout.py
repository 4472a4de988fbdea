r"""Inverted dropout, its gradient, its statistics, and dropout on attention weights.

References: Hinton et al., "Improving neural networks by preventing co-adaptation of feature
detectors", 2012; Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from
Overfitting", JMLR 2014. Checked against `torch.nn.functional.dropout`.
"""

# --8<-- [start:impl]
# --8<-- [start:dropout]
import numpy as np


def check_p(p):
    """Refuse a drop probability outside [0, 1] (NaN included); return it as a float."""
    p = float(p)  # as in torch, so 1 - p is computed in double precision
    if not 0.0 <= p <= 1.0:  # also false for NaN
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return p


def dropout(x, mask, p, training=True):
    r"""Inverted dropout of `x` with a given keep mask.

    $$y = \frac{m \odot x}{1 - p}, \quad m_i \sim \operatorname{Bernoulli}(1 - p)$$

    Args:
        x: float array of any shape.
        mask: boolean array of the shape of `x`, True where the element is kept.
        p: the probability of dropping an element, $0 \le p \le 1$.
        training: if False, return `x` unchanged (evaluation mode).

    Returns:
        An array with the shape and dtype of `x`. As in torch, a dropped element is
        multiplied by 0, so a dropped inf or NaN gives NaN, and `p = 1` gives zeros.

    Raises:
        ValueError: for `p` outside $[0, 1]$ or NaN.
        TypeError: for an integer or boolean `x` when something may be dropped
            (torch raises a RuntimeError); in evaluation or at `p = 0` both return `x`.
    """
    x = np.asarray(x)
    p = check_p(p)
    if not training or p == 0:
        return x  # evaluation: the identity, no rescaling
    if not np.issubdtype(x.dtype, np.floating):  # 1/(1-p) would be cast to an integer
        raise TypeError(f"dropout needs a floating-point input, got {x.dtype}")
    if p == 1:
        factor = np.zeros((), x.dtype)  # everything dropped
    else:
        scale = np.asarray(1, x.dtype) / np.asarray(1 - p, x.dtype)  # in x's dtype
        factor = mask * scale  # 1/(1-p) where kept, 0 where dropped
    with np.errstate(invalid="ignore"):  # a dropped inf is inf * 0 = NaN, as in torch
        return x * factor
# --8<-- [end:dropout]


# --8<-- [start:dropout_grad]
def dropout_grad(mask, p, dtype=np.float64, training=True):
    r"""Derivative of each output of `dropout` with respect to its own input.

    $$\frac{\partial y_i}{\partial x_i} = \frac{m_i}{1 - p}$$

    Args:
        mask: boolean keep mask, as given to `dropout`.
        p: the drop probability, $0 \le p \le 1$.
        dtype: the floating dtype of `x`.
        training: if False, the derivative of the identity.

    Returns:
        An array of the shape of `mask` and the given dtype.
    """
    mask = np.asarray(mask)
    p = check_p(p)
    if not training or p == 0:
        return np.ones(mask.shape, dtype)
    if p == 1:
        return np.zeros(mask.shape, dtype)
    scale = np.asarray(1, dtype) / np.asarray(1 - p, dtype)
    return mask * scale  # the same factor the forward pass multiplied by
# --8<-- [end:dropout_grad]


# --8<-- [start:sample]
def keep_mask(shape, p, rng):
    """A boolean keep mask: each element kept with probability 1 - p."""
    p = check_p(p)
    return rng.random(shape) >= p  # uniform in [0, 1): P(u >= p) = 1 - p
# --8<-- [end:sample]


# --8<-- [start:bound]
def hoeffding_halfwidth(ranges, delta=1e-6):
    r"""Half-width $t$ with $P(|\bar Z - E\bar Z| \ge t) \le \delta$ (Hoeffding).

    $$t = \sqrt{\frac{\ln(2/\delta) \sum_i r_i^2}{2 n^2}}$$

    Args:
        ranges: array of $r_i$, the width of the interval each independent $Z_i$
            lies in.
        delta: the allowed probability of exceeding $t$.

    Returns:
        The half-width $t$ for the mean $\bar Z$ of the $n$ variables.
    """
    r = np.asarray(ranges, np.float64).ravel()
    return np.sqrt(np.log(2 / delta) * np.sum(r**2) / (2 * r.size**2))
# --8<-- [end:bound]


# --8<-- [start:softmax]
def softmax(scores):
    """Softmax over the last axis, shifted by the row maximum for stability."""
    z = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
# --8<-- [end:softmax]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:original]
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 5))  # a linear layer after dropout
    x = rng.normal(size=5)
    p, draws = 0.5, 200_000
    masks = rng.random((draws, 5)) >= p  # (draws, 5)
    original = (masks * x) @ W.T  # training: drop, no scaling
    inverted = (masks * x / (1 - p)) @ W.T  # training: drop, scale by 1/(1-p)
    print("original, mean in training:", original.mean(0).round(3))
    print("original, at test (1-p) W x:", ((1 - p) * W @ x).round(3))
    print("inverted, mean in training:", inverted.mean(0).round(3))
    print("inverted, at test W x:      ", (W @ x).round(3))
    # --8<-- [end:original]

    # --8<-- [start:attention]
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(1, 4, 4))  # one sequence of 4 queries and 4 keys
    weights = softmax(scores)
    p = 0.25
    dropped = dropout(weights, keep_mask(weights.shape, p, rng), p)
    print("row sums, evaluation:", np.round(weights.sum(-1), 6))
    print("row sums, training:  ", np.round(dropped.sum(-1), 6))

    big = softmax(rng.normal(size=(2000, 16, 16)))  # 32 000 rows of 16 weights
    sums = dropout(big, keep_mask(big.shape, p, rng), p).sum(-1)
    t = hoeffding_halfwidth(np.full(sums.size, 1 / (1 - p)))  # row sums in [0, 1/(1-p)]
    print(f"training row sums: mean {sums.mean():.4f} (bound ±{t:.4f}), "
          f"min {sums.min():.3f}, max {sums.max():.3f}")
    # --8<-- [end:attention]

    # --8<-- [start:check]
    import torch

    x = np.arange(1.0, 9.0)
    mask = keep_mask(x.shape, 0.5, np.random.default_rng(0))
    print("x              ", x)
    print("mask           ", mask.astype(int))
    print("dropout, p=0.5 ", dropout(x, mask, 0.5))
    print("evaluation     ", dropout(x, mask, 0.5, training=False))

    print("checked against torch.nn.functional.dropout")
    for dtype in (np.float64, np.float32):
        worst_value = worst_grad = 0.0
        for p in (0.0, 0.1, 0.5, 0.9, 1.0):
            xs = np.random.default_rng(0).uniform(0.5, 2.0, 10_000).astype(dtype)
            xs *= np.where(np.arange(xs.size) % 2, 1, -1).astype(dtype)  # no zeros
            xt = torch.tensor(xs, requires_grad=True)
            torch.manual_seed(0)
            yt = torch.nn.functional.dropout(xt, p, training=True)
            yt.sum().backward()  # d(sum)/dx_i = m_i / (1 - p)
            y = yt.detach().numpy()
            m = y != 0  # torch's own keep mask, since no x_i is 0
            value_err = np.abs(dropout(xs, m, p) - y).max()
            grad_err = np.abs(dropout_grad(m, p, dtype) - xt.grad.numpy()).max()
            worst_value, worst_grad = max(worst_value, value_err), max(worst_grad, grad_err)
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {worst_value:.1e}, grad {worst_grad:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:stats]
    n, p = 1_000_000, 0.3
    x = np.random.default_rng(2).uniform(0.5, 1.5, n)  # the mean to preserve
    torch.manual_seed(0)
    theirs = torch.nn.functional.dropout(torch.tensor(x), p).numpy()
    ours = dropout(x, keep_mask(x.shape, p, np.random.default_rng(3)), p)
    t_zero = hoeffding_halfwidth(np.ones(n))  # each indicator in [0, 1]
    t_mean = hoeffding_halfwidth(x / (1 - p))  # each y_i in [0, x_i / (1 - p)]
    print(f"p = {p}, n = {n}; each bound fails with probability at most 1e-6")
    print(f"zero fraction must be within {p} ± {t_zero:.5f}; "
          f"mean within {x.mean():.5f} ± {t_mean:.5f}")
    for name, y in (("torch", theirs), ("ours ", ours)):
        print(f"{name}: zero fraction {np.mean(y == 0):.5f}, mean {y.mean():.5f}")
    off = abs(np.mean(theirs == 0) - 0.32)  # torch's draw, judged against a wrong p
    print(f"judged against p = 0.32 instead: off by {off:.5f} > {t_zero:.5f}, caught")
    # --8<-- [end:stats]
