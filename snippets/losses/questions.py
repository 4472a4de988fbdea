r"""Demonstrations for the questions about classification losses.

1. L2 distance vs KL divergence between probability distributions.
2. MSE vs cross-entropy: the gradient a confident wrong prediction gets.
3. The cross-entropy of true-class probabilities 0.901 and 0.001.
4. Cross-entropy vs squared residuals as negative log-likelihoods, and both as proper
   scoring rules.

References: P. Golik, P. Doetsch and H. Ney, "Cross-Entropy vs. Squared Error
Training: a Theoretical and Experimental Comparison", Interspeech 2013; C. M. Bishop,
"Pattern Recognition and Machine Learning", Springer 2006, sections 4.3.2 and 5.2;
T. Gneiting and A. E. Raftery, "Strictly Proper Scoring Rules, Prediction, and
Estimation", JASA 2007. Checked against torch autograd, `torch.nn.functional` losses
and `torch.distributions`.
"""

# --8<-- [start:impl]
# --8<-- [start:l2_distance]
import numpy as np


def l2_distance(p, q):
    r"""Euclidean distance $\lVert p - q \rVert_2$ between distributions (last axis)."""
    return np.sqrt(((np.asarray(p) - np.asarray(q)) ** 2).sum(axis=-1))
# --8<-- [end:l2_distance]


# --8<-- [start:kl_divergence]
def kl_divergence(p, q):
    r"""$D_{\mathrm{KL}}(p \,\|\, q) = \sum_c p_c \log(p_c / q_c)$, with $0 \log 0 = 0$.

    Infinite when $q$ gives zero probability to an outcome that $p$ says can happen;
    NaN for a negative $p_c$, as in torch's `kl_div`.
    """
    p, q = np.asarray(p), np.asarray(q)
    with np.errstate(divide="ignore", invalid="ignore"):  # q = 0 where p > 0: infinite
        terms = np.where(p == 0, 0, p * (np.log(p) - np.log(q)))
    return terms.sum(axis=-1)
# --8<-- [end:kl_divergence]


# --8<-- [start:cross_entropy_of_true_class]
def cross_entropy_of_true_class(p_true):
    r"""Cross-entropy against a one-hot label: $-\log p_{\text{true}}$ (in nats)."""
    return -np.log(p_true)
# --8<-- [end:cross_entropy_of_true_class]


