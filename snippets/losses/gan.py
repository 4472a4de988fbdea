r"""GAN losses on discriminator (critic) outputs, with their gradients.

Four ways to score a discriminator and a generator from the discriminator's raw outputs
(logits or unbounded scores) on a batch of real samples and a batch of generated ones:
the minimax loss (Goodfellow et al. 2014, arXiv:1406.2661) with the saturating and the
non-saturating generator loss; the Wasserstein critic loss (Arjovsky et al. 2017,
arXiv:1701.07875); the least-squares GAN loss (Mao et al. 2017, arXiv:1611.04076);
the hinge loss (Lim and Ye 2017, arXiv:1705.02894; Miyato et al. 2018,
arXiv:1802.05957).

Checked against `torch.nn.functional.binary_cross_entropy_with_logits` (minimax),
`torch.nn.functional.mse_loss` (least squares) and torch autograd of the written-out
formula (Wasserstein, hinge).
"""

# --8<-- [start:impl]
# --8<-- [start:helpers]
import numpy as np


def _reduce(loss, reduction):
    r"""Apply torch's `reduction` to elementwise losses; the mean of nothing is NaN."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else np.array(np.nan, dtype=loss.dtype)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _scale(n, reduction):
    r"""d(reduced loss) / d(elementwise loss_i): 1/n for "mean", 1 otherwise."""
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0


def _float(x):
    r"""`x` as a float array: integer or boolean inputs become float64, floats stay."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _pair(real, fake):
    r"""The two batches as float arrays; one real and one generated sample per term."""
    real, fake = _float(real), _float(fake)
    if real.shape != fake.shape:
        raise ValueError(f"real shape {real.shape} != fake shape {fake.shape}")
    return real, fake
# --8<-- [end:helpers]


# --8<-- [start:logistic]
def softplus(x):
    r"""$\log(1 + e^x)$ without overflow: $-\log \sigma(-x)$ for any real $x$."""
    return np.logaddexp(0, x)


def sigmoid(x):
    r"""$\sigma(x) = 1 / (1 + e^{-x})$, computed from $e^{-|x|}$: nothing overflows."""
    e = np.exp(-np.abs(x))  # in (0, 1]
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
# --8<-- [end:logistic]
# --8<-- [end:impl]


# --8<-- [start:minimax]
# --8<-- [start:minimax-d]
def minimax_discriminator_loss(real_logits, fake_logits, reduction="mean"):
    r"""Discriminator loss of the original GAN: cross-entropy with real = 1, fake = 0.

    With $D = \sigma(\text{logit})$ the discriminator's probability that a sample is
    real, logits $s_i$ on real and $\tilde{s}_i$ on generated samples,

    $$\ell_i = -\log \sigma(s_i) - \log\bigl(1 - \sigma(\tilde{s}_i)\bigr)
    = \operatorname{softplus}(-s_i) + \operatorname{softplus}(\tilde{s}_i)$$

    Args:
        real_logits: discriminator logits $s$ on real samples, any shape.
        fake_logits: discriminator logits $\tilde{s}$ on generated samples, same shape.
        reduction: "mean" (default), "sum" or "none", as in torch.

    Returns:
        A scalar, or for "none" an array of the shape of `real_logits`.
    """
    real, fake = _pair(real_logits, fake_logits)
    return _reduce(softplus(-real) + softplus(fake), reduction)
# --8<-- [end:minimax-d]


# --8<-- [start:minimax-d-grad]
def minimax_discriminator_loss_grad(real_logits, fake_logits, reduction="mean"):
    r"""Gradients of `minimax_discriminator_loss` with respect to both logits.

    $$\frac{\partial \ell_i}{\partial s_i} = \sigma(s_i) - 1 = -\sigma(-s_i),
    \qquad
    \frac{\partial \ell_i}{\partial \tilde{s}_i} = \sigma(\tilde{s}_i)$$

    times $1/n$ for "mean"; for "none", the gradient of the summed losses.

    Returns:
        `(grad_real, grad_fake)`, each of the shape and dtype of the inputs.
    """
    real, fake = _pair(real_logits, fake_logits)
    s = _scale(real.size, reduction)
    return -sigmoid(-real) * s, sigmoid(fake) * s  # -σ(-s), not σ(s) - 1: no cancelling
