r"""Noise injection, ensembles, data augmentation and smaller models as regularizers.

References: Bishop, "Training with Noise is Equivalent to Tikhonov Regularization", Neural
Computation 1995; Krogh and Vedelsby, "Neural Network Ensembles, Cross Validation, and Active
Learning", NIPS 1994. Checked against torch autograd of an exact Gaussian expectation, and
against the ambiguity identity.
"""

# --8<-- [start:impl]
# --8<-- [start:noise]
import numpy as np


def mse(X, y, w, b):
    r"""Mean squared error of the linear model $w^\top x + b$ on rows of `X`.

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        w: weights, shape (d,).
        b: bias, a number.

    Returns:
        $\frac{1}{n}\sum_i (y_i - w^\top x_i - b)^2$.
    """
    r = y - X @ w - b  # (n,) residuals
    return np.mean(r**2)


def expected_noisy_mse(X, y, w, b, sigma):
    r"""Expected MSE when every input gets independent noise $N(0, \sigma^2 I)$.

    $$\mathbb{E}_\epsilon[\mathrm{MSE}(X + \epsilon)]
      = \mathrm{MSE}(X) + \sigma^2 \lVert w \rVert^2$$

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        w: weights, shape (d,).
        b: bias, a number.
        sigma: the noise standard deviation, $\sigma \ge 0$.

    Returns:
        The clean MSE plus the ridge penalty $\sigma^2 \lVert w \rVert^2$.
    """
    return mse(X, y, w, b) + sigma**2 * (w @ w)  # the bias is not penalised
# --8<-- [end:noise]


# --8<-- [start:noise_grad]
def expected_noisy_mse_grad(X, y, w, b, sigma):
    r"""Gradient of `expected_noisy_mse` with respect to $w$ and $b$.

    $$\nabla_w = -\frac{2}{n} X^\top r + 2\sigma^2 w, \quad \partial_b = -\frac{2}{n}\sum_i r_i$$

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        w: weights, shape (d,).
        b: bias, a number.
        sigma: the noise standard deviation.

    Returns:
        The pair (gradient in w, shape (d,); derivative in b, a number).
    """
    r = y - X @ w - b  # (n,)
    n = X.shape[0]
    return -2 / n * (X.T @ r) + 2 * sigma**2 * w, -2 / n * r.sum()
# --8<-- [end:noise_grad]


# --8<-- [start:noisy_variance]
def noisy_mse_variance(X, y, w, b, sigma):
    r"""Exact variance of the MSE of one noisy copy of the data set.

    $$\operatorname{Var} = \frac{1}{n^2}\sum_i \left(2 s^4 + 4 r_i^2 s^2\right),
      \quad s^2 = \sigma^2 \lVert w \rVert^2$$

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        w: weights, shape (d,).
        b: bias, a number.
        sigma: the noise standard deviation.

    Returns:
        The variance over the noise, used to judge a Monte Carlo mean.
    """
    r = y - X @ w - b
    s2 = sigma**2 * (w @ w)  # variance of w . eps_i
    return np.sum(2 * s2**2 + 4 * r**2 * s2) / X.shape[0] ** 2
# --8<-- [end:noisy_variance]


# --8<-- [start:ensemble]
def ensemble_variance(sigma2, rho, k):
    r"""Variance of the mean of $k$ errors of variance $\sigma^2$ and correlation $\rho$.

    $$\operatorname{Var}\Big(\frac{1}{k}\sum_j e_j\Big)
      = \rho\sigma^2 + \frac{1 - \rho}{k}\sigma^2$$

    Args:
        sigma2: the variance of each error.
        rho: their pairwise correlation.
        k: the number of members, $k \ge 1$.

    Returns:
        The variance of the ensemble's average error.
    """
    return rho * sigma2 + (1 - rho) * sigma2 / k


def correlated_errors(draws, k, sigma, rho, rng):
    """k errors per draw, each N(0, sigma^2), pairwise correlation rho in [0, 1]."""
    if not 0 <= rho <= 1:
        raise ValueError(f"this construction needs 0 <= rho <= 1, got {rho}")
    shared = rng.normal(size=(draws, 1))  # the part every member gets wrong together
    own = rng.normal(size=(draws, k))  # each member's own part
    return sigma * (np.sqrt(rho) * shared + np.sqrt(1 - rho) * own)  # (draws, k)
