r"""Learning paradigms: supervised, unsupervised, self-supervised and semi-supervised learning,
and pool-based active learning, each on a small synthetic problem.

Logistic regression (fitted by Newton's method) is checked against
`torch.nn.functional.binary_cross_entropy_with_logits` and autograd, the k-means assignment
step against `torch.cdist(...).argmin`, and the masked-coordinate regressions against the
autograd gradient of their objective, which must vanish at the fit.
"""

# --8<-- [start:impl]
# --8<-- [start:logistic]
import numpy as np


def sigmoid(z):
    """The logistic function, written with tanh so that it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def logistic_loss(theta, x, y, l2=0.0):
    r"""Mean logistic loss of a linear classifier, plus an L2 penalty on the weights.

    $$L(\theta) = \frac{1}{n} \sum_{i=1}^{n} \big[\log(1 + e^{z_i}) - y_i z_i\big]
    + \frac{\lambda}{2} \lVert w \rVert_2^2, \qquad z_i = w^\top x_i + b$$

    Args:
        theta: (d + 1,) weights $w$ followed by the bias $b$.
        x: (n, d) inputs.
        y: (n,) labels in {0, 1}.
        l2: the penalty $\lambda \ge 0$ (the bias is not penalized).

    Returns:
        `(loss, grad)`: the scalar loss and its (d + 1,) gradient.
    """
    X = np.c_[x, np.ones(len(x), dtype=x.dtype)]  # (n, d + 1): ones for the bias
    z = X @ theta  # (n,) logits
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * theta[:-1] @ theta[:-1]
    grad = X.T @ (sigmoid(z) - y) / len(y)
    grad[:-1] += l2 * theta[:-1]
    return loss, grad
# --8<-- [end:logistic]


# --8<-- [start:fit]
def fit_logistic(x, y, l2=1e-3, theta=None, steps=50):
    r"""Minimize `logistic_loss` by Newton's method (few steps in low dimensions).

    Args:
        x: (n, d) inputs.
        y: (n,) labels in {0, 1}; with labels of one class only there is no finite
            minimum (the bias grows at every step) and the fit stops after `steps`.
        l2: the L2 penalty $\lambda > 0$; it keeps the weights finite when the labelled
            points are linearly separable (the unpenalized Newton iteration diverges there).
        theta: optional (d + 1,) starting point (warm start); zeros by default.
        steps: the maximum number of Newton steps.

    Returns:
        The fitted (d + 1,) parameters.

    Raises:
        ValueError: if `l2` is not positive and finite.
    """
    if not 0 < l2 < np.inf:  # also refuses NaN
        raise ValueError(f"fit_logistic needs a finite penalty l2 > 0, got {l2}")
    X = np.c_[x, np.ones(len(x))]
    theta = np.zeros(X.shape[1]) if theta is None else theta.copy()
    penalty = l2 * np.eye(X.shape[1])
    penalty[-1, -1] = 1e-9  # keeps H invertible; the bias is not penalized in the loss
    for _ in range(steps):
        loss, grad = logistic_loss(theta, x, y, l2)
        p = sigmoid(X @ theta)
        hess = (X * (p * (1 - p))[:, None]).T @ X / len(y) + penalty
        step = np.linalg.solve(hess, grad)
        # damped Newton: halve the step while it would raise the loss
        while (logistic_loss(theta - step, x, y, l2)[0] > loss
               and abs(step).max() > 1e-12):
            step /= 2
        theta -= step
        if np.abs(step).max() < 1e-10:
            break
    return theta


def accuracy(theta, x, y):
    """Fraction of points on the correct side of the boundary w.x + b = 0."""
    return np.mean((np.c_[x, np.ones(len(x))] @ theta > 0) == (y == 1))
# --8<-- [end:fit]


# --8<-- [start:blobs]
def blobs(centres, per_blob, seed, spread=1.0):
    """Gaussian blobs: per_blob points around each centre, labelled by blob index."""
    rng = np.random.default_rng(seed)
    centres = np.asarray(centres, dtype=float)
    y = np.repeat(np.arange(len(centres)), per_blob)
    return centres[y] + spread * rng.normal(size=(len(y), centres.shape[1])), y
# --8<-- [end:blobs]


# --8<-- [start:kmeans]
def assign(x, centres):
    """Index of each point's nearest centre (squared distance; first one on a tie)."""
    d2 = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(-1)  # (n, k)
    return d2.argmin(1)


