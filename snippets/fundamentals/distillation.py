r"""Knowledge distillation: the temperature-softened KL loss, its gradient, and the combined
loss with the hard labels.

Reference: G. Hinton, O. Vinyals and J. Dean, "Distilling the Knowledge in a Neural Network",
2015. Checked against `torch.nn.functional.kl_div` (with `log_softmax` inputs and
`log_target=True`) and `torch.nn.functional.cross_entropy`.
"""

# --8<-- [start:impl]
# --8<-- [start:soft_kl]
import numpy as np


def log_softmax(z):
    """Stable log-softmax over the last dimension."""
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def check_temperature(T):
    """Refuse a temperature that is not a positive finite number."""
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"the temperature T must be positive and finite, not {T}")


def soft_kl(student, teacher, T=1.0):
    r"""Mean over the batch of $D_{\mathrm{KL}}(p^T \,\|\, q^T)$.

    $$p^T = \operatorname{softmax}(t / T), \quad q^T = \operatorname{softmax}(s / T), \quad
    L_{\mathrm{soft}} = \frac{1}{B} \sum_{b=1}^{B} \sum_{c=1}^{N}
    p^T_{bc} \,(\log p^T_{bc} - \log q^T_{bc})$$

    Args:
        student: (B, N) logits $s$ of the student.
        teacher: (B, N) logits $t$ of the teacher (a constant: no gradient flows to it).
        T: temperature, positive and finite.

    Returns:
        A scalar of the logits' dtype; NaN for an empty batch, as in torch.
    """
    check_temperature(T)
    s, t = np.asarray(student), np.asarray(teacher)
    log_q = log_softmax(s / s.dtype.type(T))  # (B, N)
    log_p = log_softmax(t / t.dtype.type(T))  # (B, N)
    terms = np.exp(log_p) * (log_p - log_q)  # p = 0 gives 0: log p stays finite
    with np.errstate(invalid="ignore"):  # B = 0: 0 / 0 = NaN
        return terms.sum() / s.dtype.type(s.shape[0])
# --8<-- [end:soft_kl]


# --8<-- [start:soft_kl_grad]
def soft_kl_grad(student, teacher, T=1.0):
    r"""Gradient of `soft_kl` with respect to the student logits.

    $$\frac{\partial L_{\mathrm{soft}}}{\partial s_{bc}} = \frac{q^T_{bc} - p^T_{bc}}{B T}$$

    Args:
        student: (B, N) student logits $s$.
        teacher: (B, N) teacher logits $t$.
        T: temperature, positive and finite.

    Returns:
        A (B, N) array of the dtype of `student`.
    """
    check_temperature(T)
    s, t = np.asarray(student), np.asarray(teacher)
    T = s.dtype.type(T)
    q = np.exp(log_softmax(s / T))  # (B, N)
    p = np.exp(log_softmax(t / T))  # (B, N)
    return (q - p) / (s.dtype.type(s.shape[0]) * T)
# --8<-- [end:soft_kl_grad]


