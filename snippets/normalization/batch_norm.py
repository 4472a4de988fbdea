r"""Batch normalization: per-channel batch statistics, running averages, and the backward pass.

Reference: Ioffe and Szegedy, "Batch Normalization: Accelerating Deep Network Training by
Reducing Internal Covariate Shift", ICML 2015. Checked against
`torch.nn.functional.batch_norm` and `torch.nn.BatchNorm1d` / `torch.nn.BatchNorm2d`.
"""

# --8<-- [start:impl]
# --8<-- [start:channel_stats]
import numpy as np


def per_channel(v, ndim):
    r"""A per-channel vector of length C reshaped to (1, C, 1, ...) to broadcast."""
    return np.reshape(v, (1, -1) + (1,) * (ndim - 2))


def channel_stats(x):
    r"""Mean and biased variance of each channel of a batch, over every axis but axis 1.

    $$\mu_c = \frac{1}{M} \sum_i x_{ic}, \qquad
    \sigma_c^2 = \frac{1}{M} \sum_i (x_{ic} - \mu_c)^2$$

    Two passes (the mean first, then the squared deviations), never
    $E[x^2] - E[x]^2$; the sums run in float64 whatever the input's dtype.

    Args:
        x: float array of shape (N, C), (N, C, L) or (N, C, H, W).

    Returns:
        `(mean, var, m)`: two float64 arrays of shape (C,) and the count $M$ of
        values per channel ($N$, $NL$ or $NHW$).
    """
    axes = (0, *range(2, x.ndim))  # every axis but the channel axis
    m = int(np.prod([x.shape[a] for a in axes]))  # values per channel
    x64 = x.astype(np.float64)
    mean = x64.sum(axis=axes) / max(m, 1)  # max: an empty batch gives 0, not a warning
    deviation = x64 - per_channel(mean, x.ndim)  # the second pass
    var = (deviation**2).sum(axis=axes) / max(m, 1)
    return mean, var, m
# --8<-- [end:channel_stats]


# --8<-- [start:normalize]
def normalize(x, mean, var, weight, bias, eps):
    r"""Subtract the mean, divide by $\sqrt{\sigma^2 + \epsilon}$, then scale and shift.

    $$y = \gamma \, \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta$$

    Args:
        x: the input, shape (N, C, ...).
        mean: per-channel mean, shape (C,).
        var: per-channel variance, shape (C,).
        weight: $\gamma$, shape (C,), or None for 1.
        bias: $\beta$, shape (C,), or None for 0.
        eps: $\epsilon > 0$, added to the variance.

    Returns:
        `(y, cache)`: the output (dtype of `x`) and what the backward pass needs:
        $\hat x$ and $1/\sqrt{\sigma^2 + \epsilon}$ in float64.
    """
    invstd = 1.0 / np.sqrt(np.asarray(var, dtype=np.float64) + eps)  # (C,)
    x_hat = (x - per_channel(mean, x.ndim)) * per_channel(invstd, x.ndim)
    y = x_hat if weight is None else x_hat * per_channel(weight, x.ndim)
    y = y if bias is None else y + per_channel(bias, x.ndim)
    return y.astype(x.dtype), {"x_hat": x_hat, "invstd": invstd}
# --8<-- [end:normalize]


