r"""Entropy regularization: the entropy of a softmax distribution, from logits, and its gradient.

References: Williams and Peng, "Function optimization using connectionist reinforcement
learning algorithms", 1991; Mnih et al., "Asynchronous Methods for Deep Reinforcement
Learning", ICML 2016; Pereyra et al., "Regularizing Neural Networks by Penalizing Confident
Output Distributions", 2017. Checked against `torch.distributions.Categorical(...).entropy()`.
"""

# --8<-- [start:impl]
# --8<-- [start:log_softmax]
import numpy as np


def log_softmax(z):
    r"""Log-probabilities of a softmax over the last axis, shifted by the row maximum.

    $$\log p_i = s_i - \log\Big(1 + \sum_{k \ne k^*} e^{s_k}\Big),
    \quad s_i = z_i - \max_k z_k = z_i - z_{k^*}$$

    Args:
        z: logits, float array of shape (..., K) with K >= 1. A logit of $-\infty$
            gives its class probability 0 (a masked action).

    Returns:
        An array of the shape and dtype of `z`.

    Raises:
        ValueError: for a 0-d array, a NaN or $+\infty$ logit, or a row whose logits
            are all $-\infty$ (torch's argument validation refuses the same).
    """
    z = np.asarray(z)
    if z.ndim == 0:
        raise ValueError("logits must be at least one-dimensional (classes last)")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("logits must not be NaN or +inf")
    m = z.max(axis=-1, keepdims=True, initial=-np.inf)  # (..., 1)
    if np.isneginf(m).any():
        raise ValueError("a row has every logit -inf: no class has probability > 0")
    s = z - m  # largest entry exactly 0; a masked -inf stays -inf
    rest = np.exp(s)  # (..., K), exactly 1 at the maximum
    np.put_along_axis(rest, s.argmax(axis=-1)[..., None], 0, axis=-1)  # drop one max
    return s - np.log1p(rest.sum(axis=-1, keepdims=True))  # exact even for a tiny rest
# --8<-- [end:log_softmax]


# --8<-- [start:entropy]
def entropy(z):
    r"""Entropy of the softmax distribution of each row of logits.

    $$H(p) = -\sum_i p_i \log p_i, \quad 0 \log 0 = 0$$

    Args:
        z: logits of shape (..., K), as for `log_softmax`.

    Returns:
        The entropies, shape (...), in nats, dtype of `z`.
    """
    logp = log_softmax(z)  # (..., K)
    p = np.exp(logp)
    logp = np.where(np.isneginf(logp), 0, logp)  # 0 log 0 = 0: masked classes add 0
    return -(p * logp).sum(axis=-1)
# --8<-- [end:entropy]


# --8<-- [start:entropy_grad]
def entropy_grad(z):
    r"""Gradient of the entropy of each row with respect to its logits.

    $$\frac{\partial H}{\partial z_j} = -p_j \Big(z_j - \sum_i p_i z_i\Big)
      = -p_j (\log p_j + H)$$

    Args:
        z: logits of shape (..., K), as for `log_softmax`.

    Returns:
        An array of the shape and dtype of `z`; 0 for masked ($-\infty$) logits.
    """
    z = np.asarray(z)
    logp = log_softmax(z)
    p = np.exp(logp)  # (..., K)
    s = z - z.max(axis=-1, keepdims=True)  # shifted logits, largest 0
    s = np.where(p > 0, s, 0)  # masked or underflowed classes carry weight p = 0
    centred = s - (p * s).sum(axis=-1, keepdims=True)  # z_j - E_p[z]
    return -p * centred
# --8<-- [end:entropy_grad]


# --8<-- [start:regularized]
def regularized_loss(task_loss, z, beta):
    r"""Task loss minus $\beta$ times the mean entropy (an entropy bonus).

    $$L = L_{\text{task}} - \beta \, \frac{1}{N}\sum_n H(p_n)$$

    Args:
        task_loss: the scalar loss being minimised.
        z: logits of shape (N, K), one distribution per row.
        beta: weight of the bonus, $\beta \ge 0$.

    Returns:
        The regularized loss and its gradient with respect to `z` from the bonus alone.
    """
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    z = np.asarray(z)
    n = z.shape[0]
    return task_loss - beta * entropy(z).mean(), -beta * entropy_grad(z) / n
