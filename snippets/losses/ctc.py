r"""CTC (connectionist temporal classification): the loss and its gradient.

Reference: Graves, Fernández, Gomez and Schmidhuber, "Connectionist Temporal
Classification: Labelling Unsegmented Sequence Data with Recurrent Neural Networks",
ICML 2006
(https://www.cs.toronto.edu/~graves/icml_2006.pdf). Checked against
`torch.nn.functional.ctc_loss`.
"""

# --8<-- [start:impl]
# --8<-- [start:extend]
import numpy as np


def extend_with_blanks(target, blank=0):
    r"""The extended label sequence $l'$: a blank before, between and after the labels.

    Args:
        target: integer labels, shape (S,).
        blank: index of the blank symbol.

    Returns:
        (ext, skip): ext has shape (2S+1,); skip[s] is True where a path may jump from
        state s-2 to state s, i.e. where $l'_s$ is a label that differs from $l'_{s-2}$.
    """
    ext = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    ext[1::2] = target  # blank, l_1, blank, l_2, ..., l_S, blank
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = (ext[2:] != blank) & (ext[2:] != ext[:-2])  # "aa" must pass a blank
    return ext, skip
# --8<-- [end:extend]


# --8<-- [start:alpha]
def _shift(v, k):
    """`v` moved k places to the right along its last axis, filled with -inf (log 0)."""
    out = np.full_like(v, -np.inf)
    out[..., k:] = v[..., : v.shape[-1] - k]
    return out


def ctc_alpha(log_probs, target, blank=0):
    r"""Forward variables of CTC in log space, for one sequence.

    $$\alpha_t(s) = \log y^t_{l'_s} + \operatorname{logsumexp}\big(\alpha_{t-1}(s),
    \alpha_{t-1}(s-1), \alpha_{t-1}(s-2)\big)$$

    where the $s-2$ term is present only if $l'_s$ is not blank and $l'_s \ne l'_{s-2}$.
    $\alpha_t(s)$ is the log-probability of all path prefixes up to frame $t$ that end
    in state $s$ of the extended sequence $l'$.

    Args:
        log_probs: log-probabilities of one sequence, shape (T, C).
        target: integer labels, shape (S,), without blanks.
        blank: index of the blank symbol.

    Returns:
        alpha, shape (T, 2S+1), same dtype as `log_probs` (-inf where no path reaches).
    """
    ext, skip = extend_with_blanks(target, blank)
    T, L = log_probs.shape[0], len(ext)
    emit = log_probs[:, ext]  # (T, L): log y^t_{l'_s}
    alpha = np.full((T, L), -np.inf, dtype=log_probs.dtype)
    if T == 0:
        return alpha
    alpha[0, :2] = emit[0, :2]  # a path starts with a blank or with the first label
    for t in range(1, T):
        prev = alpha[t - 1]
        jump = np.where(skip, _shift(prev, 2), -np.inf)  # s-2 -> s, only where allowed
        alpha[t] = np.logaddexp(np.logaddexp(prev, _shift(prev, 1)), jump) + emit[t]
    return alpha
# --8<-- [end:alpha]


# --8<-- [start:likelihood]
def _log_likelihood(alpha, L):
    """log p(l|x): a complete path ends in the last label or in the final blank."""
    if alpha.shape[0] == 0:  # no frames: only the empty target has probability 1
        return np.asarray(0.0 if L == 1 else -np.inf, dtype=alpha.dtype)
    return np.logaddexp(alpha[-1, -1], alpha[-1, -2]) if L > 1 else alpha[-1, -1]
# --8<-- [end:likelihood]


# --8<-- [start:args]
def _checked_targets(log_probs, targets, input_lengths, target_lengths, blank,
                     reduction):
    """Check the arguments (as torch does, and more); one label array per sample."""
    if log_probs.ndim != 3 or log_probs.size == 0:
        raise ValueError("log_probs must be a non-empty (T, N, C) array (as in torch)")
    T, N, C = log_probs.shape
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"unknown reduction {reduction!r}")
    if not 0 <= blank < C:
        raise ValueError(f"blank must be in [0, {C}), got {blank}")
    in_len, tg_len = np.asarray(input_lengths), np.asarray(target_lengths)
    if in_len.shape != (N,) or tg_len.shape != (N,):
        raise ValueError(f"input_lengths and target_lengths must have shape ({N},)")
    if (in_len < 0).any() or (in_len > T).any() or (tg_len < 0).any():
        raise ValueError(f"need 0 <= input_lengths <= {T} and target_lengths >= 0")
    targets = np.asarray(targets)
    if targets.ndim == 2:  # padded (N, S): row n holds target_lengths[n] labels
        if targets.shape[0] != N or (tg_len > targets.shape[1]).any():
            raise ValueError("padded targets need N rows of at least max(S_n) labels")
        split = [targets[n, :s] for n, s in enumerate(tg_len)]
    else:  # concatenated: exactly sum(target_lengths) labels
        if targets.shape != (tg_len.sum(),):
            raise ValueError("concatenated targets need sum(target_lengths) labels")
        split = np.split(targets, np.cumsum(tg_len)[:-1])
    for labels in split:  # torch does not check these: it returns numbers regardless
        if ((labels < 0) | (labels >= C) | (labels == blank)).any():
            raise ValueError(f"labels must be in [0, {C}) and not blank={blank}")
    return split