# --8<-- [start:batch_norm]
def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    r"""Batch normalization as `torch.nn.functional.batch_norm` computes it.

    Training: normalize with the batch's mean and biased variance, and move the
    running averages towards the batch's mean and unbiased variance,
    $r \leftarrow (1 - m)\, r + m\, s$. Evaluation: normalize with the running ones.

    Args:
        x: float array of shape (N, C), (N, C, L) or (N, C, H, W).
        running_mean: shape (C,), or None (no running statistics).
        running_var: shape (C,), or None (with `running_mean`).
        weight: $\gamma$, shape (C,), or None for 1.
        bias: $\beta$, shape (C,), or None for 0.
        training: use (and track) the batch statistics.
        momentum: $m \in [0, 1]$, the weight of the new batch in the running averages.
        eps: $\epsilon > 0$.

    Returns:
        `(y, running_mean, running_var, cache)`: new arrays; the inputs are not modified.

    Raises:
        ValueError: for an input with fewer than 2 dimensions; in training, for one
            value per channel ($M = 1$) or $\epsilon \le 0$, as torch; in evaluation, for
            $\epsilon < 0$, as torch, or without running statistics (torch raises a
            RuntimeError there).
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"expected an input of shape (N, C, ...), got shape {x.shape}")
    if not training:
        if eps < 0:
            raise ValueError(f"eps must be non-negative, got {eps}")
        if running_mean is None:
            raise ValueError("running_mean must be defined in evaluation mode")
        y, cache = normalize(x, running_mean, running_var, weight, bias, eps)
        return y, running_mean, running_var, {**cache, "training": False}
    if eps <= 0:
        raise ValueError(f"eps must be positive during training, got {eps}")
    mean, var, m = channel_stats(x)
    if m == 1:  # the variance of one value is 0, and x - mean is 0: nothing to learn
        raise ValueError("Expected more than 1 value per channel when training, "
                         f"got input size {x.shape}")
    if running_mean is not None and m > 0:  # an empty batch leaves them alone
        unbiased = var * m / (m - 1)  # Bessel's correction for the running variance
        dtype = running_mean.dtype
        running_mean = ((1 - momentum) * running_mean + momentum * mean).astype(dtype)
        running_var = ((1 - momentum) * running_var + momentum * unbiased).astype(dtype)
    y, cache = normalize(x, mean, var, weight, bias, eps)
    return y, running_mean, running_var, {**cache, "training": True}
# --8<-- [end:batch_norm]


# --8<-- [start:batch_norm_backward]
def batch_norm_backward(dy, cache, weight=None):
    r"""Gradients of a loss with respect to $x$, $\gamma$ and $\beta$, given $dL/dy$.

    $$\frac{\partial L}{\partial x} = \frac{\gamma}{\sqrt{\sigma^2 + \epsilon}}
    \left(g - \overline{g} - \hat x \, \overline{g \hat x}\right)$$

    in training (the bars are means over the channel's $M$ values), and
    $\gamma g / \sqrt{\sigma^2 + \epsilon}$ in evaluation.

    Args:
        dy: $g = dL/dy$, the shape of the input.
        cache: the cache returned by `batch_norm`.
        weight: $\gamma$ as passed to `batch_norm`, or None.

    Returns:
        `(dx, dweight, dbias)`; `dweight` and `dbias` are None when `weight` is None.
    """
    dy = np.asarray(dy)
    nd, x_hat, invstd = dy.ndim, cache["x_hat"], cache["invstd"]
    axes = (0, *range(2, nd))
    g = dy.astype(np.float64)
    dbias = g.sum(axis=axes)  # (C,)
    dweight = (g * x_hat).sum(axis=axes)  # (C,)
    scale = invstd if weight is None else invstd * weight  # (C,)
    if cache["training"]:  # the mean and variance depend on x too
        m = max(int(np.prod([dy.shape[a] for a in axes])), 1)  # max: an empty batch
        g = g - per_channel(dbias / m, nd) - x_hat * per_channel(dweight / m, nd)
    dx = (g * per_channel(scale, nd)).astype(dy.dtype)
    if weight is None:
        return dx, None, None
    return dx, dweight.astype(weight.dtype), dbias.astype(weight.dtype)
# --8<-- [end:batch_norm_backward]


# --8<-- [start:module]
def init_buffers(num_features, dtype=np.float64):
    r"""The buffers of `torch.nn.BatchNorm1d/2d`: running mean 0, variance 1, count 0.

    Args:
        num_features: the number of channels C.
        dtype: the dtype of the running statistics.

    Returns:
        A dict with `running_mean`, `running_var` and `num_batches_tracked`.
    """
    return {"running_mean": np.zeros(num_features, dtype),
            "running_var": np.ones(num_features, dtype), "num_batches_tracked": 0}


def batch_norm_layer(x, weight, bias, buffers, *, training, momentum=0.1, eps=1e-5):
    r"""One forward call of `torch.nn.BatchNorm1d/2d` with running statistics tracked.

    In training the layer counts the batch, then updates the running averages with
    weight `momentum`, or with $1/t$ after $t$ batches when `momentum` is None (the
    running averages are then the plain mean of every batch's statistics).

    Args:
        x: the input, (N, C) or (N, C, L) for BatchNorm1d, (N, C, H, W) for BatchNorm2d.
        weight: $\gamma$, shape (C,), or None for 1.
        bias: $\beta$, shape (C,), or None for 0.
        buffers: the dict from `init_buffers` (not modified).
        training: the layer's mode (`module.train()` or `module.eval()`).
        momentum: a number in [0, 1], or None for the cumulative average.
        eps: $\epsilon > 0$.

    Returns:
        `(y, new_buffers, cache)`.
    """
    t = buffers["num_batches_tracked"] + (1 if training else 0)
    factor = 1.0 / t if training and momentum is None else momentum
    y, mean, var, cache = batch_norm(x, buffers["running_mean"], buffers["running_var"],
                                     weight, bias, training, factor, eps)
    new = {"running_mean": mean, "running_var": var, "num_batches_tracked": t}
    return y, new, cache
# --8<-- [end:module]
# --8<-- [end:impl]


# --8<-- [start:naive_var]
def naive_var(x):
    r"""The biased variance as $E[x^2] - E[x]^2$, per channel: what not to do."""
    axes = (0, *range(2, x.ndim))
    return (x * x).mean(axis=axes) - x.mean(axis=axes) ** 2
# --8<-- [end:naive_var]


if __name__ == "__main__":
    # --8<-- [start:example]
    x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [6.0, 60.0]])  # (N=4, C=2)
    weight, bias = np.array([1.0, 2.0]), np.array([0.0, -1.0])
    buffers = init_buffers(2)
    y, buffers, cache = batch_norm_layer(x, weight, bias, buffers, training=True)
    print("y (training) =\n", y.round(4))
    print("batch mean", x.mean(0), "biased var", x.var(0), "unbiased var", x.var(0, ddof=1))
    print("running_mean", buffers["running_mean"], "running_var", buffers["running_var"])
    y_eval, _, _ = batch_norm_layer(x, weight, bias, buffers, training=False)
    print("y (evaluation) =\n", y_eval.round(4))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch
    import torch.nn.functional as F

    def functional_errors(dtype, shape, training, seed=0):
        rng = np.random.default_rng(seed)
        c = shape[1]
        x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
        w, b = rng.normal(size=c).astype(dtype), rng.normal(size=c).astype(dtype)
        rm, rv = rng.normal(size=c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
        dy = rng.normal(size=shape).astype(dtype)  # a random upstream gradient
        y, rm2, rv2, cache = batch_norm(x, rm, rv, w, b, training, momentum=0.1)
        grads = batch_norm_backward(dy, cache, w)
        xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
        rmt, rvt = torch.tensor(rm), torch.tensor(rv)  # updated in place by torch
        yt = F.batch_norm(xt, rmt, rvt, wt, bt, training=training, momentum=0.1)
        (yt * torch.tensor(dy)).sum().backward()
        value = max(np.abs(a - t.detach().numpy()).max() for a, t in
                    [(y, yt), (rm2, rmt), (rv2, rvt)])
        grad = max(np.abs(a - t.grad.numpy()).max()
                   for a, t in zip(grads, (xt, wt, bt), strict=True))
        return value, grad

    shapes = [(8, 3), (8, 3, 5), (4, 3, 5, 6)]
    print("checked against torch.nn.functional.batch_norm")
    for dtype in (np.float64, np.float32):
        errs = [functional_errors(dtype, s, tr) for s in shapes for tr in (True, False)]
        value, grad = max(e[0] for e in errs), max(e[1] for e in errs)
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {value:.1e}, "
              f"grad {grad:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:check-layers]
    def layer_errors(dtype, shape, momentum, steps=5, seed=1):
        rng = np.random.default_rng(seed)
        c = shape[1]
        kind = torch.nn.BatchNorm1d if len(shape) < 4 else torch.nn.BatchNorm2d
        torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
        layer = kind(c, momentum=momentum).to(torch_dtype)
        with torch.no_grad():  # non-trivial weight and bias
            layer.weight.copy_(torch.tensor(rng.normal(size=c)))
            layer.bias.copy_(torch.tensor(rng.normal(size=c)))
        w, b = layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()
        buffers, value, grad = init_buffers(c, dtype), 0.0, 0.0
        for step in range(steps + 1):
            training = step < steps  # five training steps, then one in evaluation mode
            layer.train(training)
            x = (rng.normal(size=shape) * 2 + 5).astype(dtype)
            dy = rng.normal(size=shape).astype(dtype)
            y, buffers, cache = batch_norm_layer(x, w, b, buffers, training=training,
                                                 momentum=momentum)
            xt = torch.tensor(x, requires_grad=True)
            yt = layer(xt)
            layer.zero_grad()
            (yt * torch.tensor(dy)).sum().backward()
            assert buffers["num_batches_tracked"] == layer.num_batches_tracked.item()
            value = max(value, np.abs(y - yt.detach().numpy()).max(),
                        *(np.abs(buffers[k] - getattr(layer, k).numpy()).max()
                          for k in ("running_mean", "running_var")))
            grads = batch_norm_backward(dy, cache, w)
            grad = max(grad, *(np.abs(a - t.grad.numpy()).max()
                               for a, t in zip(grads, (xt, layer.weight, layer.bias),
                                               strict=True)))
        return value, grad

    for name, shape, momentum in [("BatchNorm1d", (6, 4, 3), 0.1),
                                  ("BatchNorm2d", (4, 3, 5, 5), 0.1),
                                  ("BatchNorm2d(momentum=None)", (4, 3, 5, 5), None)]:
        print(f"checked against torch.nn.{name}")
        for dtype in (np.float64, np.float32):
            value, grad = layer_errors(dtype, shape, momentum)
            print(f"{np.dtype(dtype).name}: max |ours - torch| value {value:.1e}, "
                  f"grad {grad:.1e}")
    # --8<-- [end:check-layers]

    # --8<-- [start:variance-demo]
    rng = np.random.default_rng(0)
    for offset in (0.0, 1e4, 1e8):  # a large mean, the same spread (standard deviation 1)
        x = rng.normal(size=(64, 1)) + offset  # float64, one channel
        _, var, m = channel_stats(x)
        rm, rv = torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
        F.batch_norm(torch.tensor(x), rm, rv, training=True, momentum=1.0)
        torch_var = rv.item() * (m - 1) / m  # its unbiased running variance, made biased
        print(f"mean {offset:.0e}: two-pass {var[0]:.6f}, torch {torch_var:.6f}, "
              f"E[x^2] - E[x]^2 {naive_var(x)[0]:.6g}")
    # --8<-- [end:variance-demo]

    # --8<-- [start:batch-of-one]
    torch.manual_seed(0)
    for shape in [(1, 3), (1, 3, 1, 1), (1, 3, 2, 2)]:
        layer = torch.nn.BatchNorm1d(3) if len(shape) == 2 else torch.nn.BatchNorm2d(3)
        try:
            out = layer(torch.randn(shape)).detach()
        except ValueError as error:
            print(f"{shape}: ValueError: {error}")
            continue
        print(f"{shape}: trains; each channel's 4 outputs have mean "
              f"{out.mean((0, 2, 3)).abs().numpy().round(4)} and biased variance "
              f"{out.var((0, 2, 3), unbiased=False).numpy().round(4)}")
    # --8<-- [end:batch-of-one]