def kmeans(x, k, seed, iters=20):
    r"""Lloyd's algorithm: alternate assigning points to the nearest centre and moving
    each centre to the mean of its points.

    $$\text{WCSS} = \sum_{i=1}^{n} \lVert x_i - \mu_{c_i} \rVert_2^2$$

    Args:
        x: (n, d) finite points.
        k: number of clusters, $1 \le k \le n$.
        seed: seed of the initial centres ($k$ points of `x` at different rows).
        iters: number of assignment/update rounds.

    Returns:
        `(centres, labels, wcss)`: (k, d) centres, (n,) cluster of each point, and the
        within-cluster sum of squares after each round.

    Raises:
        ValueError: if `k` is outside $[1, n]$ or `x` holds NaN or infinity.
    """
    if not 1 <= k <= len(x):
        raise ValueError(f"kmeans needs 1 <= k <= n, got k={k} for n={len(x)} points")
    if not np.all(np.isfinite(x)):  # a NaN centre would win every argmin
        raise ValueError("kmeans needs finite points")
    rng = np.random.default_rng(seed)
    centres = x[rng.choice(len(x), size=k, replace=False)].astype(float)
    wcss = []
    for _ in range(iters):
        labels = assign(x, centres)
        for j in range(k):
            if np.any(labels == j):  # an empty cluster keeps its centre
                centres[j] = x[labels == j].mean(0)
        wcss.append(((x - centres[labels]) ** 2).sum())
    return centres, labels, wcss
# --8<-- [end:kmeans]


# --8<-- [start:world]
DIM = 10
_fixed = np.random.default_rng(0)
MIX = _fixed.normal(size=(2, DIM))  # two hidden factors spread over 10 coordinates
NOISE = np.where(np.arange(DIM) < 5, 2.0, 0.3)  # five very noisy coordinates, five not


def world(n, seed):
    r"""Points driven by two hidden factors; the first factor carries the class.

    $$x = z M + \varepsilon, \quad z_1 = \pm 1.5 + 0.7 u, \quad z_2 = 1.5 v, \quad
    \varepsilon_j \sim \mathcal{N}(0, \sigma_j^2)$$

    Args:
        n: number of points.
        seed: seed of the draw.

    Returns:
        `(x, y)`: (n, 10) points and (n,) labels in {0, 1}.
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    z = np.c_[(2 * y - 1) * 1.5 + 0.7 * rng.normal(size=n), 1.5 * rng.normal(size=n)]
    return z @ MIX + NOISE * rng.normal(size=(n, DIM)), y
# --8<-- [end:world]


# --8<-- [start:masked]
def fit_masked(x, ridge=1e-3):
    r"""Pretext task: predict each coordinate from all the others (ridge regressions).

    $$\hat x_j = \mu_j + \sum_{l \ne j} W_{lj} (x_l - \mu_l), \qquad
    W_{\cdot j} = \arg\min_{w} \frac{1}{n} \sum_{i} \Big(x_{ij} - \mu_j
    - \sum_{l \ne j} w_l (x_{il} - \mu_l)\Big)^2 + \rho \lVert w \rVert_2^2$$

    Args:
        x: (n, d) unlabelled points.
        ridge: the penalty $\rho > 0$.

    Returns:
        `(represent, W, mu)`: the map $x \mapsto \hat x$, the (d, d) weights with a zero
        diagonal, and the (d,) mean.
    """
    n, d = x.shape
    mu = x.mean(0)
    xc = x - mu
    W = np.zeros((d, d))
    for j in range(d):
        rest = np.arange(d) != j  # the other coordinates; x_j itself is masked
        A = xc[:, rest]
        gram = A.T @ A / n + ridge * np.eye(d - 1)
        W[rest, j] = np.linalg.solve(gram, A.T @ xc[:, j] / n)
    return (lambda v: (v - mu) @ W + mu), W, mu
# --8<-- [end:masked]


# --8<-- [start:pseudo]
def pseudo_label(x_lab, y_lab, x_unlab, l2=0.1, rounds=10, threshold=0.5):
    """Self-training: refit on the labels plus the model's own confident guesses."""
    theta = fit_logistic(x_lab, y_lab, l2)
    for _ in range(rounds):
        p = sigmoid(np.c_[x_unlab, np.ones(len(x_unlab))] @ theta)  # P(y = 1)
        keep = np.maximum(p, 1 - p) >= threshold  # confident enough to use
        guesses = (p[keep] > 0.5).astype(float)
        x_all, y_all = np.r_[x_lab, x_unlab[keep]], np.r_[y_lab, guesses]
        theta = fit_logistic(x_all, y_all, l2, theta=theta)
    return theta


