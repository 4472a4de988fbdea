r"""Sinusoidal positional encoding and the rotation that shifts it by k positions.

Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.5.
Checked against the float64 formula evaluated entry by entry with Python's `math`.
"""

# --8<-- [start:impl]
# --8<-- [start:frequencies]
import torch


def frequencies(d, base=10000.0):
    r"""The angular frequency of each sine/cosine pair, from 1 down towards $1/\text{base}$.

    $$\omega_i = \text{base}^{-2i/d}, \qquad i = 0, \dots, d/2 - 1$$

    Args:
        d: width of the encoding (the model width), even.
        base: the constant of the formula, 10000 in the paper.

    Returns:
        A float64 tensor of shape (d // 2,).
    """
    if d % 2:
        raise ValueError(f"d must be even (a sine and a cosine per frequency), got {d}")
    two_i = torch.arange(0, d, 2, dtype=torch.float64)  # (d/2,): 0, 2, 4, ...
    return base ** (-two_i / d)  # (d/2,)
# --8<-- [end:frequencies]


# --8<-- [start:sinusoidal]
def sinusoidal_encoding(T, d, base=10000.0, dtype=torch.float32):
    r"""The table of sinusoidal position encodings for positions $0, \dots, T-1$.

    $$PE_{p,\,2i} = \sin(p\,\omega_i), \qquad PE_{p,\,2i+1} = \cos(p\,\omega_i)$$

    Args:
        T: number of positions.
        d: width of the encoding, even.
        base: the constant of the formula, 10000 in the paper.
        dtype: dtype of the result; the angles are computed in float64 whatever it is.

    Returns:
        A tensor of shape (T, d): row p encodes position p.
    """
    omega = frequencies(d, base)  # (d/2,)
    pos = torch.arange(T, dtype=torch.float64)  # (T,)
    angle = pos[:, None] * omega[None, :]  # (T, 1) * (1, d/2) -> (T, d/2)
    pe = torch.empty(T, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)  # even columns: sines
    pe[:, 1::2] = torch.cos(angle)  # odd columns: cosines
    return pe.to(dtype)  # (T, d)
# --8<-- [end:sinusoidal]


# --8<-- [start:shift_matrix]
def shift_matrix(k, d, base=10000.0):
    r"""The matrix $R_k$ with $PE_{p+k} = R_k\, PE_p$ for every position $p$.

    $$R_k = \operatorname{diag}\big(\rho(k\omega_0), \dots, \rho(k\omega_{d/2-1})\big),
    \qquad \rho(\theta) = \begin{pmatrix} \cos\theta & \sin\theta \\ -\sin\theta &
    \cos\theta \end{pmatrix}$$

    Args:
        k: the shift, any real number (negative shifts go back).
        d: width of the encoding, even.
        base: the constant of the formula.

    Returns:
        A float64 tensor of shape (d, d), block diagonal with 2 x 2 rotations.
    """
    theta = k * frequencies(d, base)  # (d/2,): one angle per frequency
    c, s = torch.cos(theta), torch.sin(theta)  # (d/2,) each
    blocks = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)
    return torch.block_diag(*blocks)  # (d/2, 2, 2) -> (d, d)
# --8<-- [end:shift_matrix]


# --8<-- [start:float32_angles]
def float32_angles(T, d, base=10000.0):
    r"""The same table with the angles $p\,\omega_i$ computed in float32 (less accurate).

    Args:
        T: number of positions.
        d: width of the encoding, even.
        base: the constant of the formula.

    Returns:
        A float32 tensor of shape (T, d).
    """
    omega = frequencies(d, base).float()  # (d/2,)
    angle = torch.arange(T, dtype=torch.float32)[:, None] * omega  # (T, d/2), float32
    pairs = torch.stack([torch.sin(angle), torch.cos(angle)], -1)  # (T, d/2, 2)
    return pairs.reshape(T, d)  # (T, d): sin, cos, sin, cos, ...
# --8<-- [end:float32_angles]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    pe = sinusoidal_encoding(T=6, d=8, dtype=torch.float64)  # (T, d)
    print("PE, positions 0..5 (rows), d = 8 (columns):")
    print(pe.numpy().round(3))
    print("frequencies", frequencies(8).numpy())
    # --8<-- [end:example]

    # --8<-- [start:rotation]
    d, k = 8, 3
    pe = sinusoidal_encoding(T=100, d=d, dtype=torch.float64)  # (T, d)
    R = shift_matrix(k, d)  # (d, d): depends on k only
    shifted = pe[:-k] @ R.T  # row p becomes R PE_p: (T-k, d) @ (d, d) -> (T-k, d)
    err = (shifted - pe[k:]).abs().max()
    print(f"max |R_3 PE_p - PE_(p+3)| over p = 0..96: {err:.1e}")
    print("R_3 is orthogonal:", torch.allclose(R @ R.T, torch.eye(d, dtype=torch.float64)))
    dots = pe[:-k] @ pe[k:].T  # (T-k, T-k); the diagonal holds PE_p . PE_(p+3)
    print("PE_p . PE_(p+3) for p = 0, 10, 50:", dots.diagonal()[[0, 10, 50]].numpy())
    # --8<-- [end:rotation]

    # --8<-- [start:precision]
    T, d = 4096, 64
    exact = sinusoidal_encoding(T, d, dtype=torch.float64)
    ours = sinusoidal_encoding(T, d)  # float32, angles in float64
    naive = float32_angles(T, d)  # float32 angles
    for name, table in (("angles in float64", ours), ("angles in float32", naive)):
        err = (table.double() - exact).abs().max()
        print(f"{name}: max error over {T} positions {err:.1e}")
    # --8<-- [end:precision]

    # --8<-- [start:check]
    import math

    def formula(T, d, base=10000.0):
        """Entry by entry, straight from the paper's two equations."""
        return [[math.sin(p / base ** (j / d)) if j % 2 == 0
                 else math.cos(p / base ** ((j - 1) / d)) for j in range(d)]
                for p in range(T)]

    reference = torch.tensor(formula(512, 128), dtype=torch.float64)
    print("checked against float64 formula")
    for dtype in (torch.float64, torch.float32):
        err = (sinusoidal_encoding(512, 128, dtype=dtype).double() - reference).abs().max()
        print(f"{str(dtype)[6:]}: max |ours - reference| value {err:.1e}")
    # --8<-- [end:check]
