r"""Pairwise ranking losses: the margin (hinge) form and the logistic (Bradley-Terry) form.

References: R. Herbrich, T. Graepel and K. Obermayer, "Large Margin Rank Boundaries for
Ordinal Regression", Advances in Large Margin Classifiers, MIT Press, 2000; T. Joachims,
"Optimizing Search Engines using Clickthrough Data", KDD 2002; C. Burges et al.,
"Learning to Rank using Gradient Descent", ICML 2005 (RankNet, the logistic form).
Checked against `torch.nn.functional.margin_ranking_loss` and
`torch.nn.functional.logsigmoid`.
"""

# --8<-- [start:impl]
# --8<-- [start:reduce]
import numpy as np


def _reduce(loss, reduction):
    """Apply torch's `reduction` to per-pair losses (mean of nothing is NaN)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else loss.dtype.type(np.nan)
    raise ValueError(f"unknown reduction {reduction!r}")


def _scale(n, reduction):
    """d(reduced loss) / d(per-pair loss) for n pairs: 1/n for "mean", else 1."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"unknown reduction {reduction!r}")
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0
# --8<-- [end:reduce]


# --8<-- [start:margin]
def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    r"""Hinge on the score difference of a pair, as torch's `margin_ranking_loss`.

    $$\ell(x_1, x_2, y) = \max\bigl(0,\ -y\,(x_1 - x_2) + m\bigr)$$

    $y = 1$ says $x_1$ should rank higher than $x_2$ (by at least $m$); $y = -1$ says
    the opposite.

    Args:
        input1: scores $x_1$, any shape.
        input2: scores $x_2$, same shape.
        target: $y \in \{-1, +1\}$, same shape. A label 0 gives the constant
            $\max(0, m)$.
        margin: $m$, any real number as in torch (usually $\ge 0$). Default 0.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or an array shaped like the inputs for "none".
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    return _reduce(np.maximum(-y * (x1 - x2) + margin, 0), reduction)
# --8<-- [end:margin]


# --8<-- [start:margin-grad]
def margin_ranking_loss_grad(input1, input2, target, margin=0.0, reduction="mean"):
    r"""Gradients of `margin_ranking_loss` w.r.t. `input1` and `input2`.

    For reduction "none", the gradients of the sum of the per-pair losses.

    $$\frac{\partial \ell}{\partial x_1} = -y\,[-y(x_1 - x_2) + m \ge 0],
    \qquad \frac{\partial \ell}{\partial x_2} = -\frac{\partial \ell}{\partial x_1}$$

    At the kink (hinge exactly 0) the pair counts as active, as in torch's `clamp_min`;
    a NaN score gets a zero gradient, also as in torch.

    Returns:
        A pair of arrays, each shaped like the inputs.
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    active = -y * (x1 - x2) + margin >= 0  # the kink counts, like torch's clamp_min
    g1 = (-y * active * _scale(active.size, reduction)).astype(x1.dtype)
    return g1, -g1
# --8<-- [end:margin-grad]


# --8<-- [start:logistic]
def logistic_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    r"""Logistic pairwise loss (RankNet, Bradley-Terry reward models).

    $$\ell(x_1, x_2, y) = -\log \sigma\bigl(y\,(x_1 - x_2) - m\bigr)
    = \log\bigl(1 + e^{-(y\,(x_1 - x_2) - m)}\bigr)$$

    Args:
        input1: scores $x_1$ (e.g. rewards of the chosen answers), any shape.
        input2: scores $x_2$ (e.g. rewards of the rejected answers), same shape.
        target: $y \in \{-1, +1\}$, same shape; 1 says $x_1$ should be higher.
        margin: $m$, an extra gap asked for (any real). Default 0.
        reduction: "mean", "sum" or "none".

    Returns:
        A scalar, or an array shaped like the inputs for "none".
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    z = margin - y * (x1 - x2)  # -t
    softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + e^z)
    return _reduce(softplus, reduction)
# --8<-- [end:logistic]


# --8<-- [start:logistic-grad]
def logistic_ranking_loss_grad(input1, input2, target, margin=0.0, reduction="mean"):
    r"""Gradients of `logistic_ranking_loss` w.r.t. `input1` and `input2`.

    With $t = y\,(x_1 - x_2) - m$:

    $$\frac{\partial \ell}{\partial x_1} = -y\,\sigma(-t)
    = -\frac{\partial \ell}{\partial x_2}$$

    $\sigma(-t)$ is computed from $e^{-|t|}$, never as $1 - \sigma(t)$, which would
    cancel to 0 for large $t$.

    Returns:
        A pair of arrays, each shaped like the inputs.
    """
    x1, x2 = np.asarray(input1), np.asarray(input2)
    y = np.asarray(target, dtype=x1.dtype)
    t = y * (x1 - x2) - margin
    e = np.exp(-np.abs(t))  # in (0, 1]: cannot overflow
    sig_neg = np.where(t >= 0, e, 1) / (1 + e)  # sigma(-t)
    g1 = (-y * sig_neg * _scale(t.size, reduction)).astype(x1.dtype)
    return g1, -g1
# --8<-- [end:logistic-grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch
    from torch.nn import functional

    a = np.array([3.0, 1.0, 0.5, 2.0])
    b = np.array([1.0, 2.0, 0.0, 2.5])
    y = np.array([1.0, 1.0, 1.0, -1.0])  # 1: a should beat b; -1: b should beat a
    print("margin 1, per pair:", margin_ranking_loss(a, b, y, 1.0, reduction="none"))
    print("logistic, per pair:", logistic_ranking_loss(a, b, y, reduction="none"))

    def report(name, v_err, g_err):
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")

    def logistic_ref(t1, t2, t, margin, reduction):  # -log sigma(y (x1 - x2) - m)
        loss = -functional.logsigmoid(t * (t1 - t2) - margin)
        return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]

    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(2, 200)) * 3
    t = np.where(rng.random(200) < 0.5, -1.0, 1.0)
    cases = (  # ours, its gradient, the torch reference
        ("torch.nn.functional.margin_ranking_loss", margin_ranking_loss,
         margin_ranking_loss_grad, functional.margin_ranking_loss),
        ("-torch.nn.functional.logsigmoid(y * (x1 - x2) - margin)",
         logistic_ranking_loss, logistic_ranking_loss_grad, logistic_ref),
    )
    for name, loss, grad, ref_fn in cases:
        print(f"checked against {name}")
        for dtype in (np.float64, np.float32):
            v_err = g_err = 0.0
            for reduction in ("mean", "sum", "none"):
                p1, p2, yy = (v.astype(dtype) for v in (x1, x2, t))
                t1 = torch.tensor(p1, requires_grad=True)
                t2 = torch.tensor(p2, requires_grad=True)
                ref = ref_fn(t1, t2, torch.tensor(yy), 0.5, reduction=reduction)
                ref.sum().backward()
                ours = loss(p1, p2, yy, 0.5, reduction)
                g1, g2 = grad(p1, p2, yy, 0.5, reduction)
                v_err = max(v_err, np.abs(ours - ref.detach().numpy()).max())
                g_err = max(g_err, np.abs(g1 - t1.grad.numpy()).max(),
                            np.abs(g2 - t2.grad.numpy()).max())
            report(np.dtype(dtype).name, v_err, g_err)
    # --8<-- [end:check]