# --8<-- [end:ensemble]


# --8<-- [start:ambiguity]
def ambiguity_decomposition(preds, y):
    r"""Squared error of the averaged prediction, split into members' error and spread.

    $$(\bar f - y)^2 = \frac{1}{k}\sum_j (f_j - y)^2 - \frac{1}{k}\sum_j (f_j - \bar f)^2$$

    Args:
        preds: member predictions, shape (k, n).
        y: targets, shape (n,).

    Returns:
        (ensemble MSE, mean member MSE, mean ambiguity), each averaged over the n points.
    """
    mean_pred = preds.mean(axis=0)  # (n,)
    ensemble = np.mean((mean_pred - y) ** 2)
    members = np.mean((preds - y) ** 2)
    ambiguity = np.mean((preds - mean_pred) ** 2)
    return ensemble, members, ambiguity
# --8<-- [end:ambiguity]


# --8<-- [start:augment]
def augment(image, rng, pad=2):
    """A random horizontal flip, then a random crop of the zero-padded image."""
    h, w = image.shape[-2:]
    if rng.random() < 0.5:
        image = image[..., ::-1]  # mirror left-right
    padded = np.pad(image, [(0, 0)] * (image.ndim - 2) + [(pad, pad), (pad, pad)])
    i, j = rng.integers(0, 2 * pad + 1, size=2)  # top-left corner of the crop
    return padded[..., i : i + h, j : j + w]
# --8<-- [end:augment]
# --8<-- [end:impl]


# --8<-- [start:cubature]
def gaussian_cubature(d, sigma):
    r"""Points whose plain average is $\mathbb{E}[q(\epsilon)]$, $\epsilon \sim N(0, \sigma^2 I)$.

    The $2d$ points $\pm\sigma\sqrt{d}\,e_j$ have mean 0 and second moments
    $\sigma^2 I$, and their odd third moments vanish, so averaging over them is
    exact for every polynomial $q$ of degree at most 3.

    Args:
        d: the dimension.
        sigma: the noise standard deviation.

    Returns:
        The points, shape (2d, d).
    """
    return sigma * np.sqrt(d) * np.concatenate([np.eye(d), -np.eye(d)])  # (2d, d)
# --8<-- [end:cubature]


