r"""Group normalization and instance normalization with their hand-written backward passes.

References: Y. Wu and K. He, "Group Normalization", ECCV 2018,
https://arxiv.org/abs/1803.08494; D. Ulyanov, A. Vedaldi and V. Lempitsky, "Instance
Normalization: The Missing Ingredient for Fast Stylization", 2016,
https://arxiv.org/abs/1607.08022. Checked against `torch.nn.functional.group_norm`,
`torch.nn.functional.instance_norm` and `torch.nn.InstanceNorm2d`.
"""

# --8<-- [start:impl]
# --8<-- [start:normalize_groups]
import numpy as np


def normalize_groups(x, num_groups, eps=1e-5):
    r"""Split the channels of each example into groups and normalize each group.

    $$\hat x = \frac{x - \mu_{n,k}}{\sqrt{\sigma^2_{n,k} + \epsilon}}$$

    Args:
        x: float array of shape (N, C, ...), with C divisible by `num_groups`.
        num_groups: G, the number of groups of C/G consecutive channels.
        eps: added to the variance.

    Returns:
        `(x_hat, rstd)`: $\hat x$ with shape (N, G, M), M = (C/G) times the size of
        the remaining dimensions, and $1/\sqrt{\sigma^2+\epsilon}$ with shape (N, G, 1).
    """
    x = np.asarray(x)
    n, c = x.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ValueError("Expected number of channels in input to be divisible by "
                         f"num_groups, but got input of shape {list(x.shape)} and "
                         f"num_groups={num_groups}")
    m = c // num_groups * int(np.prod(x.shape[2:]))
    xg = x.reshape(n, num_groups, m)  # (N, G, M)
    mean = xg.mean(axis=-1, keepdims=True)  # two passes, as for layer norm
    centred = xg - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    rstd = 1 / np.sqrt(var + var.dtype.type(eps))  # float even for integer x
    return centred * rstd, rstd
# --8<-- [end:normalize_groups]


# --8<-- [start:group_norm]
def _per_channel(v, x):
    """A (C,) vector shaped to broadcast against x of shape (N, C, ...)."""
    return np.reshape(v, (-1,) + (1,) * (x.ndim - 2))


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    r"""Group normalization: normalize groups of channels, then scale and shift.

    $$y_{n,c,\dots} = \gamma_c \hat x_{n,c,\dots} + \beta_c$$

    Args:
        x: float array of shape (N, C, ...).
        num_groups: G; C must be divisible by it.
        weight: $\gamma$, shape (C,), or None.
        bias: $\beta$, shape (C,), or None.
        eps: added to the variance.

    Returns:
        An array with the shape and dtype of `x`. Like torch, refuses an input
        with a single number in total per group (one example, groups of one number).
    """
    x = np.asarray(x)
    size = x.shape[0] * int(np.prod(x.shape[1:])) // max(num_groups, 1)  # N * (C/G) * L
    if size == 1:  # torch refuses it too
        raise ValueError("Expected more than 1 value per channel when training, "
                         f"got input size {list(x.shape)}")
    x_hat, _ = normalize_groups(x, num_groups, eps)
    y = x_hat.reshape(x.shape)
    if weight is not None:
        y = y * _per_channel(weight, x)
    if bias is not None:
        y = y + _per_channel(bias, x)
    return y
# --8<-- [end:group_norm]


# --8<-- [start:group_norm_backward]
def group_norm_backward(grad_out, x, num_groups, weight=None, eps=1e-5):
    r"""Gradients of a loss $L$ through `group_norm`, given $g = \partial L/\partial y$.

    The layer-norm formula within each group, with $\hat g = g \odot \gamma_c$:

    $$\frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2+\epsilon}}
      \Big(\hat g - \overline{\hat g} - \hat x\, \overline{\hat g \hat x}\Big)$$

    Args:
        grad_out: $g$, same shape as `x`.
        x: the input of the forward pass.
        num_groups: as in the forward pass.
        weight: $\gamma$ or None, as in the forward pass.
        eps: as in the forward pass.

    Returns:
        `(dx, dweight, dbias)`; the last two have shape (C,).
    """
    x = np.asarray(x)
    x_hat, rstd = normalize_groups(x, num_groups, eps)  # (N, G, M), (N, G, 1)
    g_hat = grad_out if weight is None else grad_out * _per_channel(weight, x)
    g_hat = g_hat.reshape(x_hat.shape)
    mean_g = g_hat.mean(axis=-1, keepdims=True)
    mean_gx = (g_hat * x_hat).mean(axis=-1, keepdims=True)
    dx = (rstd * (g_hat - mean_g - x_hat * mean_gx)).reshape(x.shape)
    not_channel = (0, *range(2, x.ndim))
    dweight = (grad_out * x_hat.reshape(x.shape)).sum(axis=not_channel)
    dbias = np.sum(grad_out, axis=not_channel)
    return dx, dweight, dbias
# --8<-- [end:group_norm_backward]


