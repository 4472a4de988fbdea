r"""Why regularize: a polynomial fit with and without an L2 penalty, train vs validation error;
and the noise that batch statistics add to one example's normalized value.

Checked against `torch.linalg.lstsq` (ridge regression as least squares on extra rows) and
`torch.nn.functional.batch_norm` in training mode.
"""

# --8<-- [start:impl]
# --8<-- [start:data]
import numpy as np
from numpy.polynomial.legendre import legvander


def make_data(n_train=15, n_val=200, noise=0.3, seed=0):
    r"""Samples of $y = \sin(\pi x) + \text{noise}$, $x$ uniform on $[-1, 1]$.

    Args:
        n_train: number of training points.
        n_val: number of validation points.
        noise: standard deviation of the noise.
        seed: the random seed.

    Returns:
        `(x_train, y_train, x_val, y_val)`.
    """
    rng = np.random.default_rng(seed)

    def sample(n):
        x = rng.uniform(-1, 1, n)
        return x, np.sin(np.pi * x) + noise * rng.normal(size=n)

    return *sample(n_train), *sample(n_val)
# --8<-- [end:data]


# --8<-- [start:fit]
def fit_ridge(x, y, lam, degree=12):
    r"""Polynomial least squares with an L2 penalty on the coefficients (ridge).

    $$w = \arg\min_w \frac{1}{n}\lVert \Phi w - y\rVert^2 + \lambda \lVert w\rVert^2
    = (\Phi^\top\Phi / n + \lambda I)^{-1} \Phi^\top y / n$$

    with $\Phi$ the Legendre polynomials $P_0, \dots, P_{\text{degree}}$ at the points.

    Args:
        x: inputs in $[-1, 1]$, shape (n,).
        y: targets, shape (n,).
        lam: the penalty's strength $\lambda \ge 0$.
        degree: the polynomial's degree.

    Returns:
        The coefficients $w$, shape (degree + 1,).

    Raises:
        ValueError: for $\lambda < 0$ or NaN.
    """
    if not lam >= 0:
        raise ValueError(f"the penalty's strength must be >= 0, got {lam}")
    phi = legvander(x, degree)  # (n, degree + 1)
    n = len(x)
    a = phi.T @ phi / n + lam * np.eye(degree + 1, dtype=phi.dtype)
    return np.linalg.solve(a, phi.T @ y / n)


def mse(w, x, y):
    """Mean squared error of the polynomial with coefficients w on (x, y)."""
    return np.mean((legvander(x, len(w) - 1) @ w - y) ** 2)
# --8<-- [end:fit]


# --8<-- [start:batch_normalize]
def batch_normalize(x, eps=1e-5):
    r"""Normalize each feature with its batch's mean and (biased) variance.

    $$\hat x_i = (x_i - \mu_B) / \sqrt{\sigma_B^2 + \epsilon}$$

    Args:
        x: a batch, shape (B, C).
        eps: $\epsilon$, added to the variance.

    Returns:
        The normalized batch, shape (B, C).
    """
    mean = x.mean(axis=0)
    var = x.var(axis=0)  # biased (divides by B), as batch norm in training
    return (x - mean) / np.sqrt(var + eps)
# --8<-- [end:batch_normalize]
# --8<-- [end:impl]


# --8<-- [start:bn_noise]
def bn_noise(batch_size, x0=1.0, draws=2000, seed=0):
    r"""The spread of one example's normalized value over random batch mates.

    The example $x_0$ is put in `draws` batches whose other members are standard normal.

    Args:
        batch_size: $B$, the example included.
        x0: the example's value.
        draws: how many batches.
        seed: the random seed.

    Returns:
        The standard deviation of $\hat x_0$ over the batches.
    """
    rng = np.random.default_rng(seed)
    batches = rng.normal(size=(draws, batch_size, 1))
    batches[:, 0, 0] = x0
    z0 = [batch_normalize(b)[0, 0] for b in batches]
    return np.std(z0)
# --8<-- [end:bn_noise]


if __name__ == "__main__":
    # --8<-- [start:ridge-demo]
    x_train, y_train, x_val, y_val = make_data()
    print("lambda    train MSE   validation MSE   |w|")
    for lam in (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0):
        w = fit_ridge(x_train, y_train, lam)
        print(f"{lam:<8g} {mse(w, x_train, y_train):>9.3f} "
              f"{mse(w, x_val, y_val):>15.3f} {np.linalg.norm(w):>8.2f}")
    # --8<-- [end:ridge-demo]

    # --8<-- [start:bn-demo]
    for b in (4, 16, 64, 256):
        print(f"B = {b:>3}: std of the example's normalized value {bn_noise(b):.3f}, "
              f"sqrt(1.5 / B) = {np.sqrt(1.5 / b):.3f}")
    # --8<-- [end:bn-demo]

    # --8<-- [start:check]
    import torch

    print("checked against torch.linalg.lstsq (ridge as least squares on extra rows)")
    for dtype in (np.float64, np.float32):
        lam, n = 1e-2, len(x_train)
        w = fit_ridge(x_train.astype(dtype), y_train.astype(dtype), lam)
        phi = legvander(x_train, 12) / np.sqrt(n)  # rows for (1/n)·‖Φw - y‖²
        rows = np.vstack([phi, np.sqrt(lam) * np.eye(13)])  # and for λ‖w‖²
        rhs = np.concatenate([y_train / np.sqrt(n), np.zeros(13)])
        # gelsd (SVD): the default gelsy's last digits vary from run to run
        A = torch.tensor(rows.astype(dtype))
        b = torch.tensor(rhs.astype(dtype))[:, None]
        ref = torch.linalg.lstsq(A, b, driver="gelsd").solution
        err = np.abs(w - ref[:, 0].numpy()).max()
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")

    print("checked against torch.nn.functional.batch_norm(training=True)")
    for dtype in (np.float64, np.float32):
        x = np.random.default_rng(1).normal(3.0, 2.0, size=(32, 5)).astype(dtype)
        xt = torch.tensor(x, requires_grad=True)
        ref = torch.nn.functional.batch_norm(xt, None, None, training=True, eps=1e-5)
        err = np.abs(batch_normalize(x) - ref.detach().numpy()).max()
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]
