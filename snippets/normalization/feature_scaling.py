r"""Input feature scaling: standardization (z-scores) and min-max scaling.

The statistics are fitted on the training split only and then applied, unchanged, to every
other split. Checked against the same formulas written with torch operations (torch has no
built-in scaler).
"""

# --8<-- [start:impl]
# --8<-- [start:fit_standard]
import numpy as np


def _check_train(X):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        msg = f"need a non-empty (samples, features) training split, got {X.shape}"
        raise ValueError(msg)
    if not np.isfinite(X).all():
        raise ValueError("training features hold NaN or inf: impute or drop them first")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)  # integers or booleans: fit in float64
    return X


def _finite(shift, scale):
    if not (np.isfinite(shift).all() and np.isfinite(scale).all()):
        raise ValueError("the statistics overflow this dtype: rescale or use float64")
    return shift, scale


def fit_standard(X_train):
    r"""Per-feature mean and standard deviation of the training split.

    $$\mu_j = \frac{1}{n}\sum_i x_{ij}, \qquad
    \sigma_j = \sqrt{\frac{1}{n}\sum_i (x_{ij} - \mu_j)^2}$$

    Args:
        X_train: (n, d) training features, all finite, n >= 1.

    Returns:
        `(shift, scale)` = $(\mu, \sigma)$, each of shape (d,). A constant feature
        ($\sigma_j = 0$) gets scale 1, so it becomes 0 on the training split.
    """
    X = _check_train(X_train)
    mean = X.mean(axis=0)
    std = np.sqrt(np.mean((X - mean) ** 2, axis=0))  # two passes: no E[x^2] - E[x]^2
    return _finite(mean, np.where(std > 0, std, 1).astype(X.dtype))  # constant: scale 1
# --8<-- [end:fit_standard]


# --8<-- [start:fit_min_max]
def fit_min_max(X_train):
    r"""Per-feature minimum and range of the training split, for scaling to [0, 1].

    $$m_j = \min_i x_{ij}, \qquad r_j = \max_i x_{ij} - m_j$$

    Args:
        X_train: (n, d) training features, all finite, n >= 1.

    Returns:
        `(shift, scale)` = $(m, r)$, each of shape (d,). A constant feature ($r_j = 0$) gets
        scale 1, so it becomes 0 on the training split.
    """
    X = _check_train(X_train)
    low, high = X.min(axis=0), X.max(axis=0)
    spread = high - low
    return _finite(low, np.where(spread > 0, spread, 1).astype(X.dtype))
# --8<-- [end:fit_min_max]


# --8<-- [start:transform]
def transform(X, shift, scale):
    r"""Apply statistics fitted on the training split to any split.

    $$x'_{ij} = \frac{x_{ij} - \text{shift}_j}{\text{scale}_j}$$

    Args:
        X: (m, d) features of any split.
        shift: (d,) from `fit_standard` or `fit_min_max` on the training split.
        scale: (d,) from the same fit.

    Returns:
        (m, d) scaled features.
    """
    return (np.asarray(X) - shift) / scale
# --8<-- [end:transform]
# --8<-- [end:impl]


# --8<-- [start:leak_data]
def drift_data(seed, n_train=40, n_test=200, test_noise=4.0):
    """Two features; the label is the sign of the first. The second is noise, with a
    spread of 1 in the training split and `test_noise` in the later test split."""
    rng = np.random.default_rng(seed)
    X_tr = rng.normal(size=(n_train, 2))
    X_te = rng.normal(size=(n_test, 2)) * [1.0, test_noise]  # (n_test, 2)
    return X_tr, (X_tr[:, 0] > 0), X_te, (X_te[:, 0] > 0)


def nearest_neighbour_accuracy(X_tr, y_tr, X_te, y_te):
    """Share of test points whose nearest training point (Euclidean) has their label."""
    d2 = ((X_te[:, None, :] - X_tr[None, :, :]) ** 2).sum(axis=-1)  # (n_test, n_train)
    return np.mean(y_tr[d2.argmin(axis=1)] == y_te)
# --8<-- [end:leak_data]


# --8<-- [start:leak_scores]
def leak_scores(seed):
    """1-NN test accuracy with the scaler fitted on the training split (honest) and on
    training and test data together (leaked)."""
    X_tr, y_tr, X_te, y_te = drift_data(seed)
    scores = {}
    for name, fit_on in [("honest", X_tr), ("leaked", np.vstack([X_tr, X_te]))]:
        shift, scale = fit_standard(fit_on)
        scores[name] = nearest_neighbour_accuracy(
            transform(X_tr, shift, scale), y_tr, transform(X_te, shift, scale), y_te)
    return scores
