r"""Gradient descent, stochastic and mini-batch gradient descent on least squares.

The optimum is checked against `numpy.linalg.lstsq`, the loss and its gradient against
`torch.nn.functional.mse_loss` and autograd. The variance of a mini-batch gradient is
measured against its exact value $\operatorname{tr}\Sigma / B$ (sampling with replacement)
and $\operatorname{tr}\Sigma / B \cdot (N - B)/(N - 1)$ (without replacement).
"""

# --8<-- [start:impl]
# --8<-- [start:problem]
import numpy as np


def make_problem(n=200, d=5, noise=0.5, seed=0):
    r"""A linear regression problem whose features have different scales.

    $$y = X w_{\text{true}} + \text{noise}$$

    Args:
        n: number of examples $N$.
        d: number of features.
        noise: standard deviation of the Gaussian noise added to the targets.
        seed: random seed.

    Returns:
        `(X, y)` of shapes (n, d) and (n,).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(1.0, 0.25, d)  # column scales 1 .. 0.25
    y = X @ rng.normal(size=d) + noise * rng.normal(size=n)
    return X, y


def loss(w, X, y):
    r"""Mean squared error of the linear model $Xw$.

    $$f(w) = \frac{1}{N} \lVert X w - y \rVert^2$$
    """
    return np.mean((X @ w - y) ** 2)


def gradient(w, X, y):
    r"""Gradient of the mean squared error over the rows of `X` (a batch or all the data).

    $$\nabla f(w) = \frac{2}{N} X^\top (X w - y)$$
    """
    return 2 * X.T @ (X @ w - y) / len(y)  # (d,)
# --8<-- [end:problem]


# --8<-- [start:gd]
def gradient_descent(X, y, lr, tol=1e-10, max_steps=100_000):
    r"""Full-batch gradient descent from $w = 0$.

    $$w_{t+1} = w_t - \eta \nabla f(w_t)$$

    Args:
        X: inputs, shape (N, d).
        y: targets, shape (N,).
        lr: learning rate $\eta$.
        tol: stop when the gradient's norm has fallen to `tol` times its first value.
        max_steps: stop after this many steps in any case.

    Returns:
        `(w, steps)`: the last iterate and the number of steps taken.
    """
    w = np.zeros(X.shape[1], dtype=X.dtype)
    first = np.linalg.norm(gradient(w, X, y))
    for step in range(max_steps):
        g = gradient(w, X, y)
        if np.linalg.norm(g) <= tol * first:
            return w, step
        w = w - lr * g
    return w, max_steps
# --8<-- [end:gd]


# --8<-- [start:sgd]
def sgd(X, y, lr, batch_size, epochs, decay=None, seed=0):
    r"""Mini-batch SGD from $w = 0$: each epoch shuffles the data and steps once per batch.

    $$w_{t+1} = w_t - \eta_t \nabla f_{\mathcal B_t}(w_t), \qquad
    \eta_t = \eta \frac{\tau}{\tau + t} \text{ (or } \eta \text{ if no decay)}$$

    Args:
        X: inputs, shape (N, d).
        y: targets, shape (N,).
        lr: the first learning rate $\eta$.
        batch_size: $B$; `batch_size=1` is SGD in its original sense. The last batch of an
            epoch is smaller when $B$ does not divide $N$.
        epochs: passes over the data.
        decay: $\tau > 0$, in steps, or `None` for a constant rate.
        seed: random seed of the shuffles.

    Returns:
        The iterates at the end of each epoch, shape (epochs + 1, d), starting with $w = 0$.
    """
    if batch_size < 1 or (decay is not None and decay <= 0):
        raise ValueError("batch_size must be at least 1 and decay positive (or None)")
    rng = np.random.default_rng(seed)
    w = np.zeros(X.shape[1], dtype=X.dtype)
    path, t = [w], 0
    for _ in range(epochs):
        order = rng.permutation(len(y))  # every example once per epoch
        for start in range(0, len(y), batch_size):
            batch = order[start : start + batch_size]
            rate = lr if decay is None else lr * decay / (decay + t)
            w = w - rate * gradient(w, X[batch], y[batch])
            t += 1
        path.append(w)
    return np.array(path)
# --8<-- [end:sgd]


# --8<-- [start:variance]
def batch_gradient_spread(X, y, w, batch_size, n_batches=4000, replace=True, seed=0):
    r"""Squared distances of mini-batch gradients from the full gradient, one per batch.

    Their mean estimates $\mathbb E \lVert g_{\mathcal B} - \nabla f \rVert^2$, the total
    variance of the mini-batch gradient.

    Args:
        X: inputs, shape (N, d).
        y: targets, shape (N,).
        w: the weights at which the gradients are taken.
        batch_size: $B \ge 1$.
        n_batches: number of batches drawn.
        replace: draw each batch's examples with replacement (independently), or without
            (a random subset of $B$ distinct examples, $B \le N$).
        seed: random seed.

    Returns:
        An array of shape (n_batches,).
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not replace and batch_size > n:
        raise ValueError(f"a batch without replacement has at most N = {n} examples")
    per_example = 2 * X * (X @ w - y)[:, None]  # (N, d): each example's gradient
    if replace:
        idx = rng.integers(0, n, size=(n_batches, batch_size))
    else:
        idx = np.argsort(rng.random((n_batches, n)), axis=1)[:, :batch_size]
    full = per_example.mean(axis=0)  # (d,)
    deviation = per_example[idx].mean(axis=1) - full  # (n_batches, d)
    return np.sum(deviation**2, axis=1)