# --8<-- [start:sigmoid]
def sigmoid(z):
    r"""$\sigma(z) = 1 / (1 + e^{-z})$, without overflow for any $z$."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
# --8<-- [end:sigmoid]


# --8<-- [start:sigmoid_mse_grad]
def sigmoid_mse_grad(z, y):
    r"""$\frac{d}{dz}(\sigma(z) - y)^2 = 2(\sigma(z) - y)\,\sigma(z)\,\sigma(-z)$.

    $\sigma(z) - y$ is computed as $(1 - y)\,\sigma(z) - y\,\sigma(-z)$ and
    $1 - \sigma(z)$ as $\sigma(-z)$, so neither rounds to 0 for large $|z|$.
    """
    s, s_neg = sigmoid(z), sigmoid(-z)
    return 2 * ((1 - y) * s - y * s_neg) * s * s_neg  # s * s_neg vanishes for large |z|
# --8<-- [end:sigmoid_mse_grad]


# --8<-- [start:sigmoid_ce_grad]
def sigmoid_ce_grad(z, y):
    r"""$\frac{d}{dz}\,\text{BCE}(\sigma(z), y) = \sigma(z) - y$: nothing vanishes.

    Written as $(1 - y)\,\sigma(z) - y\,\sigma(-z)$, without the cancelling
    $\sigma(z) - 1$ at $y = 1$.
    """
    return (1 - y) * sigmoid(z) - y * sigmoid(-z)
# --8<-- [end:sigmoid_ce_grad]


# --8<-- [start:log_softmax]
def log_softmax(z, dim=-1):
    r"""$\log \operatorname{softmax}(z)$, with $\log(1 + \text{the others})$ by
    `log1p`: accurate also for a class whose probability is near 1."""
    shifted = z - z.max(axis=dim, keepdims=True)  # no exponent is positive
    others = np.exp(shifted)
    np.put_along_axis(others, np.argmax(shifted, axis=dim, keepdims=True), 0, axis=dim)
    return shifted - np.log1p(others.sum(axis=dim, keepdims=True))
# --8<-- [end:log_softmax]


# --8<-- [start:softmax_mse_grad]
def softmax_mse_grad(z, t):
    r"""Gradient of $\sum_c (p_c - t_c)^2$, $p = \operatorname{softmax}(z)$, w.r.t. $z$.

    $$\frac{\partial}{\partial z_c} = 2\,p_c\,\Bigl(d_c - \sum_k p_k d_k\Bigr),
      \qquad d = p - t$$

    Args:
        z: logits, shape (N, C).
        t: one-hot (or probability) targets, shape (N, C).

    Returns:
        Shape (N, C).
    """
    log_p = log_softmax(z)
    p = np.exp(log_p)
    d = p * (1 - t) + np.expm1(log_p) * t  # p - t, exact where t = 1 and p ~ 1
    return 2 * p * (d - (p * d).sum(axis=-1, keepdims=True))  # Jacobian^T (2d)
# --8<-- [end:softmax_mse_grad]


# --8<-- [start:softmax_ce_grad]
def softmax_ce_grad(z, t):
    r"""Gradient of $-\sum_c t_c \log p_c$ w.r.t. the logits: $p - t$ when the
    targets sum to 1.

    Computed as $p_c \sum_{k \ne c} t_k - t_c (1 - p_c)$, which subtracts nothing for a
    one-hot target.
    """
    log_p = log_softmax(z)
    rest = t.sum(axis=-1, keepdims=True) - t  # sum over k != c of t_k
    return np.exp(log_p) * rest + t * np.expm1(log_p)  # expm1(log p) = -(1 - p)
# --8<-- [end:softmax_ce_grad]


# --8<-- [start:fit_logistic]
def fit_logistic(x, y, loss, w=-10.0, b=0.0, lr=0.5, steps=200):
    r"""Gradient descent on $p_i = \sigma(w x_i + b)$ for `loss` "ce" or "mse" (means).

    Returns:
        The final (w, b) and the training accuracy.
    """
    grad_fn = sigmoid_ce_grad if loss == "ce" else sigmoid_mse_grad
    for _ in range(steps):
        g = grad_fn(w * x + b, y)  # d loss_i / d z_i
        w, b = w - lr * (g * x).mean(), b - lr * g.mean()  # chain rule: dz/dw = x
    accuracy = ((sigmoid(w * x + b) > 0.5) == (y == 1)).mean()
    return w, b, accuracy
# --8<-- [end:fit_logistic]


# --8<-- [start:expected_losses]
def expected_losses(pi, p):
    r"""Expected log loss and squared error of a forecast $p \in (0, 1)$ of an event
    that happens with probability $\pi \in [0, 1]$.

    $$\mathbb{E}[\text{log loss}] = -\pi \log p - (1 - \pi)\log(1 - p),\qquad
      \mathbb{E}[(y - p)^2] = \pi (1 - p)^2 + (1 - \pi)\,p^2$$

    Both are strictly proper scoring rules: minimised only at $p = \pi$.

    Returns:
        The two expectations, elementwise over `p` (and `pi`).
    """
    log_loss = -(pi * np.log(p) + (1 - pi) * np.log1p(-p))
    squared = pi * (1 - p) ** 2 + (1 - pi) * p**2
    return log_loss, squared
# --8<-- [end:expected_losses]


# --8<-- [start:bernoulli_nll]
def bernoulli_nll(p, y):
    r"""$-\sum_i [y_i \log p_i + (1 - y_i) \log(1 - p_i)]$, the summed BCE, with
    $0 \log 0 = 0$.

    Unlike torch, nothing is clamped: a label of probability 0 gives $+\infty$.

    Args:
        p: predicted probabilities in $[0, 1]$.
        y: labels in $[0, 1]$, same shape.

    Raises:
        ValueError: for a probability or label outside $[0, 1]$, or NaN.
    """
    p, y = np.asarray(p), np.asarray(y)
    if not (np.all((p >= 0) & (p <= 1)) and np.all((y >= 0) & (y <= 1))):
        raise ValueError("probabilities and labels must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):  # log 0, then 0 * -inf
        pos = np.where(y == 0, 0, y * np.log(p))
        neg = np.where(y == 1, 0, (1 - y) * np.log1p(-p))
    return (-pos - neg).sum()  # -(pos + neg).sum() would give -0.0 for a cost of 0
# --8<-- [end:bernoulli_nll]


# --8<-- [start:gaussian_nll]
def gaussian_nll(mu, y, sigma=1.0):
    r"""$-\sum_i \log \mathcal{N}(y_i; \mu_i, \sigma^2)
    = \frac{1}{2\sigma^2}\sum_i (y_i - \mu_i)^2 + \frac{n}{2}\log(2\pi\sigma^2)$.

    Args:
        mu: predicted means.
        y: observed values, same shape.
        sigma: the noise standard deviation, one positive number.

    Returns:
        The summed negative log-likelihood, in the dtype of $y - \mu$ (float32 stays
        float32).

    Raises:
        ValueError: if `sigma` is not positive.
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    r = np.asarray(y) - np.asarray(mu)
    if not np.issubdtype(r.dtype, np.floating):
        r = r.astype(np.float64)
    const = r.dtype.type(r.size / 2 * np.log(2 * np.pi * sigma**2))
    return (r**2).sum() / r.dtype.type(2 * sigma**2) + const
