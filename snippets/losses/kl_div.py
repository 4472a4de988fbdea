r"""Kullback-Leibler divergence with torch's argument order (log-probabilities first),
forward and reverse KL, and the closed form between two Gaussians.

Reference: S. Kullback and R. A. Leibler, "On Information and Sufficiency", Annals of
Mathematical Statistics 22(1), 1951. Checked against `torch.nn.functional.kl_div` and
`torch.distributions.kl_divergence`.
"""

# --8<-- [start:impl]
# --8<-- [start:kl_div]
import numpy as np


def kl_div(input, target, reduction="mean", log_target=False):
    r"""Pointwise KL divergence $D_{\mathrm{KL}}(p \,\|\, q)$, from $\log q$ and $p$.

    $$\ell = t \,(\log t - x), \qquad 0 \log 0 = 0,$$

    where `input` $x = \log q$ is the model's log-probability and `target` $t = p$ is
    the reference probability (or $\log p$ when `log_target` is true, then
    $\ell = e^{t}(t - x)$). Summed over the classes this is
    $D_{\mathrm{KL}}(p \,\|\, q) = \sum_c p_c \log(p_c / q_c)$.

    Args:
        input: log-probabilities $\log q$, any shape (0-d and empty included); the batch
            is dimension 0.
        target: probabilities $p$ (or $\log p$), broadcastable to `input`. As in
            torch, a negative probability gives NaN, its logarithm being undefined.
        reduction: "none", "mean" (default, as in torch: divides by the number of
            elements), "batchmean" (divides by `input.shape[0]`: the true KL per
            sample; the sum for a 0-d input), or "sum".
        log_target: whether `target` holds log-probabilities.

    Returns:
        The pointwise terms for "none", else a scalar, in the dtype torch's type
        promotion gives (a 0-d array does not widen the other argument).
    """
    x, t = np.asarray(input), np.asarray(target)
    dtype = np.result_type(*[a for a in (x, t) if a.ndim] or [x, t])  # as torch
    x, t = x.astype(dtype), t.astype(dtype)
    with np.errstate(divide="ignore", invalid="ignore"):  # NaN where torch has NaN
        if log_target:
            loss = np.exp(t) * (t - x)
        else:
            t_log_t = np.where(t == 0, 0, t * np.log(t))  # 0 log 0 = 0; log(-1) = NaN
            loss = t_log_t - t * x
    if reduction == "none":
        return loss
    if reduction == "sum" or (reduction == "batchmean" and x.ndim == 0):
        return loss.sum()
    with np.errstate(invalid="ignore"):  # empty input: 0 / 0 = NaN, as in torch
        if reduction == "batchmean":
            return loss.sum() / x.dtype.type(x.shape[0])
        if reduction == "mean":
            return loss.sum() / x.dtype.type(loss.size)
    raise ValueError(f"unknown reduction {reduction!r}")
# --8<-- [end:kl_div]


