r"""Demonstrations for the questions about classification losses.

1. L2 distance vs KL divergence between probability distributions.
2. MSE vs cross-entropy: the gradient a confident wrong prediction gets.
3. The cross-entropy of true-class probabilities 0.901 and 0.001.
4. Cross-entropy vs squared residuals as negative log-likelihoods.

References: P. Golik, P. Doetsch and H. Ney, "Cross-Entropy vs. Squared Error
Training: a Theoretical and Experimental Comparison", Interspeech 2013; C. M. Bishop,
"Pattern Recognition and Machine Learning", Springer 2006, sections 4.3.2 and 5.2.
Checked against torch autograd and `torch.nn.functional` losses.
"""

# --8<-- [start:impl]
import numpy as np


def sigmoid(z):
    r"""$\sigma(z) = 1 / (1 + e^{-z})$, without overflow for any $z$."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softmax(z, dim=-1):
    r"""$e^{z_c - m} / \sum_k e^{z_k - m}$ with $m = \max_k z_k$."""
    e = np.exp(z - z.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def l2_distance(p, q):
    r"""Euclidean distance $\lVert p - q \rVert_2$ between distributions (last axis)."""
    return np.sqrt(((np.asarray(p) - np.asarray(q)) ** 2).sum(axis=-1))


def kl_divergence(p, q):
    r"""$D_{\mathrm{KL}}(p \,\|\, q) = \sum_c p_c \log(p_c / q_c)$, with $0 \log 0 = 0$.

    Infinite when $q$ gives zero probability to an outcome that $p$ says can happen.
    """
    p, q = np.asarray(p), np.asarray(q)
    with np.errstate(divide="ignore"):  # q = 0 where p > 0: the divergence is infinite
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - np.log(q)), 0)
    return terms.sum(axis=-1)


def cross_entropy_of_true_class(p_true):
    r"""Cross-entropy against a one-hot label: $-\log p_{\text{true}}$ (in nats)."""
    return -np.log(p_true)


def sigmoid_mse_grad(z, y):
    r"""$\frac{d}{dz}(\sigma(z) - y)^2 = 2(\sigma(z) - y)\,\sigma(z)(1 - \sigma(z))$."""
    s = sigmoid(z)
    return 2 * (s - y) * s * (1 - s)  # the factor s (1 - s) vanishes as |z| grows


def sigmoid_ce_grad(z, y):
    r"""$\frac{d}{dz}\,\text{BCE}(\sigma(z), y) = \sigma(z) - y$: nothing vanishes."""
    return sigmoid(z) - y


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
    p = softmax(z)
    d = p - t
    return 2 * p * (d - (p * d).sum(axis=-1, keepdims=True))  # Jacobian^T (2d)


def softmax_ce_grad(z, t):
    r"""Gradient of $-\sum_c t_c \log p_c$ w.r.t. logits: $p - t$ (targets sum to 1)."""
    return softmax(z) - t


def bernoulli_nll(p, y):
    r"""$-\sum_i [y_i \log p_i + (1 - y_i) \log(1 - p_i)]$: summed BCE."""
    return -(y * np.log(p) + (1 - y) * np.log1p(-p)).sum()


def gaussian_nll(mu, y, sigma=1.0):
    r"""$-\sum_i \log \mathcal{N}(y_i; \mu_i, \sigma^2)
    = \frac{1}{2\sigma^2}\sum_i (y_i - \mu_i)^2 + \frac{n}{2}\log(2\pi\sigma^2)$."""
    r = np.asarray(y) - np.asarray(mu)
    return (r**2).sum() / (2 * sigma**2) + r.size / 2 * np.log(2 * np.pi * sigma**2)


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

    # --8<-- [start:check]
    import torch
    F = torch.nn.functional

    rng = np.random.default_rng(1)
    for dtype in (np.float64, np.float32):
        z = (rng.normal(size=(16, 4)) * 5).astype(dtype)
        labels = rng.integers(0, 4, size=16)
        t = np.eye(4, dtype=dtype)[labels]
        zb = (rng.normal(size=16) * 5).astype(dtype)
        yb = rng.integers(0, 2, size=16).astype(dtype)
        grads = []
        for ours, fn, zz, tt in [
            (sigmoid_mse_grad,
             lambda a, b: F.mse_loss(torch.sigmoid(a), b, reduction="sum"), zb, yb),
            (sigmoid_ce_grad, lambda a, b: F.binary_cross_entropy_with_logits(
                a, b, reduction="sum"), zb, yb),
            (softmax_mse_grad, lambda a, b: F.mse_loss(torch.softmax(a, -1), b,
                                                       reduction="sum"), z, t),
            (softmax_ce_grad,
             lambda a, b: F.cross_entropy(a, b, reduction="sum"), z, t),
        ]:
            zt = torch.tensor(zz, requires_grad=True)
            fn(zt, torch.tensor(tt)).backward()
            grads.append(np.abs(ours(zz, tt) - zt.grad.numpy()).max())
        p, q = softmax(z[:, ::-1].copy()), softmax(z)  # two sets of distributions
        log_q = torch.tensor(np.log(q))
        kl_ref = F.kl_div(log_q, torch.tensor(p), reduction="none").sum(-1)
        ce_ref = F.cross_entropy(log_q, torch.tensor(labels), reduction="none")
        values = [np.abs(kl_divergence(p, q) - kl_ref.numpy()).max(),
                  np.abs(cross_entropy_of_true_class(q[np.arange(16), labels])
                         - ce_ref.numpy()).max()]
        name = np.dtype(dtype).name
        value_err, grad_err = max(values), max(grads)
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
