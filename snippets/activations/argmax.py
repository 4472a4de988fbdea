r"""Argmax versus max, and what `dim` means for a reduction.

`max` answers "how large is the largest entry?", `argmax` answers "where is it?". With
`dim`, both reduce one dimension and return one answer per slice along it. Reference:
the PyTorch docs of `torch.argmax` and `torch.max`, which this file matches (first
maximal index on ties, NaN counts as the maximum).
"""

# --8<-- [start:impl]
import numpy as np


def argmax(x, dim=None, keepdim=False):
    r"""Index of the largest entry, over the whole array or along `dim`.

    $$\operatorname{argmax}_i\, x_i = \min\{\, i : x_i = \max_j x_j \,\}$$

    Ties go to the first (smallest) index, and a NaN counts as larger than any number,
    as in `torch.argmax`.

    Args:
        x: array of any shape (the reduced dimension must not be empty).
        dim: the dimension to reduce; `None` flattens `x` first (row-major order).
        keepdim: keep the reduced dimension with size 1, so the result broadcasts
            against `x`.

    Returns:
        int64 indices: shape of `x` without `dim` (or with size 1 there if `keepdim`);
        a 0-d array if `dim` is None and `keepdim` is False.
    """
    x = np.asarray(x)
    if dim is None:
        flat = argmax(x.reshape(-1), dim=0)  # index into the row-major flattening
        return flat.reshape((1,) * x.ndim) if keepdim else flat
    n = x.shape[dim]
    top = np.max(x, axis=dim, keepdims=True)  # NaN if the slice holds a NaN
    is_top = (x == top) | np.isnan(x)  # every maximal position; NaN wins
    shape = [1] * x.ndim
    shape[dim] = n
    index = np.arange(n, dtype=np.int64).reshape(shape)  # 0..n-1 along dim
    return np.where(is_top, index, n).min(axis=dim, keepdims=keepdim)  # first one


def max_dim(x, dim, keepdim=False):
    r"""Largest entry along `dim` and where it is, like `torch.max(x, dim)`.

    $$\text{values} = \max_i x_i, \qquad \text{indices} = \operatorname{argmax}_i x_i$$

    Args:
        x: array of any shape.
        dim: the dimension to reduce.
        keepdim: keep the reduced dimension with size 1.

    Returns:
        A pair `(values, indices)`, both with the reduced shape.
    """
    x = np.asarray(x)
    indices = argmax(x, dim, keepdim=True)
    values = np.take_along_axis(x, indices, axis=dim)  # x at those indices
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return values, indices
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    x = np.array([[1, 3, 5],
                  [2, 4, 1]])
    print("max of everything   ", x.max())
    print("argmax, flattened   ", argmax(x))
    print("argmax(dim=0)       ", argmax(x, dim=0), "<- one per column")
    print("argmax(dim=1)       ", argmax(x, dim=1), "<- one per row")
    print("max_dim(dim=1)      ", max_dim(x, dim=1))
    print("shape with keepdim  ", argmax(x, dim=1, keepdim=True).shape)
    print("ties: argmax([1, 5, 5, 2]) =", argmax(np.array([1, 5, 5, 2])))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch

    xt = torch.tensor(x)
    print("torch:", torch.argmax(xt).item(), torch.argmax(xt, 0).tolist(),
          torch.argmax(xt, 1).tolist(), torch.argmax(torch.tensor([1, 5, 5, 2])).item())

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        # values rounded to a few levels, so most slices contain ties
        a = rng.integers(0, 4, size=(3, 4, 5)).astype(dtype)
        t = torch.tensor(a)
        err = abs(int(argmax(a)) - torch.argmax(t).item())  # flattened
        for dim in (0, 1, 2, -1, -2, -3):
            for keepdim in (False, True):
                i = argmax(a, dim, keepdim)
                v, j = max_dim(a, dim, keepdim)
                tv, tj = torch.max(t, dim, keepdim)
                err = max(err, np.abs(i - torch.argmax(t, dim, keepdim).numpy()).max(),
                          np.abs(j - tj.numpy()).max(), np.abs(v - tv.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}, every dim, with ties: max |ours - torch| = {float(err):.1e}")
    # --8<-- [end:check]