# --8<-- [end:regularized]
# --8<-- [end:impl]


# --8<-- [start:naive]
def entropy_grad_naive(z):
    """The same gradient as -p (log p + H): a difference of nearly equal numbers."""
    logp = log_softmax(z)
    p = np.exp(logp)
    h = entropy(z)[..., None]
    return -p * (np.where(p > 0, logp, 0) + h)
# --8<-- [end:naive]


if __name__ == "__main__":
    # --8<-- [start:example]
    z = np.array([[2.0, 1.0, 0.0, -1.0],  # a fairly confident policy
                  [0.0, 0.0, 0.0, 0.0],  # uniform: the largest entropy, log 4
                  [9.0, 0.0, -np.inf, -np.inf]])  # two actions masked
    print("H    ", entropy(z).round(4).tolist(), " log 4 =", round(np.log(4), 4))
    print("dH/dz\n", entropy_grad(z).round(4) + 0.0)  # + 0.0 prints -0 as 0
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch
    from torch.distributions import Categorical

    print("checked against torch.distributions.Categorical(logits=...).entropy()")
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(0)
        zs = (rng.normal(size=(500, 10)) * 3).astype(dtype)
        masked = rng.random(zs.shape) < 0.2
        masked[:, 0] = False  # every row keeps at least one action
        zs[masked] = -np.inf  # masked actions
        zt = torch.tensor(zs, requires_grad=True)
        ht = Categorical(logits=zt).entropy()
        ht.sum().backward()  # d(sum)/dz of row n = dH_n/dz_n
        value_err = np.abs(entropy(zs) - ht.detach().numpy()).max()
        grad_err = np.abs(entropy_grad(zs) - zt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:huge]
    huge = np.array([[1e4, 1e4, -1e4], [1e4, 1e4 - 1, -np.inf]])
    exact = entropy(huge)  # float64, shifted logits [0, 0, -2e4], [0, -1, -inf]
    ours = entropy(huge.astype(np.float32))
    theirs = Categorical(logits=torch.tensor(huge, dtype=torch.float32)).entropy().numpy()
    print("float64, ours       ", exact)
    print("float32, ours       ", ours, f"error {np.abs(ours - exact).max():.1e}")
    print("float32, Categorical", theirs, f"error {np.abs(theirs - exact).max():.1e}")
    print(f"float32 spacing at 1e4: {np.spacing(np.float32(1e4)):.1e}")
    # --8<-- [end:huge]

    # --8<-- [start:cancel]
    z = np.array([0.0, 1e-3, 0.0, 0.0])  # nearly uniform: log p_j is close to -H
    exact = entropy_grad(z)  # float64
    forms = (("z_j - E_p[z]", entropy_grad), ("log p_j + H ", entropy_grad_naive))
    for name, grad in forms:
        approx = grad(z.astype(np.float32))
        rel = np.abs(approx - exact).max() / np.abs(exact).max()
        print(f"float32 gradient as -p ({name}): relative error {rel:.1e}")
    # --8<-- [end:cancel]

    # --8<-- [start:penalty]
    z0 = np.zeros((1, 4))  # one example, 4 classes, true class 0
    target = np.array([[1.0, 0.0, 0.0, 0.0]])
    for beta in (0.0, 0.5, 1.0):
        z = z0.copy()
        for _ in range(300):  # gradient descent on cross-entropy - beta * H
            p = np.exp(log_softmax(z))
            _, bonus_grad = regularized_loss(0.0, z, beta)
            grad = (p - target) + bonus_grad  # d(cross-entropy)/dz = p - target
            z -= 1.5 * grad
        p0 = np.exp(log_softmax(z))[0, 0]
        print(f"beta = {beta}: p(true class) = {p0:.4f}, entropy = {entropy(z)[0]:.4f}, "
              f"largest |gradient| {np.abs(grad).max():.0e}")
    # --8<-- [end:penalty]