# --8<-- [end:leak_scores]


# --8<-- [start:gd]
def gd_least_squares(X, y, tol=1e-6, max_steps=2000):
    """Gradient descent on the mean squared error of y ~ X theta, step 1/L.

    Returns the steps it took to get within `tol` (relative) of the exact solution,
    or `max_steps`, and the relative error reached."""
    A, b = X.T @ X / len(X), X.T @ y / len(X)  # loss = theta A theta / 2 - b theta + c
    exact = np.linalg.solve(A, b)
    lr = 1 / np.linalg.eigvalsh(A).max()  # 1/L; steps are stable up to 2/L
    theta, steps, err = np.zeros(X.shape[1]), 0, 1.0  # start at 0: relative error 1
    while err > tol and steps < max_steps:
        theta = theta - lr * (A @ theta - b)  # gradient of the loss is A theta - b
        err = np.linalg.norm(theta - exact) / np.linalg.norm(exact)
        steps += 1
    return steps, err
# --8<-- [end:gd]


# --8<-- [start:conditioning_data]
def conditioning_data(seed=0, n=200):
    """House-price-like data: size in m^2 (tens to hundreds) and a rate in [0, 1]."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(40, 250, n), rng.uniform(0, 1, n)])  # (n, 2)
    y = 3.0 * X[:, 0] - 50.0 * X[:, 1] + 20 + rng.normal(0, 10, n)
    return X, y


def with_intercept(X):
    """Prepend a column of ones."""
    return np.column_stack([np.ones(len(X)), X])
# --8<-- [end:conditioning_data]


if __name__ == "__main__":
    # --8<-- [start:example]
    X_train = np.array([[180.0, 0.2, 1.0], [95.0, 0.9, 1.0], [120.0, 0.5, 1.0]])
    X_test = np.array([[150.0, 0.4, 2.0]])  # the third feature is constant in training
    shift, scale = fit_standard(X_train)
    print("z-scores, train:\n", transform(X_train, shift, scale).round(3))
    print("z-scores, test: ", transform(X_test, shift, scale).round(3))
    shift, scale = fit_min_max(X_train)
    print("min-max, test:  ", transform(X_test, shift, scale).round(3))
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch

    rng = np.random.default_rng(0)
    for reference in ("torch.std_mean(X, dim=0, correction=0)", "torch.aminmax(X, dim=0)"):
        print(f"checked against {reference}")
        for dtype in (np.float64, np.float32):
            X = rng.normal(size=(500, 4)) * [1, 10, 1e3, 1e-3] + [0, 5, 2e3, -0.004]
            X = X.astype(dtype)  # (500, 4): spreads 1e-3 to 1e3
            Xt = torch.tensor(X)
            if reference.startswith("torch.std_mean"):
                std, mean = torch.std_mean(Xt, dim=0, correction=0)
                ref = (Xt - mean) / std
                ours = transform(X, *fit_standard(X))
            else:
                low, high = torch.aminmax(Xt, dim=0)
                ref = (Xt - low) / (high - low)
                ours = transform(X, *fit_min_max(X))
            err = np.abs(ours - ref.numpy()).max()
            print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:leak_demo]
    X_tr, y_tr, X_te, y_te = drift_data(seed=0)
    print("std of feature 2, training split:", fit_standard(X_tr)[1][1].round(2))
    print("std of feature 2, all data:      ",
          fit_standard(np.vstack([X_tr, X_te]))[1][1].round(2))
    print("1-NN test accuracy, seed 0:",
          {name: float(score) for name, score in leak_scores(seed=0).items()})
    runs = [leak_scores(seed) for seed in range(30)]
    gaps = np.array([run["leaked"] - run["honest"] for run in runs])
    print(f"leaked - honest over 30 seeds: mean {gaps.mean():.3f}, "
          f"standard error {gaps.std(ddof=1) / np.sqrt(len(gaps)):.3f}")
    # --8<-- [end:leak_demo]

    # --8<-- [start:conditioning]
    X, y = conditioning_data()
    for name, features in [("raw", X), ("standardized", transform(X, *fit_standard(X)))]:
        D = with_intercept(features)
        kappa = np.linalg.cond(D.T @ D)
        steps, err = gd_least_squares(D, y)
        bound = np.ceil(np.log(1e-6) / np.log1p(-1 / kappa))  # (1 - 1/kappa)^t <= 1e-6
        print(f"{name:>12}: cond(X^T X) = {kappa:8.3g}, steps {steps:5d} "
              f"(bound {bound:8.0f}), relative error {err:.1e}")
    # --8<-- [end:conditioning]