# --8<-- [start:kl_div_grad]
def kl_div_grad(input, target, reduction="mean", log_target=False):
    r"""Derivative of `kl_div` with respect to `input` (the log-probabilities).

    $$\frac{\partial \ell}{\partial x} = -t$$

    or $-e^{t}$ when `log_target` is true, divided by the number of elements ("mean")
    or by `input.shape[0]` ("batchmean"). For "none" it is the gradient of the sum.

    The arguments are those of `kl_div`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x, t = np.asarray(input), np.asarray(target)
    dtype = np.result_type(*[a for a in (x, t) if a.ndim] or [x, t])  # as in kl_div
    t = t.astype(dtype)
    grad = np.broadcast_to(-np.exp(t) if log_target else -t, x.shape)
    if reduction == "mean":
        grad = grad / dtype.type(max(x.size, 1))
    elif reduction == "batchmean" and x.ndim > 0:
        grad = grad / dtype.type(max(x.shape[0], 1))
    elif reduction not in ("sum", "none", "batchmean"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad.astype(x.dtype)  # the gradient has the input's dtype
# --8<-- [end:kl_div_grad]


# --8<-- [start:log_normal]
def log_normal(x, mu, sigma):
    r"""$\log \mathcal{N}(x; \mu, \sigma^2)$, the log-density of a Gaussian."""
    z = (x - mu) / sigma
    return -0.5 * z**2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)
# --8<-- [end:log_normal]


# --8<-- [start:log_mixture]
def log_mixture(x, weights, mus, sigmas):
    r"""$\log \sum_k w_k\,\mathcal{N}(x; \mu_k, \sigma_k^2)$, without underflow."""
    terms = [np.log(w) + log_normal(x, m, s) for w, m, s in zip(weights, mus, sigmas,
                                                                  strict=True)]
    return np.logaddexp.reduce(terms, axis=0)
# --8<-- [end:log_mixture]


# --8<-- [start:fit_gaussian]
def fit_gaussian(log_p, x, direction, rounds=4):
    r"""The Gaussian $q = \mathcal{N}(\mu, \sigma^2)$ closest to a density $p$ given as
    `log_p` on the evenly spaced grid `x`: the minimiser of $D_{\mathrm{KL}}(p \| q)$
    ("forward") or $D_{\mathrm{KL}}(q \| p)$ ("reverse"), integrals as sums.

    A grid search over $(\mu, \log\sigma)$, 41 x 41 points, that zooms in tenfold
    around the best point each round; after the default 4 rounds the steps are
    $2 \times 10^{-4}$ in $\mu$ and $10^{-4}$ in $\log\sigma$.

    Returns:
        $(\mu, \sigma)$ and the divergence there.
    """
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction must be 'forward' or 'reverse': {direction!r}")
    dx = x[1] - x[0]
    mu, log_sigma, half_width = 0.0, 0.0, 4.0  # centre and half-width of the search
    for _ in range(rounds):
        steps = np.linspace(-half_width, half_width, 41)
        mus = mu + steps[:, None, None]  # (41, 1, 1)
        log_sigmas = log_sigma + steps[None, :, None] / 2  # (1, 41, 1)
        log_q = log_normal(x, mus, np.exp(log_sigmas))  # (41, 41, len(x))
        if direction == "forward":  # KL(p || q): input log q, target p
            terms = kl_div(log_q, log_p, reduction="none", log_target=True)
        else:  # KL(q || p): input log p, target q
            terms = kl_div(log_p, log_q, reduction="none", log_target=True)
        kl = terms.sum(axis=-1) * dx
        i, j = np.unravel_index(np.argmin(kl), kl.shape)
        mu, log_sigma, best = mus[i, 0, 0], log_sigmas[0, j, 0], kl[i, j]
        half_width /= 10
    return mu, np.exp(log_sigma), best
# --8<-- [end:fit_gaussian]


# --8<-- [start:float_arrays]
def _float_arrays(*values):
    """The arguments broadcast together in one floating dtype; Python numbers adapt to
    the arrays' dtype (float32 stays float32)."""
    values = [v if np.isscalar(v) else np.asarray(v) for v in values]
    dtype = np.result_type(*values, 0.0)  # at least float64 for ints and Python numbers
    return np.broadcast_arrays(*(np.asarray(v, dtype=dtype) for v in values))
# --8<-- [end:float_arrays]


# --8<-- [start:rho_minus_log1p]
def _rho_minus_log1p(rho, log1p_rho):
    r"""$\rho - \log(1 + \rho)$ for $\rho > -1$, given also $\log(1 + \rho)$ computed
    without forming $1 + \rho$. Near $\rho = 0$, where it is about $\rho^2 / 2$ and the
    two terms nearly cancel, a series is summed; near $\rho = -1$, where $1 + \rho$ has
    lost its digits, `log1p_rho` is used."""
    small = np.abs(rho) < 0.1
    r = np.where(small, rho, 0)
    series = sum((-1) ** k * r**k / k for k in range(2, 18))  # next term < 1e-17 r^2
    moderate = (rho > -0.5) & (rho < np.inf)  # 1 + rho exact enough, not overflowed
    with np.errstate(divide="ignore", invalid="ignore"):  # branches not taken
        direct = np.where(moderate, rho - np.log1p(rho), rho - log1p_rho)
    return np.where(small, series, direct)
# --8<-- [end:rho_minus_log1p]


