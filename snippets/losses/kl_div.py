r"""Kullback-Leibler divergence with torch's argument order (log-probabilities first).

Reference: S. Kullback and R. A. Leibler, "On Information and Sufficiency", Annals of
Mathematical Statistics 22(1), 1951. Checked against `torch.nn.functional.kl_div`.
"""

# --8<-- [start:impl]
import numpy as np


def kl_div(input, target, reduction="mean", log_target=False):
    r"""Pointwise KL divergence $D_{\mathrm{KL}}(p \,\|\, q)$, from $\log q$ and $p$.

    $$\ell = t \,(\log t - x), \qquad 0 \log 0 = 0,$$

    where `input` $x = \log q$ is the model's log-probability and `target` $t = p$ is
    the reference probability (or $\log p$ when `log_target` is true, then
    $\ell = e^{t}(t - x)$). Summed over the classes this is
    $D_{\mathrm{KL}}(p \,\|\, q) = \sum_c p_c \log(p_c / q_c)$.

    Args:
        input: log-probabilities $\log q$, any shape; the batch is dimension 0.
        target: probabilities $p$ (or $\log p$), same shape as `input`.
        reduction: "none", "mean" (default, as in torch: divides by the number of
            elements), "batchmean" (divides by `input.shape[0]`: the true KL per
            sample), or "sum".
        log_target: whether `target` holds log-probabilities.

    Returns:
        The pointwise terms for "none" (shape of `input`), else a scalar.
    """
    x, t = np.asarray(input), np.asarray(target)
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        t_log_t = t * np.log(np.where(t > 0, t, 1))  # where t = 0: 0 * log 1 = 0
        with np.errstate(invalid="ignore"):  # t = 0 with x = -inf: NaN, as in torch
            loss = t_log_t - t * x
    if reduction == "none":
        return loss
    if reduction == "sum" or (reduction == "batchmean" and x.ndim == 0):
        return loss.sum()
    with np.errstate(invalid="ignore"):  # empty input: 0 / 0 = NaN, as in torch
        if reduction == "batchmean":
            return loss.sum() / x.shape[0]
        if reduction == "mean":
            return loss.sum() / loss.size
    raise ValueError(f"unknown reduction {reduction!r}")


def kl_div_grad(input, target, reduction="mean", log_target=False):
    r"""Derivative of `kl_div` with respect to `input` (the log-probabilities).

    $$\frac{\partial \ell}{\partial x} = -t$$

    or $-e^{t}$ when `log_target` is true,

    divided by the number of elements ("mean") or by `input.shape[0]` ("batchmean").

    The arguments are those of `kl_div`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x, t = np.asarray(input), np.asarray(target)
    grad = -np.exp(t) if log_target else -t
    grad = np.broadcast_to(grad, x.shape).astype(x.dtype)
    if reduction == "mean":
        return grad / max(x.size, 1)
    if reduction == "batchmean" and x.ndim > 0:
        return grad / max(x.shape[0], 1)
    if reduction not in ("sum", "none", "batchmean"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return grad
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

    # --8<-- [start:check]
    import warnings

    import torch
    F = torch.nn.functional

    rng = np.random.default_rng(0)
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