# --8<-- [start:instance_norm]
def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    r"""Instance normalization: each channel of each example normalized on its own.

    With `use_input_stats`, it is `group_norm` with one channel per group, and the
    running statistics (if given) are updated in place:

    $$\bar\mu_c \leftarrow (1-m)\,\bar\mu_c + m \cdot \tfrac{1}{N}\textstyle\sum_n \mu_{n,c},
      \quad \bar v_c \leftarrow (1-m)\,\bar v_c
      + m \cdot \tfrac{1}{N}\textstyle\sum_n \tfrac{L}{L-1}\sigma^2_{n,c}$$

    Without, every example is normalized with the running statistics.

    Args:
        x: float array of shape (N, C, ...) with L > 1 positions per channel.
        running_mean: $\bar\mu$, shape (C,), or None.
        running_var: $\bar v$, shape (C,), or None.
        weight: $\gamma$, shape (C,), or None.
        bias: $\beta$, shape (C,), or None.
        use_input_stats: normalize with each instance's own statistics.
        momentum: $m$, the weight of the new statistics in the running ones.
        eps: added to the variance.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    n, c = x.shape[:2]
    positions = int(np.prod(x.shape[2:]))  # L
    if not use_input_stats:  # evaluation with tracked statistics
        if running_mean is None or running_var is None:
            raise ValueError("Expected running_mean and running_var to be defined "
                             "when use_input_stats is false")
        rstd = 1 / np.sqrt(_per_channel(running_var, x) + x.dtype.type(eps))
        y = (x - _per_channel(running_mean, x)) * rstd
    else:
        if positions <= 1:
            raise ValueError("Expected more than 1 spatial element when training, "
                             f"got input size {list(x.shape)}")
        y = group_norm(x, c, eps=eps)  # one channel per group
        if running_mean is not None:
            xc = x.reshape(n, c, -1)  # (N, C, L)
            mean = xc.mean(axis=-1)  # (N, C)
            squares = ((xc - mean[..., None]) ** 2).sum(axis=-1)
            var = squares / (positions - 1)  # unbiased, as torch keeps it
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean.mean(0)
            running_var[...] = (1 - momentum) * running_var + momentum * var.mean(0)
    if weight is not None:
        y = y * _per_channel(weight, x)
    if bias is not None:
        y = y + _per_channel(bias, x)
    return y
# --8<-- [end:instance_norm]


# --8<-- [start:instance_norm_backward]
def instance_norm_backward(grad_out, x, running_mean=None, running_var=None,
                           weight=None, use_input_stats=True, eps=1e-5):
    r"""Gradients of a loss $L$ through `instance_norm`, given $g = \partial L/\partial y$.

    With the instance's own statistics this is `group_norm_backward` with C groups;
    with running statistics, which are constants, $\partial L/\partial x = \gamma_c g
    / \sqrt{\bar v_c + \epsilon}$.

    Args:
        grad_out: $g$, same shape as `x`.
        x: the input of the forward pass.
        running_mean: as in the forward pass (its value after the update does not
            matter when `use_input_stats` is true).
        running_var: as `running_mean`.
        weight: $\gamma$ or None, as in the forward pass.
        use_input_stats: as in the forward pass.
        eps: as in the forward pass.

    Returns:
        `(dx, dweight, dbias)`; the last two have shape (C,).
    """
    x = np.asarray(x)
    if use_input_stats:
        return group_norm_backward(grad_out, x, x.shape[1], weight, eps)
    rstd = 1 / np.sqrt(_per_channel(running_var, x) + x.dtype.type(eps))
    x_hat = (x - _per_channel(running_mean, x)) * rstd
    scale = rstd if weight is None else rstd * _per_channel(weight, x)
    not_channel = (0, *range(2, x.ndim))
    dweight = (grad_out * x_hat).sum(axis=not_channel)
    return grad_out * scale, dweight, np.sum(grad_out, axis=not_channel)
# --8<-- [end:instance_norm_backward]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    x = np.arange(16.0).reshape(1, 4, 2, 2)  # one image, 4 channels of 2 x 2
    x[0, 3] = 5.0  # a constant channel
    with np.printoptions(precision=3, suppress=True):
        print("group_norm, 2 groups (channels 0-1 and 2-3), channel 0:\n",
              group_norm(x, 2)[0, 0])
        print("instance_norm, channel 0:\n", instance_norm(x)[0, 0])
        print("instance_norm, channel 3 (constant):\n", instance_norm(x)[0, 3])
    # --8<-- [end:example]

    # --8<-- [start:check_group]
    import torch
    import torch.nn.functional as F

    def torch_grads(fn, x, g, *params):
        """torch's output of fn(x, *params) and the gradients of sum(y * g)."""
        ts = [None if p is None else torch.tensor(p, requires_grad=True)
              for p in (x, *params)]
        y = fn(*ts)
        y.backward(torch.tensor(g))
        return y.detach().numpy(), [None if t is None else t.grad.numpy() for t in ts]

    def worst(ours, theirs):
        """The largest |ours - theirs| over pairs of arrays (skipping None)."""
        return max(np.abs(a - b).max() for a, b in zip(ours, theirs, strict=True)
                   if b is not None and b.size)

    print("checked against torch.nn.functional.group_norm")
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(0)
        value_err = grad_err = 0.0
        for shape in ((4, 6), (2, 6, 5), (2, 6, 3, 4)):
            for groups in (1, 2, 3, 6):
                if np.prod(shape[1:]) // groups < 3:
                    continue  # groups of 1 or 2 numbers: see Differences from PyTorch
                x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
                g = rng.normal(size=shape).astype(dtype)
                w, b = rng.normal(size=(2, shape[1])).astype(dtype)
                y, grads = torch_grads(
                    lambda x, w, b, G=groups: F.group_norm(x, G, w, b), x, g, w, b)
                value_err = max(value_err, worst([group_norm(x, groups, w, b)], [y]))
                ours = group_norm_backward(g, x, groups, w)
                grad_err = max(grad_err, worst(ours, grads))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check_group]

    # --8<-- [start:check_instance]
    print("checked against torch.nn.functional.instance_norm")
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(1)
        value_err = grad_err = 0.0
        for shape in ((2, 3, 5), (2, 3, 4, 4)):
            for use_input_stats in (True, False):
                x = (rng.normal(size=shape) * 3 + 1).astype(dtype)
                g = rng.normal(size=shape).astype(dtype)
                w, b = rng.normal(size=(2, shape[1])).astype(dtype)
                mean, var = rng.normal(size=shape[1]), rng.uniform(0.5, 2, shape[1])
                ours_stats = [mean.astype(dtype), var.astype(dtype)]
                stats = [torch.tensor(s) for s in ours_stats]  # torch updates these

                def fn(x, w, b, u=use_input_stats, stats=stats):
                    return F.instance_norm(x, *stats, w, b, use_input_stats=u)

                y, grads = torch_grads(fn, x, g, w, b)
                ours = instance_norm(x, *ours_stats, w, b, use_input_stats)
                value_err = max(value_err, worst([ours, *ours_stats],
                                                 [y, *(s.numpy() for s in stats)]))
                before = [mean.astype(dtype), var.astype(dtype)]  # stats used in eval
                ours = instance_norm_backward(g, x, *before, w, use_input_stats)
                grad_err = max(grad_err, worst(ours, grads))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check_instance]

    # --8<-- [start:check_module]
    print("checked against torch.nn.InstanceNorm2d(track_running_stats=True)")
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(2)
        tdtype = torch.float64 if dtype == np.float64 else torch.float32
        layer = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True,
                                        dtype=tdtype)
        w, b = (p.detach().numpy().copy() for p in (layer.weight, layer.bias))
        mean, var = np.zeros(3, dtype), np.ones(3, dtype)  # torch's initial values
        value_err = 0.0
        for step in range(4):  # three training steps, then evaluation
            x = (rng.normal(size=(2, 3, 4, 4)) * 2 + step).astype(dtype)
            layer.train(step < 3)
            y = layer(torch.tensor(x)).detach().numpy()
            ours = instance_norm(x, mean, var, w, b, use_input_stats=step < 3)
            value_err = max(value_err, np.abs(ours - y).max(),
                            np.abs(mean - layer.running_mean.numpy()).max(),
                            np.abs(var - layer.running_var.numpy()).max())
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {value_err:.1e}")
    # --8<-- [end:check_module]

    # --8<-- [start:small_groups]
    g = np.array([[[1.0, -1.0]]], dtype=np.float32)
    for pair in ([2.0, 2.02], [0.0, 0.02]):  # the same spread, mean 2.01 and 0.01
        x = np.array([[pair]], dtype=np.float32)  # (N, C, L) = (1, 1, 2)
        exact, _, _ = group_norm_backward(g.astype(np.float64), x.astype(np.float64), 1)
        ours, _, _ = group_norm_backward(g, x, 1)
        xt = torch.tensor(x, requires_grad=True)
        F.group_norm(xt, 1).backward(torch.tensor(g))
        print(f"x = {pair}: dx = ±{exact.max():.4f}; float32 |ours - float64| "
              f"{np.abs(ours - exact).max():.1e}, |torch - float64| "
              f"{np.abs(xt.grad.numpy() - exact).max():.1e}")
    x = np.array([[3.36, -1.31, 0.1], [1.78, 4.45, -7.3]], dtype=np.float32)
    w, b = np.array([[1.5, -0.5, 2.0], [0.1, 0.2, 0.3]], dtype=np.float32)
    theirs = F.group_norm(torch.tensor(x), 3, torch.tensor(w), torch.tensor(b)).numpy()
    print("groups of one number, y - beta:")  # gamma * x_hat, and x_hat = 0
    print("ours: ", (group_norm(x, 3, w, b) - b).ravel())
    print("torch:", (theirs - b).ravel())
    # --8<-- [end:small_groups]

    # --8<-- [start:divisible]
    for fn in (lambda: group_norm(np.zeros((2, 6, 3)), 4),
               lambda: F.group_norm(torch.zeros(2, 6, 3), 4)):
        try:
            fn()
        except (ValueError, RuntimeError) as error:
            print(f"{type(error).__name__}: {error}")
    # --8<-- [end:divisible]