# --8<-- [start:gaussian_kl]
def gaussian_kl(mu1, sigma1, mu2, sigma2):
    r"""$D_{\mathrm{KL}}(\mathcal{N}(\mu_1, \sigma_1^2) \,\|\, \mathcal{N}(\mu_2,
    \sigma_2^2))$, elementwise.

    $$\log\frac{\sigma_2}{\sigma_1} + \frac{\sigma_1^2 + (\mu_1 - \mu_2)^2}{2\sigma_2^2}
      - \frac12 = \frac12\Bigl(\rho - \log(1 + \rho)
      + \frac{(\mu_1 - \mu_2)^2}{\sigma_2^2}\Bigr),
      \qquad \rho = \frac{\sigma_1^2}{\sigma_2^2} - 1
      = \frac{\sigma_1 - \sigma_2}{\sigma_2}\Bigl(\frac{\sigma_1}{\sigma_2} + 1\Bigr)$$

    Args:
        mu1: mean of the first Gaussian.
        sigma1: its standard deviation, $> 0$.
        mu2: mean of the second Gaussian.
        sigma2: its standard deviation, $> 0$. All four broadcast together.

    Returns:
        The divergence, in nats, with the broadcast shape.

    Raises:
        ValueError: if a standard deviation is not positive.
    """
    mu1, sigma1, mu2, sigma2 = _float_arrays(mu1, sigma1, mu2, sigma2)
    if not (np.all(sigma1 > 0) and np.all(sigma2 > 0)):  # NaN is refused too
        raise ValueError("standard deviations must be positive")
    ratio = sigma1 / sigma2
    rho = (sigma1 - sigma2) / sigma2 * (ratio + 1)  # ratio^2 - 1, without cancelling
    z = (mu1 - mu2) / sigma2
    with np.errstate(divide="ignore"):  # ratio underflowed to 0: log 0 = -inf
        log_ratio2 = 2 * np.log(ratio)  # log(1 + rho)
    return 0.5 * (_rho_minus_log1p(rho, log_ratio2) + z**2)
# --8<-- [end:gaussian_kl]


# --8<-- [start:gaussian_kl_grad]
def gaussian_kl_grad(mu1, sigma1, mu2, sigma2):
    r"""Gradients of `gaussian_kl` with respect to $\mu_1, \sigma_1, \mu_2, \sigma_2$.

    $$\frac{\partial}{\partial \mu_1} = \frac{\mu_1 - \mu_2}{\sigma_2^2},\quad
      \frac{\partial}{\partial \sigma_1} = \frac{\rho}{\sigma_1},\quad
      \frac{\partial}{\partial \mu_2} = -\frac{\partial}{\partial \mu_1},\quad
      \frac{\partial}{\partial \sigma_2}
      = -\frac{1}{\sigma_2}\Bigl(\rho + \frac{(\mu_1 - \mu_2)^2}{\sigma_2^2}\Bigr)$$

    with $\rho$ as in `gaussian_kl`.

    Returns:
        Four arrays with the broadcast shape.
    """
    mu1, sigma1, mu2, sigma2 = _float_arrays(mu1, sigma1, mu2, sigma2)
    rho = (sigma1 - sigma2) / sigma2 * (sigma1 / sigma2 + 1)  # as in gaussian_kl
    z = (mu1 - mu2) / sigma2
    d_mu1 = z / sigma2
    return d_mu1, rho / sigma1, -d_mu1, -(rho + z**2) / sigma2
# --8<-- [end:gaussian_kl_grad]


