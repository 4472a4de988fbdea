r"""Family-wide demo for the normalization pages: which axes each method reduces over.

One function normalizes an (N, C, H, W) tensor over a chosen set of axes; batch, layer,
instance, group and RMS normalization are that function with different axes (group
normalization after splitting C into groups). Checked against `torch.nn.functional.batch_norm`,
`layer_norm`, `instance_norm`, `group_norm` and `rms_norm`, without affine parameters.
"""

# --8<-- [start:impl]
# --8<-- [start:normalize_over]
import numpy as np

AXES = {  # the axes of an (N, C, H, W) tensor each method takes its statistics over
    "batch": (0, 2, 3),  # per channel, over the batch and the positions
    "layer": (1, 2, 3),  # per example, over channels and positions
    "instance": (2, 3),  # per example and channel, over the positions
}


def normalize_over(x, axes, eps=1e-5, center=True):
    r"""Normalize `x` over `axes` to mean 0 and variance 1 (or, uncentred, to RMS 1).

    $$y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    \text{or } y = \frac{x}{\sqrt{\overline{x^2} + \epsilon}} \text{ without centring}$$

    Args:
        x: float array.
        axes: the axes the statistics are taken over.
        eps: $\epsilon > 0$.
        center: subtract the mean and divide by the standard deviation; if false,
            divide by the root mean square (RMSNorm).

    Returns:
        An array of the shape and dtype of `x`.
    """
    x64 = x.astype(np.float64)
    if center:
        x64 = x64 - x64.mean(axis=axes, keepdims=True)
    mean_square = (x64**2).mean(axis=axes, keepdims=True)
    return (x64 / np.sqrt(mean_square + eps)).astype(x.dtype)
# --8<-- [end:normalize_over]


# --8<-- [start:group]
def group_normalize(x, groups, eps=1e-5):
    r"""Group normalization without affine parameters, for an (N, C, ...) array.

    The C channels are split into `groups` groups of C / `groups` channels, and each
    group of each example is normalized over its channels and positions.

    Args:
        x: float array of shape (N, C, ...), C divisible by `groups`.
        groups: the number of groups G.
        eps: $\epsilon > 0$.

    Returns:
        An array of the shape and dtype of `x`.
    """
    n, c = x.shape[:2]
    grouped = x.reshape(n, groups, c // groups, *x.shape[2:])  # (N, G, C/G, H, W)
    return normalize_over(grouped, (2, 3, 4), eps).reshape(x.shape)
# --8<-- [end:group]


# --8<-- [start:shared]
METHODS = {  # each method as a function of an (N, C, H, W) array, no affine parameters
    "batch norm": lambda x: normalize_over(x, AXES["batch"]),
    "layer norm": lambda x: normalize_over(x, AXES["layer"]),
    "instance norm": lambda x: normalize_over(x, AXES["instance"]),
    "group norm (G=2)": lambda x: group_normalize(x, 2),
    "RMSNorm": lambda x: normalize_over(x, AXES["layer"], center=False),
}


def shared_statistics(method, x, n, c):
    r"""Which (example, channel) pairs share statistics with the value `x[n, c, 0, 0]`.

    Found by experiment: change that one value and see whose outputs move.

    Args:
        method: a function of an (N, C, H, W) array, such as a value of `METHODS`.
        x: the input, shape (N, C, H, W).
        n: the example of the value that is changed.
        c: its channel.

    Returns:
        A boolean array of shape (N, C).
    """
    x2 = x.copy()
    x2[n, c, 0, 0] += 1.0
    moved = np.abs(method(x2) - method(x)) > 1e-9  # (N, C, H, W)
    moved[n, c, 0, 0] = True  # the changed value itself
    return moved.any(axis=(2, 3))
# --8<-- [end:shared]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:shared-demo]
    x = np.random.default_rng(0).normal(size=(4, 6, 3, 3))  # (N, C, H, W)
    masks = {name: shared_statistics(f, x, n=1, c=2) for name, f in METHODS.items()}
    print("examples 0-3 of each channel; # = shares statistics with x[1, 2, 0, 0]")
    print((" " * 10 + "".join(f"{name:<17}" for name in masks)).rstrip())
    for ch in range(6):
        cells = ["".join("#" if m else "." for m in mask[:, ch]) for mask in masks.values()]
        print((f"channel {ch} " + "".join(f"{cell:<17}" for cell in cells)).rstrip())
    # --8<-- [end:shared-demo]

    # --8<-- [start:methods]
    import torch
    import torch.nn.functional as F

    def references(xt):
        """torch's version of each method, without affine parameters."""
        return {
            "batch_norm": F.batch_norm(xt, None, None, training=True),
            "layer_norm": F.layer_norm(xt, xt.shape[1:]),
            "instance_norm": F.instance_norm(xt),
            "group_norm": F.group_norm(xt, 2),
            "rms_norm": F.rms_norm(xt, xt.shape[1:], eps=1e-5),
        }

    def ours(x):
        return {
            "batch_norm": normalize_over(x, AXES["batch"]),
            "layer_norm": normalize_over(x, AXES["layer"]),
            "instance_norm": normalize_over(x, AXES["instance"]),
            "group_norm": group_normalize(x, 2),
            "rms_norm": normalize_over(x, AXES["layer"], center=False),
        }
    # --8<-- [end:methods]

    # --8<-- [start:check]
    x64 = np.random.default_rng(0).normal(size=(4, 6, 3, 3)) * 2 + 1  # (N, C, H, W)
    errors = {}
    for dtype in (np.float64, np.float32):
        x = x64.astype(dtype)
        refs = references(torch.tensor(x))
        for name, y in ours(x).items():
            errors.setdefault(name, {})[dtype] = np.abs(y - refs[name].numpy()).max()
    for name, by_dtype in errors.items():
        print(f"checked against torch.nn.functional.{name}")
        for dtype, err in by_dtype.items():
            print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]
