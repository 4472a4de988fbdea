r"""Argmax versus max, and what `dim` means for a reduction.

`max` answers "how large is the largest entry?", `argmax` answers "where is it?". With
`dim`, both reduce one dimension and return one answer per slice along it. Reference:
the PyTorch docs of `torch.argmax` and `torch.max`, which this file matches (first
maximal index on ties, NaN counts as the maximum).
"""

# --8<-- [start:impl]
# --8<-- [start:argmax]
import numpy as np


def argmax(x, dim=None, keepdim=False):
    r"""Index of the largest entry, over the whole array or along `dim`.

    $$\operatorname{argmax}_i\, x_i = \min\{\, i : x_i = \max_j x_j \,\},
      \quad i = 0, \dots, K - 1$$

    Ties go to the first (smallest) index, and a NaN counts as larger than any number,
    as in `torch.argmax`. Indices start at 0, as in NumPy and torch.

    Args:
        x: array of any shape; a 0-d array counts as one entry along dim 0, as in
            torch.
        dim: the dimension to reduce; `None` flattens `x` first (row-major order).
        keepdim: keep the reduced dimension with size 1, so the result broadcasts
            against `x` (a 0-d `x` gives a 0-d result either way, as in torch).

    Returns:
        int64 indices: shape of `x` without `dim` (or with size 1 there if `keepdim`);
        a 0-d array if `dim` is None and `keepdim` is False.

    Raises:
        ValueError: if the reduced dimension (or the whole array, for `dim=None`) is
            empty: there is no largest entry to point at.
        IndexError: if `dim` is out of range (for a 0-d `x`, anything but 0 or -1).
    """
    x = np.asarray(x)
    if dim is None:
        flat = argmax(x.reshape(-1), dim=0)  # index into the row-major flattening
        return flat.reshape((1,) * x.ndim) if keepdim else flat
    if x.ndim == 0:  # one entry, at index 0, as in torch
        if dim not in (0, -1):
            raise IndexError(f"dim {dim} is out of range for a 0-d array (use 0 or -1)")
        return np.zeros((), dtype=np.int64)
    n = x.shape[dim]
    if n == 0:
        raise ValueError(f"argmax over dim {dim} of size 0: no entry to point at")
    top = np.max(x, axis=dim, keepdims=True)  # NaN if the slice holds a NaN
    is_top = (x == top) | np.isnan(x)  # every maximal position; NaN wins
    shape = [1] * x.ndim
    shape[dim] = n
    index = np.arange(n, dtype=np.int64).reshape(shape)  # 0..n-1 along dim
    return np.where(is_top, index, n).min(axis=dim, keepdims=keepdim)  # first one
# --8<-- [end:argmax]


# --8<-- [start:max_dim]
def max_dim(x, dim, keepdim=False):
    r"""Largest entry along `dim` and where it is, like `torch.max(x, dim)`.

    $$\text{values} = \max_i x_i, \qquad \text{indices} = \operatorname{argmax}_i x_i$$

    Args:
        x: array of any shape (a 0-d array is one entry along dim 0).
        dim: the dimension to reduce.
        keepdim: keep the reduced dimension with size 1.

    Returns:
        A pair `(values, indices)`, both with the reduced shape.
    """
    x = np.asarray(x)
    if x.ndim == 0:  # the entry itself, at index 0, as torch returns
        return x.copy(), argmax(x, dim)
    indices = argmax(x, dim, keepdim=True)
    values = np.take_along_axis(x, indices, axis=dim)  # x at those indices
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return values, indices
# --8<-- [end:max_dim]
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
    print("0-d: argmax(5.0, dim=0) =", argmax(np.array(5.0), dim=0))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch

    xt = torch.tensor(x)
    print("torch:", torch.argmax(xt).item(), torch.argmax(xt, 0).tolist(),
          torch.argmax(xt, 1).tolist(), torch.argmax(torch.tensor([1, 5, 5, 2])).item())

    def worst(ours, ref):
        """Largest |ours - ref|, once both are known to have NaN in the same places."""
        ref = ref.numpy()
        assert np.array_equal(np.isnan(ours), np.isnan(ref))
        return float(np.nan_to_num(np.abs(ours - ref)).max())  # NaN - NaN counts as 0

    def tied(dtype):
        """Values from four levels only, so most slices contain ties; and one NaN."""
        a = np.random.default_rng(0).integers(0, 4, size=(3, 4, 5)).astype(dtype)
        a[1, 2, 3] = np.nan
        return a, torch.tensor(a)

    dims = (0, 1, 2, -1, -2, -3)
    cases = [(dim, keepdim) for dim in dims for keepdim in (False, True)]
    print("checked against torch.argmax")
    for dtype in (np.float64, np.float32):
        a, t = tied(dtype)
        err = worst(argmax(a), torch.argmax(t))  # flattened
        for dim, keepdim in cases:
            ours = argmax(a, dim, keepdim)
            err = max(err, worst(ours, torch.argmax(t, dim, keepdim)))
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")

    print("checked against torch.max(x, dim), values and indices")
    for dtype in (np.float64, np.float32):
        a, t = tied(dtype)
        err = 0.0
        for dim, keepdim in cases:
            values, indices = max_dim(a, dim, keepdim)
            reference = torch.max(t, dim, keepdim)
            err = max(err, worst(values, reference.values),
                      worst(indices, reference.indices))
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]