# --8<-- [end:args]


# --8<-- [start:loss]
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0,
             reduction="mean", zero_infinity=False):
    r"""CTC loss: minus the log of the total probability of all alignments of a target.

    $$\ell_n = -\log p(l \mid x) = -\operatorname{logsumexp}\big(\alpha_{T-1}(|l'|-1),
    \alpha_{T-1}(|l'|-2)\big)$$

    Args:
        log_probs: log-probabilities (e.g. log_softmax outputs), shape (T, N, C).
        targets: labels, padded (N, S) or concatenated (sum(target_lengths),).
        input_lengths: frames used per sample, shape (N,), each in [0, T].
        target_lengths: labels per sample, shape (N,), each >= 0.
        blank: index of the blank symbol, in [0, C) and never a target label.
        reduction: "none" | "sum" | "mean". "mean" divides each loss by its target
            length (at least 1), then averages over the batch, as torch does.
        zero_infinity: replace infinite losses (no possible alignment) by 0.

    Returns:
        Shape (N,) for "none", else a scalar; the dtype of `log_probs`. NaN for a
        sample whose used log-probabilities contain NaN, as in torch.
    """
    log_probs = np.asarray(log_probs)
    split = _checked_targets(log_probs, targets, input_lengths, target_lengths, blank,
                             reduction)
    dtype = log_probs.dtype
    loss = np.empty(len(split), dtype=dtype)  # (N,)
    for n, target in enumerate(split):
        lp = log_probs[: input_lengths[n], n]  # (T_n, C): frames this sample uses
        alpha = ctc_alpha(lp, target, blank)  # (T_n, 2S+1)
        loss[n] = -_log_likelihood(alpha, 2 * len(target) + 1)
    if zero_infinity:
        loss[np.isinf(loss)] = 0
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    lengths = np.maximum(np.asarray(target_lengths), 1).astype(dtype)
    return (loss / lengths).mean()  # "mean": per-sample loss over target length
# --8<-- [end:loss]
# --8<-- [end:impl]


# --8<-- [start:beta]
def ctc_beta(log_probs, target, blank=0):
    r"""Backward variables of CTC in log space, for one sequence.

    $$\beta_t(s) = \operatorname{logsumexp}_{s' \in \{s, s+1, s+2\}}
    \big(\beta_{t+1}(s') + \log y^{t+1}_{l'_{s'}}\big)$$

    with $s+2$ allowed under the same rule as in the forward pass. Unlike the paper,
    $\beta_t(s)$ here excludes the emission at time $t$, so that
    $\alpha_t(s) + \beta_t(s)$ is the log-probability of all paths through $(t, s)$.

    Args:
        log_probs: log-probabilities of one sequence, shape (T, C).
        target: integer labels, shape (S,).
        blank: index of the blank symbol.

    Returns:
        beta, shape (T, 2S+1), same dtype as `log_probs`.
    """
    ext, skip = extend_with_blanks(target, blank)
    T, L = log_probs.shape[0], len(ext)
    emit = log_probs[:, ext]  # (T, L)
    beta = np.full((T, L), -np.inf, dtype=log_probs.dtype)
    if T == 0:
        return beta
    beta[-1, -2:] = 0  # a path may end in the last label or the final blank
    skip_next = np.zeros(L, dtype=bool)
    skip_next[:-2] = skip[2:]  # s -> s+2 allowed
    for t in range(T - 2, -1, -1):
        nxt = beta[t + 1] + emit[t + 1]  # (L,)
        step = np.full_like(nxt, -np.inf)
        step[:-1] = nxt[1:]  # s -> s+1
        jump = np.full_like(nxt, -np.inf)
        jump[:-2] = nxt[2:]  # s -> s+2
        jump[~skip_next] = -np.inf
        beta[t] = np.logaddexp(np.logaddexp(nxt, step), jump)
    return beta