def two_clusters(n, seed, classes_follow_clusters=True):
    """Two tight clusters apart along the first axis, wide along the four others."""
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 2, n)
    x = 1.5 * rng.normal(size=(n, 5))
    x[:, 0] = 0.7 * rng.normal(size=n) + (2 * cluster - 1) * 2.0
    y = cluster if classes_follow_clusters else (x[:, 1] > 0).astype(int)
    return x, y
# --8<-- [end:pseudo]


# --8<-- [start:active]
def line_task(n, seed):
    """Points uniform in the square [-1, 1]^2, labelled by the side of a fixed line."""
    x = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2))
    return x, (x @ np.array([1.0, 0.5]) > 0.2).astype(int)


def learning_curve(strategy, seed, budget=100, pool=1000):
    """Test accuracy after each new label, querying the pool by `strategy`.

    "uncertainty" labels the pool point nearest the current boundary (smallest |w.x + b|);
    "random" labels a pool point drawn at random. Both start from one random point of
    each class.
    """
    rng = np.random.default_rng(seed)
    x, y = line_task(pool, seed)
    x_test, y_test = line_task(2000, seed + 10_000)
    labelled = [rng.choice(np.flatnonzero(y == c)) for c in (0, 1)]
    unlabelled = np.setdiff1d(np.arange(pool), labelled)
    curve, theta = [], None
    while True:
        theta = fit_logistic(x[labelled], y[labelled], theta=theta)
        curve.append(accuracy(theta, x_test, y_test))
        if len(labelled) == budget:
            return np.array(curve)  # curve[m - 2] is the accuracy with m labels
        if strategy == "uncertainty":
            margin = np.abs(np.c_[x[unlabelled], np.ones(len(unlabelled))] @ theta)
            pick = margin.argmin()
        else:
            pick = rng.integers(len(unlabelled))
        labelled.append(unlabelled[pick])  # the oracle reveals y for this point
        unlabelled = np.delete(unlabelled, pick)