# --8<-- [end:minimax-d-grad]


# --8<-- [start:saturating]
def saturating_generator_loss(fake_logits, reduction="mean"):
    r"""The generator's side of the minimax game: minimise $\log(1 - D(G(z)))$.

    $$\ell_i = \log\bigl(1 - \sigma(\tilde{s}_i)\bigr)
    = -\operatorname{softplus}(\tilde{s}_i)$$

    It flattens out (saturates) where the discriminator rejects the fakes,
    $\tilde{s}_i \ll 0$.

    Args:
        fake_logits: discriminator logits $\tilde{s}$ on generated samples, any shape.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `fake_logits`.
    """
    return _reduce(-softplus(_float(fake_logits)), reduction)
# --8<-- [end:saturating]


# --8<-- [start:saturating-grad]
def saturating_generator_loss_grad(fake_logits, reduction="mean"):
    r"""$\partial \ell_i / \partial \tilde{s}_i = -\sigma(\tilde{s}_i)$, times $1/n$
    for "mean"."""
    fake = _float(fake_logits)
    return -sigmoid(fake) * _scale(fake.size, reduction)
# --8<-- [end:saturating-grad]


# --8<-- [start:non-saturating]
def non_saturating_generator_loss(fake_logits, reduction="mean"):
    r"""The generator loss used in practice: minimise $-\log D(G(z))$.

    $$\ell_i = -\log \sigma(\tilde{s}_i) = \operatorname{softplus}(-\tilde{s}_i)$$

    Same fixed point as the saturating loss, but strong gradients early in training.

    Args:
        fake_logits: discriminator logits $\tilde{s}$ on generated samples, any shape.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `fake_logits`.
    """
    return _reduce(softplus(-_float(fake_logits)), reduction)
# --8<-- [end:non-saturating]


# --8<-- [start:non-saturating-grad]
def non_saturating_generator_loss_grad(fake_logits, reduction="mean"):
    r"""$\partial \ell_i / \partial \tilde{s}_i = \sigma(\tilde{s}_i) - 1
    = -\sigma(-\tilde{s}_i)$, times $1/n$ for "mean"."""
    fake = _float(fake_logits)
    return -sigmoid(-fake) * _scale(fake.size, reduction)
# --8<-- [end:non-saturating-grad]
# --8<-- [end:minimax]


# --8<-- [start:wasserstein]
# --8<-- [start:wasserstein-critic]
def wasserstein_critic_loss(real_scores, fake_scores, reduction="mean"):
    r"""WGAN critic loss: the negated estimate of the Wasserstein-1 distance.

    $$\ell_i = \tilde{s}_i - s_i, \qquad
    \mathcal{L}_{\text{critic}}
    = \frac{1}{n}\sum_i \tilde{s}_i - \frac{1}{n}\sum_i s_i$$

    The critic must be kept (about) 1-Lipschitz, by weight clipping or a gradient
    penalty; without that the loss is unbounded below.

    Args:
        real_scores: critic scores $s$ on real samples (unbounded), any shape.
        fake_scores: critic scores $\tilde{s}$ on generated samples, same shape.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `real_scores`.
    """
    real, fake = _pair(real_scores, fake_scores)
    return _reduce(fake - real, reduction)
# --8<-- [end:wasserstein-critic]


# --8<-- [start:wasserstein-critic-grad]
def wasserstein_critic_loss_grad(real_scores, fake_scores, reduction="mean"):
    r"""Gradients: $-1$ for each real score, $+1$ for each fake score.

    Returns:
        `(grad_real, grad_fake)`, times $1/n$ for "mean".
    """
    real, fake = _pair(real_scores, fake_scores)
    s = _scale(real.size, reduction)
    return np.full_like(real, -s), np.full_like(fake, s)
# --8<-- [end:wasserstein-critic-grad]


# --8<-- [start:wasserstein-generator]
def wasserstein_generator_loss(fake_scores, reduction="mean"):
    r"""WGAN generator loss $\ell_i = -\tilde{s}_i$: raise the fakes' scores."""
    return _reduce(-_float(fake_scores), reduction)