def predicted_variance(X, y, w, batch_size, replace=True):
    r"""Exact total variance of the mean gradient of a random batch.

    $$\frac{\operatorname{tr}\Sigma}{B}, \qquad \text{or} \qquad
    \frac{\operatorname{tr}\Sigma}{B} \cdot \frac{N - B}{N - 1} \text{ without replacement,}$$

    with $\operatorname{tr}\Sigma = \frac1N \sum_i \lVert g_i - \nabla f \rVert^2$.
    """
    n = len(y)
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if not replace and batch_size > n:
        raise ValueError(f"a batch without replacement has at most N = {n} examples")
    per_example = 2 * X * (X @ w - y)[:, None]
    trace = np.mean(np.sum((per_example - per_example.mean(axis=0)) ** 2, axis=1))
    return trace / batch_size * (1 if replace else (n - batch_size) / max(n - 1, 1))
# --8<-- [end:variance]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:gd_demo]
    X, y = make_problem()
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]  # the closed-form optimum
    H = 2 * X.T @ X / len(y)  # the Hessian of f, constant
    mu, L = np.linalg.eigvalsh(H)[[0, -1]]
    w, steps = gradient_descent(X, y, lr=1 / L, tol=1e-10)
    bound = int(np.ceil(np.log(1e-10) / np.log(1 - mu / L)))
    print(f"L = {L:.3f}, mu = {mu:.3f}, condition number {L / mu:.1f}")
    print(f"steps {steps} (bound {bound}), |w - w*| = {np.linalg.norm(w - w_star):.1e}")
    # --8<-- [end:gd_demo]

    # --8<-- [start:sgd_demo]
    def distance(path):
        return np.linalg.norm(path - w_star, axis=-1)  # to the optimum

    gd_path = [gradient_descent(X, y, 1 / L, tol=0, max_steps=k)[0] for k in range(51)]
    runs = {
        "GD, lr 1/L": np.array(gd_path),  # one step per epoch
        "B=1, constant": sgd(X, y, 0.1 / L, 1, 50),
        "B=1, decaying": sgd(X, y, 0.1 / L, 1, 50, decay=400),
        "B=16, decaying": sgd(X, y, 0.5 / L, 16, 50, decay=100),
    }
    print("epochs          " + "".join(f"{e:>9d}" for e in (1, 5, 20, 50)))
    for name, path in runs.items():
        print(f"{name:16s}" + "".join(f"{distance(path[e]):9.1e}" for e in (1, 5, 20, 50)))
    # --8<-- [end:sgd_demo]

    # --8<-- [start:variance_demo]
    w0 = np.zeros(X.shape[1])  # where training starts
    print(f"squared norm of the gradient at w = 0: {np.sum(gradient(w0, X, y)**2):.4f}")
    print("   B   with repl.   trΣ/B   without   trΣ/B·(N-B)/(N-1)")
    for B in (1, 4, 16, 64, 200):
        with_r = batch_gradient_spread(X, y, w0, B).mean()
        without = batch_gradient_spread(X, y, w0, B, replace=False).mean()
        print(f"{B:4d} {with_r:11.4f} {predicted_variance(X, y, w0, B):9.4f}"
              f" {without:9.4f} {predicted_variance(X, y, w0, B, replace=False):11.4f}")
    # --8<-- [end:variance_demo]

    # --8<-- [start:check]
    import torch
    import torch.nn.functional as F

    print("checked against torch.nn.functional.mse_loss")
    for dtype in (np.float64, np.float32):
        Xd, yd = X.astype(dtype), y.astype(dtype)
        wd = np.random.default_rng(1).normal(size=X.shape[1]).astype(dtype)
        wt = torch.tensor(wd, requires_grad=True)
        ref = F.mse_loss(torch.tensor(Xd) @ wt, torch.tensor(yd))
        ref.backward()
        value_err = abs(loss(wd, Xd, yd) - ref.item())
        grad_err = np.abs(gradient(wd, Xd, yd) - wt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")

    print("checked against numpy.linalg.lstsq")
    for dtype in (np.float64, np.float32):
        Xd, yd = X.astype(dtype), y.astype(dtype)
        w_ref = np.linalg.lstsq(Xd, yd, rcond=None)[0]
        w_gd, _ = gradient_descent(Xd, yd, lr=dtype(1 / L), tol=0, max_steps=1000)
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - reference| value {np.abs(w_gd - w_ref).max():.1e}")
    # --8<-- [end:check]