# --8<-- [end:gaussian_nll]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:q1]
    # Two pairs at the same L2 distance, with very different KL divergences
    pairs = {
        "p=(0.5, 0.5), q=(0.6, 0.4)": ([0.5, 0.5], [0.6, 0.4]),
        "p=(0.1, 0.9), q=(0.0, 1.0)": ([0.1, 0.9], [0.0, 1.0]),
    }
    for name, (p, q) in pairs.items():
        print(f"{name}: L2 {l2_distance(p, q):.4f}, KL(p||q) {kl_divergence(p, q):.4f}")

    # The true class is 0. Which prediction does each measure prefer?
    truth = np.array([1.0, 0.0, 0.0])
    says_impossible = np.array([0.0, 0.5, 0.5])  # probability 0 for what happened
    small_but_possible = np.array([0.1, 0.9, 0.0])
    for name, q in [("q_A = (0, .5, .5)", says_impossible),
                    ("q_B = (.1, .9, 0)", small_but_possible)]:
        with np.errstate(divide="ignore"):
            ce = cross_entropy_of_true_class(q[0])
        print(f"{name}: L2 {l2_distance(truth, q):.3f}, cross-entropy {ce:.3f}")
    # --8<-- [end:q1]

    # --8<-- [start:q2]
    z = np.array([-10.0, -5.0, -2.0, 0.0, 2.0])  # logit; the label is y = 1
    print("logit z          ", z)
    print("sigmoid(z)       ", sigmoid(z).round(5))
    print("MSE  dL/dz       ", sigmoid_mse_grad(z, 1.0).round(6))
    print("BCE  dL/dz       ", sigmoid_ce_grad(z, 1.0).round(6))
    # softmax, 3 classes, label 0, the network is sure of class 1
    logits = np.array([[0.0, 8.0, 0.0]])
    onehot = np.array([[1.0, 0.0, 0.0]])
    print("softmax MSE grad ", softmax_mse_grad(logits, onehot).round(6))
    print("softmax CE grad  ", softmax_ce_grad(logits, onehot).round(6))
    # training from a confidently wrong start (w = -10): labels are 1 for x > 0
    x = np.linspace(-3, 3, 40)
    y = (x > 0).astype(float)
    for loss in ("mse", "ce"):
        w, b, acc = fit_logistic(x, y, loss)
        print(f"{loss.upper():>3} after 200 steps: w = {w:+.2f}, accuracy {acc:.2f}")
    # --8<-- [end:q2]

    # --8<-- [start:q3]
    for p_true in (0.901, 0.001):
        ce = cross_entropy_of_true_class(p_true)
        print(f"p(true class) = {p_true}: cross-entropy {ce:.3f} nats "
              f"({ce / np.log(2):.2f} bits)")
    ratio = cross_entropy_of_true_class(0.001) / cross_entropy_of_true_class(0.901)
    print(f"ratio {ratio:.0f}x; squared error (1 - p)^2: "
          f"{(1 - 0.901) ** 2:.4f} vs {(1 - 0.001) ** 2:.4f}")
    # --8<-- [end:q3]

    # --8<-- [start:q4]
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, size=8)  # a model's predicted P(y = 1)
    y = (rng.uniform(size=8) < p).astype(float)  # labels drawn from it
    ssr = ((y - p) ** 2).sum()
    print("Bernoulli NLL          ", bernoulli_nll(p, y))
    print("Gaussian NLL (sigma=1) ", gaussian_nll(p, y))
    print("SSR / 2 + (n/2) log 2pi", ssr / 2 + y.size / 2 * np.log(2 * np.pi))
    # what each likelihood says about "labels" that are not 0 or 1
    density = [np.exp(-gaussian_nll([0.9], [label])) for label in (0.5, 3.0)]
    print("Gaussian density of y = 0.5 and y = 3 given mu = 0.9:", np.round(density, 4))
    # --8<-- [end:q4]

    # --8<-- [start:proper]
    forecasts = np.linspace(0.001, 0.999, 999)
    for pi in (0.1, 0.3, 0.8):  # the true probability of the event
        log_loss, squared = expected_losses(pi, forecasts)
        print(f"pi = {pi}: best forecast under log loss "
              f"{forecasts[log_loss.argmin()]:.3f}, "
              f"under squared error {forecasts[squared.argmin()]:.3f}")
    for p_bad in (0.1, 0.01, 0.001):  # the event happens; the forecast said p_bad
        log_loss, squared = expected_losses(1.0, p_bad)
        print(f"event happens, forecast {p_bad}: log loss {log_loss:.2f}, "
              f"squared error {squared:.4f}")
    # --8<-- [end:proper]

    # --8<-- [start:check_grads]
    import torch
    F = torch.nn.functional

    references = {  # our gradient helper and the torch loss autograd differentiates
        "mse_loss(sigmoid(z), y)": (sigmoid_mse_grad, lambda a, b: F.mse_loss(
            torch.sigmoid(a), b, reduction="sum")),
        "binary_cross_entropy_with_logits": (sigmoid_ce_grad, lambda a, b: (
            F.binary_cross_entropy_with_logits(a, b, reduction="sum"))),
        "mse_loss(softmax(z), t)": (softmax_mse_grad, lambda a, b: F.mse_loss(
            torch.softmax(a, -1), b, reduction="sum")),
        "cross_entropy": (softmax_ce_grad, lambda a, b: F.cross_entropy(
            a, b, reduction="sum")),
    }
    rng = np.random.default_rng(1)
    errors = {name: {} for name in references}
    for dtype in (np.float64, np.float32):
        z = (rng.normal(size=(16, 4)) * 5).astype(dtype)  # softmax logits
        t = np.eye(4, dtype=dtype)[rng.integers(0, 4, size=16)]
        zb = (rng.normal(size=16) * 5).astype(dtype)  # sigmoid logits
        yb = rng.integers(0, 2, size=16).astype(dtype)
        for name, (ours, loss) in references.items():
            binary = "sigmoid" in name or "binary" in name
            logits, target = (zb, yb) if binary else (z, t)
            zt = torch.tensor(logits, requires_grad=True)
            loss(zt, torch.tensor(target)).backward()
            err = np.abs(ours(logits, target) - zt.grad.numpy()).max()
            errors[name][np.dtype(dtype).name] = err
    for name, by_dtype in errors.items():
        print(f"checked against torch autograd of {name}")
        for dtype_name, err in by_dtype.items():
            print(f"{dtype_name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check_grads]

    # --8<-- [start:check_values]
    errors = {}
    for dtype in (np.float64, np.float32):
        z = (rng.normal(size=(16, 4)) * 5).astype(dtype)
        labels = rng.integers(0, 4, size=16)
        p, q = np.exp(log_softmax(z[:, ::-1])), np.exp(log_softmax(z))
        log_q, pt = torch.tensor(np.log(q)), torch.tensor(p)
        probs = rng.uniform(0.05, 0.95, size=16).astype(dtype)
        y = rng.integers(0, 2, size=16).astype(dtype)
        probs_t, yt = torch.tensor(probs), torch.tensor(y)
        rows = {
            "torch.nn.functional.kl_div": (kl_divergence(p, q), F.kl_div(
                log_q, pt, reduction="none").sum(-1)),
            "torch.nn.functional.cross_entropy": (
                cross_entropy_of_true_class(q[np.arange(16), labels]),
                F.cross_entropy(log_q, torch.tensor(labels), reduction="none")),
            "torch.distributions.Bernoulli.log_prob": (bernoulli_nll(probs, y), -(
                torch.distributions.Bernoulli(probs=probs_t).log_prob(yt).sum())),
            "torch.distributions.Normal.log_prob": (gaussian_nll(probs, y), -(
                torch.distributions.Normal(probs_t, 1.0).log_prob(yt).sum())),
        }
        for name, (ours, theirs) in rows.items():
            err = np.abs(ours - theirs.numpy()).max()
            errors.setdefault(name, {})[np.dtype(dtype).name] = err
    for name, by_dtype in errors.items():
        print(f"checked against {name}")
        for dtype_name, err in by_dtype.items():
            print(f"{dtype_name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check_values]