# --8<-- [end:wasserstein-generator]


# --8<-- [start:wasserstein-generator-grad]
def wasserstein_generator_loss_grad(fake_scores, reduction="mean"):
    r"""$\partial \ell_i / \partial \tilde{s}_i = -1$, times $1/n$ for "mean"."""
    fake = _float(fake_scores)
    return np.full_like(fake, -_scale(fake.size, reduction))
# --8<-- [end:wasserstein-generator-grad]
# --8<-- [end:wasserstein]


# --8<-- [start:lsgan]
# --8<-- [start:lsgan-d]
def lsgan_discriminator_loss(real_scores, fake_scores, a=0.0, b=1.0, reduction="mean"):
    r"""Least-squares GAN discriminator loss: pull real scores to $b$, fake ones to $a$.

    $$\ell_i = \tfrac{1}{2} (s_i - b)^2 + \tfrac{1}{2} (\tilde{s}_i - a)^2$$

    Args:
        real_scores: raw discriminator outputs $s$ on real samples (no sigmoid).
        fake_scores: outputs $\tilde{s}$ on generated samples, same shape.
        a: target for fakes (0 in the 0-1 coding, -1 in the -1-1-0 coding of the paper).
        b: target for real samples (1 in both codings).
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `real_scores`; a and b are
        cast to the scores' dtype, so float32 scores give float32 results.
    """
    real, fake = _pair(real_scores, fake_scores)
    a, b = real.dtype.type(a), real.dtype.type(b)
    return _reduce(0.5 * (real - b) ** 2 + 0.5 * (fake - a) ** 2, reduction)
# --8<-- [end:lsgan-d]


# --8<-- [start:lsgan-d-grad]
def lsgan_discriminator_loss_grad(real_scores, fake_scores, a=0.0, b=1.0,
                                  reduction="mean"):
    r"""Gradients: $s_i - b$ for real scores, $\tilde{s}_i - a$ for fake ones.

    Returns:
        `(grad_real, grad_fake)`, times $1/n$ for "mean".
    """
    real, fake = _pair(real_scores, fake_scores)
    a, b = real.dtype.type(a), real.dtype.type(b)
    s = _scale(real.size, reduction)
    return (real - b) * s, (fake - a) * s
# --8<-- [end:lsgan-d-grad]


# --8<-- [start:lsgan-g]
def lsgan_generator_loss(fake_scores, c=1.0, reduction="mean"):
    r"""Least-squares GAN generator loss: pull the fakes' scores to $c$.

    $$\ell_i = \tfrac{1}{2} (\tilde{s}_i - c)^2$$

    Args:
        fake_scores: raw discriminator outputs $\tilde{s}$ on generated samples.
        c: the score the generator wants its samples to get (1 in the 0-1 coding, 0 in
            the -1-1-0 coding).
        reduction: "mean" (default), "sum" or "none".
    """
    fake = _float(fake_scores)
    return _reduce(0.5 * (fake - fake.dtype.type(c)) ** 2, reduction)
# --8<-- [end:lsgan-g]


# --8<-- [start:lsgan-g-grad]
def lsgan_generator_loss_grad(fake_scores, c=1.0, reduction="mean"):
    r"""$\partial \ell_i / \partial \tilde{s}_i = \tilde{s}_i - c$, times $1/n$
    for "mean"."""
    fake = _float(fake_scores)
    return (fake - fake.dtype.type(c)) * _scale(fake.size, reduction)
# --8<-- [end:lsgan-g-grad]
# --8<-- [end:lsgan]


# --8<-- [start:hinge]
# --8<-- [start:hinge-d]
def hinge_discriminator_loss(real_scores, fake_scores, reduction="mean"):
    r"""Hinge discriminator loss: real scores above +1, fake scores below -1, then stop.

    $$\ell_i = \max(0, 1 - s_i) + \max(0, 1 + \tilde{s}_i)$$

    Args:
        real_scores: raw discriminator outputs $s$ on real samples, any shape.
        fake_scores: outputs $\tilde{s}$ on generated samples, same shape.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `real_scores`.
    """
    real, fake = _pair(real_scores, fake_scores)
    return _reduce(np.maximum(1 - real, 0) + np.maximum(1 + fake, 0), reduction)
