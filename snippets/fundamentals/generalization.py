r"""Underfitting and overfitting: least-squares polynomial fits of degree 1 to 15 to noisy
samples of a smooth function, with their training and validation errors.

The fits are checked against `torch.linalg.lstsq`.
"""

# --8<-- [start:impl]
# --8<-- [start:data]
import numpy as np
from numpy.polynomial.legendre import legvander


def make_data(n_train=20, n_val=500, noise=0.3, seed=0):
    r"""Noisy samples of $\sin(3x)$ at uniform random points of $[-1, 1]$.

    $$y = \sin(3x) + \sigma \varepsilon, \qquad \varepsilon \sim \mathcal N(0, 1)$$

    Args:
        n_train: training examples.
        n_val: validation examples, drawn independently from the same source.
        noise: $\sigma$, the noise's standard deviation.
        seed: random seed.

    Returns:
        `(x_train, y_train, x_val, y_val)`.
    """
    rng = np.random.default_rng(seed)

    def sample(n):
        x = rng.uniform(-1, 1, n)
        return x, np.sin(3 * x) + noise * rng.normal(size=n)

    return *sample(n_train), *sample(n_val)
# --8<-- [end:data]


# --8<-- [start:fit]
def fit_polynomial(x, y, degree):
    r"""Least-squares polynomial of the given degree, in the Legendre basis.

    $$w = \arg\min_w \lVert \Phi w - y \rVert^2, \qquad \Phi_{ik} = P_k(x_i)$$

    Args:
        x: inputs in $[-1, 1]$, shape (n,).
        y: targets, shape (n,).
        degree: the polynomial's degree $p$ ($p + 1 \le n$ coefficients).

    Returns:
        The $p + 1$ coefficients of $P_0, \dots, P_p$.
    """
    if not 0 <= degree < len(x):
        raise ValueError(f"the degree must be 0 to at most n - 1 = {len(x) - 1}")
    Phi = legvander(x, degree)  # (n, degree + 1): P_0(x), ..., P_degree(x)
    Q, R = np.linalg.qr(Phi)  # Phi = Q R, Q with orthonormal columns
    return np.linalg.solve(R, Q.T @ y)  # least squares without forming Phi^T Phi


def predict(w, x):
    r"""The polynomial with Legendre coefficients `w`, at the points `x`."""
    return legvander(x, len(w) - 1) @ w
# --8<-- [end:fit]


# --8<-- [start:curves]
def error_curves(x_train, y_train, x_val, y_val, degrees):
    r"""Training and validation mean squared error of the fit of each degree.

    Returns:
        `(train, val)`, two arrays with one entry per degree.
    """
    train, val = [], []
    for p in degrees:
        w = fit_polynomial(x_train, y_train, p)
        train.append(np.mean((predict(w, x_train) - y_train) ** 2))
        val.append(np.mean((predict(w, x_val) - y_val) ** 2))
    return np.array(train), np.array(val)
# --8<-- [end:curves]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:demo]
    x_train, y_train, x_val, y_val = make_data(seed=6)  # 20 training, 500 validation
    degrees = range(1, 16)
    train, val = error_curves(x_train, y_train, x_val, y_val, degrees)
    print("degree   train MSE   validation MSE")
    for p, tr, va in zip(degrees, train, val, strict=True):
        print(f"{p:6d} {tr:11.4f} {va:16.4f}")
    print(f"lowest validation error at degree {degrees[np.argmin(val)]}"
          f" (the noise's variance is {0.3**2:.2f})")
    # --8<-- [end:demo]

    # --8<-- [start:check]
    import torch

    print("checked against torch.linalg.lstsq")
    for dtype in (np.float64, np.float32):
        xt, yt, xv = x_train.astype(dtype), y_train.astype(dtype), x_val.astype(dtype)
        err = 0.0
        for p in degrees:
            ours = predict(fit_polynomial(xt, yt, p), xv)
            Phi = torch.tensor(legvander(xt, p))  # the same basis, in the same dtype
            # gelsd (SVD): the default gelsy's last digits vary from run to run
            w = torch.linalg.lstsq(Phi, torch.tensor(yt)[:, None], driver="gelsd")
            w = w.solution[:, 0]
            ref = (torch.tensor(legvander(xv, p)) @ w).numpy()
            err = max(err, np.abs(ours - ref).max() / np.abs(ref).max())
        print(f"{np.dtype(dtype).name}: max |ours - torch| relative value {err:.1e}")
    # --8<-- [end:check]