# --8<-- [end:active]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:supervised]
    x, y = blobs([[-1.5, 0.0], [1.5, 0.0]], per_blob=50, seed=0)  # labelled by people
    x_test, y_test = blobs([[-1.5, 0.0], [1.5, 0.0]], per_blob=500, seed=1)
    theta = fit_logistic(x, y)
    loss, grad = logistic_loss(theta, x, y, l2=1e-3)
    print(f"weights {np.round(theta[:2], 3)}, bias {theta[2]:.3f}")
    print(f"training loss {loss:.4f}, |gradient| {np.abs(grad).max():.1e}")
    print(f"test accuracy {accuracy(theta, x_test, y_test):.3f}")
    # --8<-- [end:supervised]

    # --8<-- [start:unsupervised]
    x, y = blobs([[0, 0], [4, 0], [2, 3]], per_blob=100, seed=0, spread=0.8)  # y unused
    centres, labels, wcss = kmeans(x, k=3, seed=0, iters=6)
    print("WCSS after each round:", np.round(wcss, 1))
    print("centres:", np.round(centres, 2).tolist())
    # --8<-- [end:unsupervised]

    # --8<-- [start:selfsup]
    for per_class in (2, 5):
        raw, learned = [], []
        for seed in range(10):
            x_unlab, _ = world(2000, seed + 500)  # plenty of unlabelled data
            represent, _, _ = fit_masked(x_unlab)  # pretext task: no labels used
            x, y = world(1000, seed)
            x_test, y_test = world(2000, seed + 999)
            pick = np.r_[np.flatnonzero(y == 0)[:per_class],
                         np.flatnonzero(y == 1)[:per_class]]
            raw.append(accuracy(fit_logistic(x[pick], y[pick]), x_test, y_test))
            theta = fit_logistic(represent(x[pick]), y[pick])
            learned.append(accuracy(theta, represent(x_test), y_test))
        print(f"{2 * per_class:2d} labels: raw inputs {np.mean(raw):.3f}, "
              f"pretext features {np.mean(learned):.3f}")
    # --8<-- [end:selfsup]

    # --8<-- [start:semi]
    import itertools

    for l2, follows in itertools.product((0.1, 1e-3), (True, False)):
        alone, pseudo = [], []
        for seed in range(20):
            x, y = two_clusters(300, seed, follows)
            x_test, y_test = two_clusters(2000, seed + 999, follows)
            pick = np.r_[np.flatnonzero(y == 0)[:2], np.flatnonzero(y == 1)[:2]]
            rest = np.setdiff1d(np.arange(len(x)), pick)  # their labels are never used
            theta = fit_logistic(x[pick], y[pick], l2)  # the same penalty for both fits
            alone.append(accuracy(theta, x_test, y_test))
            theta = pseudo_label(x[pick], y[pick], x[rest], l2)
            pseudo.append(accuracy(theta, x_test, y_test))
        print(f"lambda {l2:<6g} classes follow clusters: {follows!s:5s}  "
              f"4 labels alone {np.mean(alone):.3f}, "
              f"+ pseudo-labels {np.mean(pseudo):.3f}")
    # --8<-- [end:semi]

    # --8<-- [start:compare]
    curves = {s: np.mean([learning_curve(s, seed) for seed in range(5)], axis=0)
              for s in ("random", "uncertainty")}
    budgets = (4, 10, 20, 40, 100)
    print("labels m    " + "".join(f"{m:7d}" for m in budgets) + "   m for 0.97")
    for s, curve in curves.items():
        first = np.flatnonzero(curve >= 0.97)  # curve[m - 2]: accuracy with m labels
        need = first[0] + 2 if len(first) else "> 100"
        row = "".join(f"{curve[m - 2]:7.3f}" for m in budgets)
        print(f"{s:12s}{row}   {need:>11}")
    # --8<-- [end:compare]

    # --8<-- [start:check]
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    print("checked against torch.nn.functional.binary_cross_entropy_with_logits")
    for dtype in (np.float64, np.float32):
        x = rng.normal(size=(20, 3)).astype(dtype)
        y = rng.integers(0, 2, 20).astype(dtype)
        theta = (10 * rng.normal(size=4)).astype(dtype)  # large logits
        loss, grad = logistic_loss(theta, x, y)
        t = torch.tensor(theta, requires_grad=True)
        z = torch.tensor(x) @ t[:-1] + t[-1]
        ref = F.binary_cross_entropy_with_logits(z, torch.tensor(y))
        ref.backward()
        e_val = abs(loss - ref.item()) / abs(ref.item())
        e_grad = np.abs(grad - t.grad.numpy()).max()
        print(f"{np.dtype(dtype).name}: max |ours - torch| relative value {e_val:.1e}, "
              f"grad {e_grad:.1e}")

    print("checked against torch.cdist(...).argmin (assignment step)")
    for dtype in (np.float64, np.float32):
        x = rng.normal(size=(500, 2)).astype(dtype)
        c = rng.normal(size=(4, 2)).astype(dtype)
        ref = torch.cdist(torch.tensor(x), torch.tensor(c)).argmin(1).numpy()
        err = np.abs(assign(x, c) - ref).max()  # differences of cluster indices
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")

    print("checked against torch.autograd (pretext objective's gradient at the fit)")
    x, _ = world(500, 0)
    _, W, mu = fit_masked(x)
    Wt = torch.tensor(W, requires_grad=True)
    xc = torch.tensor(x - mu)
    mask = 1 - torch.eye(DIM, dtype=torch.float64)  # no coordinate predicts itself
    pred = xc @ (Wt * mask)
    objective = ((pred - xc) ** 2).mean(0).sum() + 1e-3 * ((Wt * mask) ** 2).sum()
    objective.backward()
    err = (Wt.grad * mask).abs().max().item()
    print(f"float64: max |ours - reference| value {err:.1e}")
    # --8<-- [end:check]