# --8<-- [end:beta]


# --8<-- [start:grad]
def ctc_loss_grad(log_probs, targets, input_lengths, target_lengths, blank=0,
                  reduction="mean", zero_infinity=False):
    r"""Gradient of `ctc_loss` with respect to `log_probs`, by forward-backward.

    $$\frac{\partial \ell_n}{\partial \log y^t_k} = -\gamma_t(k), \qquad
    \gamma_t(k) = \sum_{s:\, l'_s = k} \exp\big(\alpha_t(s) + \beta_t(s) + \ell_n\big)$$

    $\gamma_t(k)$ is the posterior probability that frame $t$ emits symbol $k$. Through
    a log_softmax over logits $z$, this becomes $y^t_k - \gamma_t(k)$, which is what
    torch's backward returns even when `log_probs` is a leaf.

    Takes the arguments of `ctc_loss`; for reduction="none" it returns the gradient of
    the summed per-sample losses.

    Returns:
        Shape (T, N, C), dtype of `log_probs`; 0 for frames past `input_lengths`, NaN
        for a sample with no possible alignment (0 if zero_infinity=True), as torch.
    """
    log_probs = np.asarray(log_probs)
    split = _checked_targets(log_probs, targets, input_lengths, target_lengths, blank,
                             reduction)
    N, dtype = len(split), log_probs.dtype
    grad = np.zeros_like(log_probs)  # (T, N, C)
    # d(reduced loss)/d(loss_n): 1, or 1 / (N * max(S_n, 1)) for the mean
    lengths = np.maximum(np.asarray(target_lengths), 1)
    weight = 1 / (lengths * N) if reduction == "mean" else np.ones(N)
    for n, target in enumerate(split):
        lp = log_probs[: input_lengths[n], n]  # (T_n, C)
        alpha, beta = ctc_alpha(lp, target, blank), ctc_beta(lp, target, blank)
        ext, _ = extend_with_blanks(target, blank)
        log_p = _log_likelihood(alpha, len(ext))
        if np.isneginf(log_p):  # no alignment: the loss is +inf
            grad[: input_lengths[n], n] = 0 if zero_infinity else np.nan
            continue
        log_gamma = np.full_like(lp, -np.inf)  # (T_n, C)
        np.logaddexp.at(log_gamma.T, ext, (alpha + beta).T)  # sum over s with l'_s = k
        grad[: input_lengths[n], n] = -np.exp(log_gamma - log_p) * dtype.type(weight[n])
    return grad
# --8<-- [end:grad]


if __name__ == "__main__":
    # --8<-- [start:example]
    # 4 frames, symbols {blank, a, b}; target "aa" needs a blank between the two a's
    probs = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1],
                      [0.1, 0.8, 0.1], [0.5, 0.4, 0.1]])
    lp = np.log(probs)[:, None, :]  # (T=4, N=1, C=3)
    for target in ([1, 1], [1, 2], [1, 2, 1, 2, 1]):
        loss = ctc_loss(lp, [target], [4], [len(target)], reduction="none")
        print(f"target {target}: loss {loss[0]:.4f}")
    # --8<-- [end:example]

    # --8<-- [start:check]
    import torch

    def log_softmax_backward(lp, g):  # chain d/d(log_softmax(z)) back to d/dz
        return g - np.exp(lp) * g.sum(-1, keepdims=True)

    print("checked against torch.nn.functional.ctc_loss (through log_softmax)")
    rng = np.random.default_rng(0)
    T, N, C, S = 12, 4, 5, 4
    in_len = np.array([12, 10, 8, 12])
    tg_len = np.array([4, 2, 0, 3])
    tg = rng.integers(1, C, size=(N, S))
    tg[0, :2] = 3  # a repeated label
    for dtype in (np.float64, np.float32):
        z = (rng.normal(size=(T, N, C)) * 3).astype(dtype)  # logits
        zt = torch.tensor(z, requires_grad=True)
        lpt = zt.log_softmax(-1)  # torch's own log_softmax feeds both implementations
        lp = lpt.detach().numpy()
        args = (torch.tensor(tg), torch.tensor(in_len), torch.tensor(tg_len))
        ref = torch.nn.functional.ctc_loss(lpt, *args, reduction="mean")
        ref.backward()
        ours = ctc_loss(lp, tg, in_len, tg_len, reduction="mean")
        g = log_softmax_backward(lp, ctc_loss_grad(lp, tg, in_len, tg_len))
        v_err = abs(float(ours) - ref.item())
        g_err = np.abs(g - zt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check]