if __name__ == "__main__":
    # --8<-- [start:noise_demo]
    rng = np.random.default_rng(0)
    n, d, sigma = 50, 5, 0.3
    X = rng.normal(size=(n, d))
    w, b = rng.normal(size=d), 0.5
    y = X @ np.array([1.0, -2.0, 0.0, 0.5, 1.5]) + 0.1 * rng.normal(size=n)
    draws = 4_000
    eps = sigma * rng.normal(size=(draws, n, d))  # a fresh noisy copy of X per draw
    noisy = np.mean((y - (X + eps) @ w - b) ** 2, axis=1)  # (draws,) noisy MSEs
    formula = expected_noisy_mse(X, y, w, b, sigma)
    se = np.sqrt(noisy_mse_variance(X, y, w, b, sigma) / draws)  # exact standard error
    print(f"clean MSE {mse(X, y, w, b):.5f}, sigma^2 |w|^2 {sigma**2 * (w @ w):.5f}")
    print(f"Monte Carlo mean of the noisy MSE: {noisy.mean():.5f}")
    print(f"clean MSE + sigma^2 |w|^2:         {formula:.5f}")
    print(f"gap {noisy.mean() - formula:+.5f} = {(noisy.mean() - formula) / se:+.2f} "
          f"standard errors ({se:.5f})")
    # --8<-- [end:noise_demo]

    # --8<-- [start:check_noise]
    import torch

    print("checked against torch.autograd of the exact Gaussian expectation (cubature)")
    for dtype in (np.float64, np.float32):
        Xd, yd, wd = X.astype(dtype), y.astype(dtype), w.astype(dtype)
        points = torch.tensor(gaussian_cubature(d, sigma), dtype=torch.float64)
        wt = torch.tensor(wd, requires_grad=True)
        bt = torch.tensor(dtype(b), requires_grad=True)
        Xt, yt = torch.tensor(Xd), torch.tensor(yd)
        noisy_t = [((yt - (Xt + e.to(Xt.dtype)) @ wt - bt) ** 2).mean() for e in points]
        reference = torch.stack(noisy_t).mean()  # E over the noise, exact for a quadratic
        reference.backward()
        ours = expected_noisy_mse(Xd, yd, wd, dtype(b), dtype(sigma))
        gw, gb = expected_noisy_mse_grad(Xd, yd, wd, dtype(b), dtype(sigma))
        value_err = abs(ours - reference.item())
        grad_err = max(np.abs(gw - wt.grad.numpy()).max(), abs(gb - bt.grad.item()))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check_noise]

    # --8<-- [start:ensemble_demo]
    rng = np.random.default_rng(1)
    sigma_e, draws = 1.0, 50_000
    print(" rho   k  measured  formula  5 standard errors")
    for rho in (0.0, 0.3, 0.8):
        for k in (1, 5, 25):
            e = correlated_errors(draws, k, sigma_e, rho, rng).mean(axis=1)  # averages
            v = ensemble_variance(sigma_e**2, rho, k)
            measured = np.mean(e**2)  # the true mean is 0
            print(f"{rho:4.1f} {k:3d}  {measured:.4f}    {v:.4f}   "
                  f"±{5 * v * np.sqrt(2 / draws):.4f}")  # SE of a mean of squares
    # --8<-- [end:ensemble_demo]

    # --8<-- [start:bagging]
    rng = np.random.default_rng(2)
    x_train = rng.uniform(-1, 1, 30)
    y_train = np.sin(3 * x_train) + 0.3 * rng.normal(size=30)
    x_test = np.linspace(-1, 1, 200)
    y_test = np.sin(3 * x_test)  # the noise-free curve

    def nearest_neighbour(x_fit, y_fit, x):
        """1-NN regression: at each x, the target of the nearest fitted input."""
        return y_fit[np.abs(x[:, None] - x_fit[None, :]).argmin(axis=1)]

    preds = []
    for _ in range(50):  # 50 members, each fitted to a bootstrap resample
        idx = rng.integers(0, 30, 30)
        preds.append(nearest_neighbour(x_train[idx], y_train[idx], x_test))
    preds = np.array(preds)  # (50, 200)
    ensemble, members, ambiguity = ambiguity_decomposition(preds, y_test)
    print(f"test MSE of the average {ensemble:.4f} = mean member MSE {members:.4f} "
          f"- ambiguity {ambiguity:.4f}")
    member_mse = np.mean((preds - y_test) ** 2, axis=1)  # (50,)
    single = np.mean((nearest_neighbour(x_train, y_train, x_test) - y_test) ** 2)
    print(f"median member MSE {np.median(member_mse):.4f}, best member "
          f"{member_mse.min():.4f}, one 1-NN fit to all 30 points {single:.4f}")
    # --8<-- [end:bagging]

    # --8<-- [start:check_ambiguity]
    print("checked against identity: ensemble MSE = member MSE - ambiguity")
    for dtype in (np.float64, np.float32):
        p = np.array(preds, dtype=dtype)
        ens, mem, amb = ambiguity_decomposition(p, y_test.astype(dtype))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - reference| value {abs(ens - (mem - amb)):.1e}")
    # --8<-- [end:check_ambiguity]

    # --8<-- [start:augment_demo]
    image = np.arange(16.0).reshape(4, 4)
    rng = np.random.default_rng(3)
    for _ in range(2):
        print(augment(image, rng, pad=1), "\n")
    # --8<-- [end:augment_demo]

    # --8<-- [start:smaller]
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 20)
    y = np.sin(3 * x) + 0.3 * rng.normal(size=20)
    x_new = rng.uniform(-1, 1, 1000)
    y_new = np.sin(3 * x_new) + 0.3 * rng.normal(size=1000)
    for degree in (1, 3, 5, 9, 15):
        coef = np.polynomial.chebyshev.chebfit(x, y, degree)  # degree + 1 parameters
        fit = np.mean((np.polynomial.chebyshev.chebval(x, coef) - y) ** 2)
        held_out = np.mean((np.polynomial.chebyshev.chebval(x_new, coef) - y_new) ** 2)
        print(f"degree {degree:2d}: training MSE {fit:.4f}, held-out MSE {held_out:.4g}")
    # --8<-- [end:smaller]