# --8<-- [end:hinge-d]


# --8<-- [start:hinge-d-grad]
def hinge_discriminator_loss_grad(real_scores, fake_scores, reduction="mean"):
    r"""$-[s_i < 1]$ for real scores, $[\tilde{s}_i > -1]$ for fake ones.

    At the kinks ($\pm 1$ exactly) the derivative is taken as 0, like torch's ReLU.
    torch's ReLU backward blocks the gradient where its output is $\le 0$; a NaN output
    is not, so at a NaN score the gradient is $\mp 1$, here as in torch.

    Returns:
        `(grad_real, grad_fake)`, times $1/n$ for "mean".
    """
    real, fake = _pair(real_scores, fake_scores)
    s = _scale(real.size, reduction)
    active_real = ~(1 - real <= 0)  # not "1 - real > 0": NaN must count as active
    active_fake = ~(1 + fake <= 0)
    return -active_real.astype(real.dtype) * s, active_fake.astype(fake.dtype) * s
# --8<-- [end:hinge-d-grad]


# --8<-- [start:hinge-g]
def hinge_generator_loss(fake_scores, reduction="mean"):
    r"""Generator loss used with the hinge discriminator: $\ell_i = -\tilde{s}_i$."""
    return _reduce(-_float(fake_scores), reduction)
# --8<-- [end:hinge-g]


# --8<-- [start:hinge-g-grad]
def hinge_generator_loss_grad(fake_scores, reduction="mean"):
    r"""$\partial \ell_i / \partial \tilde{s}_i = -1$, times $1/n$ for "mean"."""
    fake = _float(fake_scores)
    return np.full_like(fake, -_scale(fake.size, reduction))
# --8<-- [end:hinge-g-grad]
# --8<-- [end:hinge]