# --8<-- [start:diagonal_kl]
def diagonal_gaussian_kl(mu1, logvar1, mu2=0.0, logvar2=0.0):
    r"""KL divergence between Gaussians with diagonal covariances, from log-variances.

    $$\frac12 \sum_j \Bigl(\rho_j - \log(1 + \rho_j)
      + (\mu_{1j} - \mu_{2j})^2 e^{-v_{2j}}\Bigr), \qquad \rho = e^{v_1 - v_2} - 1$$

    with $v = \log\sigma^2$ and $\log(1 + \rho) = v_1 - v_2$. The defaults make the
    second Gaussian $\mathcal{N}(0, I)$, the prior of a VAE:
    $\frac12\sum_j (\mu_j^2 + e^{v_j} - 1 - v_j)$.

    Args:
        mu1: mean of the first Gaussian, shape (..., D).
        logvar1: its log-variance $v_1$, shape (..., D).
        mu2: mean of the second Gaussian, broadcastable (default 0).
        logvar2: its log-variance $v_2$, broadcastable (default 0: standard normal).

    Returns:
        The divergence per distribution, the last axis summed: shape (...).
    """
    mu1, logvar1, mu2, logvar2 = _float_arrays(mu1, logvar1, mu2, logvar2)
    rho = np.expm1(logvar1 - logvar2)  # sigma1^2 / sigma2^2 - 1
    z = (mu1 - mu2) * np.exp(-0.5 * logvar2)  # (mu1 - mu2) / sigma2
    terms = _rho_minus_log1p(rho, logvar1 - logvar2) + z**2
    return 0.5 * terms.sum(axis=-1)
# --8<-- [end:diagonal_kl]


# --8<-- [start:diagonal_kl_grad]
def diagonal_gaussian_kl_grad(mu1, logvar1, mu2=0.0, logvar2=0.0):
    r"""Gradients of `diagonal_gaussian_kl` w.r.t. $\mu_1, v_1, \mu_2, v_2$.

    $$\frac{\partial}{\partial \mu_1} = (\mu_1 - \mu_2)\,e^{-v_2},\quad
      \frac{\partial}{\partial v_1} = \tfrac12\,\rho,\quad
      \frac{\partial}{\partial \mu_2} = -\frac{\partial}{\partial \mu_1},\quad
      \frac{\partial}{\partial v_2} = -\tfrac12\bigl(\rho
      + (\mu_1 - \mu_2)^2 e^{-v_2}\bigr)$$

    Returns:
        Four arrays of the broadcast shape (..., D).
    """
    mu1, logvar1, mu2, logvar2 = _float_arrays(mu1, logvar1, mu2, logvar2)
    inv_sigma2 = np.exp(-0.5 * logvar2)
    z = (mu1 - mu2) * inv_sigma2  # (mu1 - mu2) / sigma2
    rho = np.expm1(logvar1 - logvar2)  # sigma1^2 / sigma2^2 - 1
    return z * inv_sigma2, 0.5 * rho, -z * inv_sigma2, -0.5 * (rho + z**2)