# --8<-- [start:combined]
def distillation_loss(student, teacher, labels, T=4.0, alpha=0.9):
    r"""Hinton et al.'s training loss: scaled soft KL plus hard-label cross-entropy.

    $$L = \alpha \, T^2 \, L_{\mathrm{soft}} + (1 - \alpha) \, L_{\mathrm{hard}}, \qquad
    L_{\mathrm{hard}} = -\frac{1}{B} \sum_b \log \operatorname{softmax}(s_b)_{y_b}$$

    Args:
        student: (B, N) student logits $s$.
        teacher: (B, N) teacher logits $t$.
        labels: (B,) integer class labels $y$.
        T: temperature of the soft term, positive and finite.
        alpha: weight $\alpha \in [0, 1]$ of the soft term.

    Returns:
        `(loss, grad)`: the scalar $L$ and its (B, N) gradient with respect to $s$.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], not {alpha}")
    s, y = np.asarray(student), np.asarray(labels)
    B, N = s.shape
    log_q1 = log_softmax(s)  # the student at T = 1 for the hard labels
    hard = -log_q1[np.arange(B), y].sum() / s.dtype.type(B)
    hard_grad = (np.exp(log_q1) - np.eye(N, dtype=s.dtype)[y]) / s.dtype.type(B)
    w = s.dtype.type(alpha * T**2)  # the soft term, scaled by T^2
    loss = w * soft_kl(s, teacher, T) + s.dtype.type(1 - alpha) * hard
    grad = w * soft_kl_grad(s, teacher, T) + s.dtype.type(1 - alpha) * hard_grad
    return loss, grad
# --8<-- [end:combined]
# --8<-- [end:impl]


# --8<-- [start:high_t]
def high_temperature_limit(student, teacher):
    r"""The limit of $T^2 \,\partial L_{\mathrm{soft}} / \partial s$ as $T \to \infty$.

    $$\lim_{T \to \infty} T^2 \frac{\partial L_{\mathrm{soft}}}{\partial s_{bc}}
    = \frac{(s_{bc} - \bar s_b) - (t_{bc} - \bar t_b)}{B N}$$

    with $\bar s_b$, $\bar t_b$ the means of example $b$'s logits: $(s - t)/(BN)$ when the
    logits have zero mean, as Hinton et al. assume.

    Args:
        student: (B, N) student logits.
        teacher: (B, N) teacher logits.

    Returns:
        A (B, N) array.
    """
    s, t = np.asarray(student), np.asarray(teacher)
    B, N = s.shape
    s0 = s - s.mean(axis=-1, keepdims=True)
    t0 = t - t.mean(axis=-1, keepdims=True)
    return (s0 - t0) / (B * N)
# --8<-- [end:high_t]


if __name__ == "__main__":
    # --8<-- [start:soften]
    teacher_logits = np.array([[9.0, 4.0, 1.0, -2.0]])  # "cat", "dog", "car", "tree"
    for T in (1, 4, 16):
        p = np.exp(log_softmax(teacher_logits / T))
        print(f"T = {T:2d}: p = {np.array2string(p[0], precision=4)}")
    # --8<-- [end:soften]

    # --8<-- [start:scale]
    rng = np.random.default_rng(0)
    s = rng.normal(size=(8, 10))  # student logits: 8 examples, 10 classes
    t = 3 * rng.normal(size=(8, 10))  # teacher logits
    s, t = s - s.mean(1, keepdims=True), t - t.mean(1, keepdims=True)  # zero mean
    limit = np.linalg.norm(high_temperature_limit(s, t))
    print(f" T   |grad|    T^2 |grad|   (limit of T^2 |grad|: {limit:.5f})")
    for T in (1, 2, 4, 8, 16, 64):
        g = np.linalg.norm(soft_kl_grad(s, t, T))
        print(f"{T:2d}  {g:.2e}  {T**2 * g:.5f}")
    # --8<-- [end:scale]

    # --8<-- [start:check]
    import torch
    import torch.nn.functional as F

    def torch_soft_kl(s, t, T):
        return F.kl_div(F.log_softmax(s / T, dim=1), F.log_softmax(t / T, dim=1),
                        reduction="batchmean", log_target=True)

    T, alpha = 4.0, 0.9
    rng = np.random.default_rng(1)
    s64, t64 = rng.normal(size=(64, 10)) * 5, rng.normal(size=(64, 10)) * 5
    s64[0, :2], t64[1, :2] = [1e4, -1e4], [-1e4, 1e4]  # huge logits: p and q reach 0
    y = rng.integers(0, 10, size=64)
    for name in ("soft", "combined"):
        if name == "soft":
            print("checked against torch.nn.functional.kl_div (log_target=True)")
        else:
            print("checked against T^2 kl_div + torch.nn.functional.cross_entropy")
        for dtype in (np.float64, np.float32):
            s, t = s64.astype(dtype), t64.astype(dtype)
            st = torch.tensor(s, requires_grad=True)
            tt, yt = torch.tensor(t), torch.tensor(y)
            if name == "soft":
                ours, ours_grad = soft_kl(s, t, T), soft_kl_grad(s, t, T)
                ref = torch_soft_kl(st, tt, T)
            else:
                ours, ours_grad = distillation_loss(s, t, y, T, alpha)
                ref = (alpha * T**2 * torch_soft_kl(st, tt, T)
                       + (1 - alpha) * F.cross_entropy(st, yt))
            ref.backward()
            value_err = abs(ours - ref.item()) / abs(ref.item())
            grad_err = np.abs(ours_grad - st.grad.numpy()).max()
            print(f"{np.dtype(dtype).name}: max |ours - torch| "
                  f"relative value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