if __name__ == "__main__":
    # --8<-- [start:example-minimax]
    f = np.array([-1e4, -5.0, 0.0, 5.0, 1e4])  # logits on fakes, two saturated
    sat = saturating_generator_loss(f, "none")
    non_sat = non_saturating_generator_loss(f, "none")
    with np.printoptions(precision=4, suppress=True):
        print("fake logit            ", f)
        print("D(G(z))               ", sigmoid(f))
        print("saturating loss       ", sat)
        print("  its gradient        ", saturating_generator_loss_grad(f, "none"))
        print("non-saturating loss   ", non_sat)
        print("  its gradient        ", non_saturating_generator_loss_grad(f, "none"))
        print("sum of the two losses ", sat + non_sat, "(minus the logit)")
    # --8<-- [end:example-minimax]

    # --8<-- [start:check-helpers]
    import torch

    rng = np.random.default_rng(0)

    def batches(dtype, n=256):
        r"""Logits of a fairly sure discriminator: real around +2, fake around -2."""
        real = rng.normal(2.0, 3.0, size=n).astype(dtype)
        fake = rng.normal(-2.0, 3.0, size=n).astype(dtype)
        return real, fake

    def err(ours, ref):
        r"""Largest absolute difference between our array and a torch tensor."""
        return float(np.abs(np.asarray(ours) - ref.detach().numpy()).max())

    def rel(ours, ref):
        r"""That difference over the largest magnitude of the reference."""
        return err(ours, ref) / float(ref.detach().abs().max())
    # --8<-- [end:check-helpers]

    # --8<-- [start:check-minimax]
    print("checked against torch.nn.functional.binary_cross_entropy_with_logits"
          " (minimax losses)")
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    for dtype in (np.float64, np.float32):
        real, fake = batches(dtype)
        v_err = g_err = 0.0
        for red in ("mean", "sum", "none"):
            rt = torch.tensor(real, requires_grad=True)
            ft = torch.tensor(fake, requires_grad=True)
            ref_d = bce(rt, torch.ones_like(rt), reduction=red) + bce(
                ft, torch.zeros_like(ft), reduction=red)
            ref_d.sum().backward()
            gr, gf = minimax_discriminator_loss_grad(real, fake, red)
            v_err = max(v_err, rel(minimax_discriminator_loss(real, fake, red), ref_d))
            g_err = max(g_err, err(gr, rt.grad), err(gf, ft.grad))
            for ours, ours_grad, ref_fn in (
                (saturating_generator_loss, saturating_generator_loss_grad,
                 lambda t, r: -bce(t, torch.zeros_like(t), reduction=r)),
                (non_saturating_generator_loss, non_saturating_generator_loss_grad,
                 lambda t, r: bce(t, torch.ones_like(t), reduction=r)),
            ):
                ft = torch.tensor(fake, requires_grad=True)
                ref = ref_fn(ft, red)
                ref.sum().backward()
                v_err = max(v_err, rel(ours(fake, red), ref))
                g_err = max(g_err, err(ours_grad(fake, red), ft.grad))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| relative value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-minimax]

    # --8<-- [start:check-wasserstein]
    import torch

    print("checked against the Wasserstein losses written with torch tensors (autograd)")
    for dtype in (np.float64, np.float32):
        real, fake = batches(dtype)
        rt = torch.tensor(real, requires_grad=True)
        ft = torch.tensor(fake, requires_grad=True)
        ref_c = ft.mean() - rt.mean()  # mean fake score - mean real score
        ref_c.backward()
        gr, gf = wasserstein_critic_loss_grad(real, fake)
        v_err = err(wasserstein_critic_loss(real, fake), ref_c)
        g_err = max(err(gr, rt.grad), err(gf, ft.grad))
        ft = torch.tensor(fake, requires_grad=True)
        ref_g = -ft.mean()
        ref_g.backward()
        v_err = max(v_err, err(wasserstein_generator_loss(fake), ref_g))
        g_err = max(g_err, err(wasserstein_generator_loss_grad(fake), ft.grad))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-wasserstein]

    # --8<-- [start:check-lsgan]
    import torch

    print("checked against torch.nn.functional.mse_loss (least-squares losses)")
    mse = torch.nn.functional.mse_loss
    for dtype in (np.float64, np.float32):
        real, fake = batches(dtype)
        v_err = g_err = 0.0
        for a, b, c in ((0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)):  # the paper's two codings
            rt = torch.tensor(real, requires_grad=True)
            ft = torch.tensor(fake, requires_grad=True)
            ref_d = 0.5 * mse(rt, torch.full_like(rt, b)) + 0.5 * mse(
                ft, torch.full_like(ft, a))
            ref_d.backward()
            gr, gf = lsgan_discriminator_loss_grad(real, fake, a, b)
            v_err = max(v_err, err(lsgan_discriminator_loss(real, fake, a, b), ref_d))
            g_err = max(g_err, err(gr, rt.grad), err(gf, ft.grad))
            ft = torch.tensor(fake, requires_grad=True)
            ref_g = 0.5 * mse(ft, torch.full_like(ft, c))
            ref_g.backward()
            v_err = max(v_err, err(lsgan_generator_loss(fake, c), ref_g))
            g_err = max(g_err, err(lsgan_generator_loss_grad(fake, c), ft.grad))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-lsgan]

    # --8<-- [start:check-hinge]
    import torch

    print("checked against the hinge losses written with torch.relu (autograd)")
    for dtype in (np.float64, np.float32):
        real, fake = batches(dtype)
        rt = torch.tensor(real, requires_grad=True)
        ft = torch.tensor(fake, requires_grad=True)
        ref_d = torch.relu(1 - rt).mean() + torch.relu(1 + ft).mean()  # written out
        ref_d.backward()
        gr, gf = hinge_discriminator_loss_grad(real, fake)
        v_err = err(hinge_discriminator_loss(real, fake), ref_d)
        g_err = max(err(gr, rt.grad), err(gf, ft.grad))
        ft = torch.tensor(fake, requires_grad=True)
        ref_g = -ft.mean()
        ref_g.backward()
        v_err = max(v_err, err(hinge_generator_loss(fake), ref_g))
        g_err = max(g_err, err(hinge_generator_loss_grad(fake), ft.grad))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-hinge]