# --8<-- [end:diagonal_kl_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    p = np.array([[0.5, 0.5, 0.0]])  # reference; class 2 never happens
    q = np.array([[0.4, 0.4, 0.2]])  # model
    print("KL(p || q) =", kl_div(np.log(q), p, reduction="batchmean"))
    with np.errstate(divide="ignore"):
        log_p = np.log(p)  # log 0 = -inf: p calls class 2 impossible
    print("KL(q || p) =", kl_div(log_p, q, reduction="batchmean"), "(swapped)")
    print("'mean' instead of 'batchmean':", kl_div(np.log(q), p, reduction="mean"))
    # --8<-- [end:example]

    # --8<-- [start:order]
    import torch
    F = torch.nn.functional

    p = np.array([0.5, 0.3, 0.2])  # the reference
    q = np.array([0.2, 0.2, 0.6])  # the model
    torch_value = F.kl_div(torch.tensor(np.log(q)), torch.tensor(p), reduction="sum")
    torch_log = F.kl_div(torch.tensor(np.log(q)), torch.tensor(np.log(p)),
                         reduction="sum", log_target=True)
    print("torch kl_div(log q, p)                 ", torch_value.item())
    print("torch kl_div(log q, log p, log_target) ", torch_log.item())
    print("KL(p || q) = sum p log(p / q)          ", (p * np.log(p / q)).sum())
    print("KL(q || p) = sum q log(q / p)          ", (q * np.log(q / p)).sum())
    # --8<-- [end:order]

    # --8<-- [start:check]
    import warnings

    rng = np.random.default_rng(0)
    print("checked against torch.nn.functional.kl_div")
    for dtype in (np.float64, np.float32):
        logq = np.log(rng.dirichlet(np.ones(6), size=16)).astype(dtype)
        p = rng.dirichlet(np.ones(6), size=16).astype(dtype)
        p[0, :2] = [0.0, p[0, 0] + p[0, 1]]  # a zero probability: 0 log 0 = 0
        value_err = grad_err = 0.0
        for reduction in ("batchmean", "mean", "sum"):
            for log_target, t in ((False, p), (True, np.log(p + 1e-3).astype(dtype))):
                xt = torch.tensor(logq, requires_grad=True)
                with warnings.catch_warnings():  # torch warns on "mean": see Pitfalls
                    warnings.simplefilter("ignore", UserWarning)
                    ref = F.kl_div(xt, torch.tensor(t), reduction=reduction,
                                   log_target=log_target)
                ref.backward()
                ours = kl_div(logq, t, reduction, log_target)
                ours_grad = kl_div_grad(logq, t, reduction, log_target)
                value_err = max(value_err, abs(ours - ref.item()))
                grad_err = max(grad_err, np.abs(ours_grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:fits]
    grid = np.linspace(-10, 10, 801)
    mixture = {"weights": (0.4, 0.6), "mus": (-2.0, 2.0), "sigmas": (0.6, 0.8)}
    log_p = log_mixture(grid, **mixture)
    w, m, s = (np.array(v) for v in mixture.values())
    mean = (w * m).sum()
    sd = np.sqrt((w * (s**2 + m**2)).sum() - mean**2)
    print(f"mixture:           mean {mean:+.3f}, standard deviation {sd:.3f}")
    for direction in ("forward", "reverse"):
        mu, sigma, kl = fit_gaussian(log_p, grid, direction)
        print(f"{direction} KL fit:    mu {mu:+.3f}, sigma {sigma:.3f}, KL {kl:.4f}")
    # --8<-- [end:fits]

    # --8<-- [start:vae]
    mu = np.array([[0.0, 0.0], [1.0, -0.5]])  # two encoder outputs, D = 2
    logvar = np.array([[0.0, 0.0], [-1.0, 0.5]])
    print("KL to N(0, I) per sample:", diagonal_gaussian_kl(mu, logvar))
    print("same, as sums of 1-D KLs:",
          gaussian_kl(mu, np.exp(0.5 * logvar), 0.0, 1.0).sum(axis=-1))
    # --8<-- [end:vae]

    # --8<-- [start:check_gaussian]
    from torch.distributions import Independent, Normal, kl_divergence

    for kind in ("univariate", "diagonal"):
        print(f"checked against torch.distributions.kl_divergence ({kind} Normal)")
        for dtype in (np.float64, np.float32):
            means = rng.normal(size=(2, 64, 3)).astype(dtype)
            spreads = rng.normal(scale=0.5, size=(2, 64, 3)).astype(dtype)
            if kind == "univariate":  # mu1, sigma1, mu2, sigma2
                args = (means[0], np.exp(spreads[0]), means[1], np.exp(spreads[1]))
                ours, grads = gaussian_kl(*args), gaussian_kl_grad(*args)
            else:  # mu1, logvar1, mu2, logvar2
                args = (means[0], spreads[0], means[1], spreads[1])
                ours = diagonal_gaussian_kl(*args)
                grads = diagonal_gaussian_kl_grad(*args)
            params = [torch.tensor(v, requires_grad=True) for v in args]
            m1, s1, m2, s2 = params
            if kind == "univariate":
                ref = kl_divergence(Normal(m1, s1), Normal(m2, s2))
            else:  # sigma = exp(logvar / 2); Independent sums over the last axis
                ref = kl_divergence(Independent(Normal(m1, (s1 / 2).exp()), 1),
                                    Independent(Normal(m2, (s2 / 2).exp()), 1))
            ref.sum().backward()
            value_err = np.abs(ours - ref.detach().numpy()).max()
            grad_err = max(np.abs(g - p.grad.numpy()).max()
                           for g, p in zip(grads, params, strict=True))
            name = np.dtype(dtype).name
            print(f"{name}: max |ours - torch| value {value_err:.1e}, "
                  f"grad {grad_err:.1e}")
    # --8<-- [end:check_gaussian]
