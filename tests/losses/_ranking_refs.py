"""Reference formulas in torch for the losses that have no torch built-in.

Each is the textbook formula written directly with torch operations (on torch built-ins such as
pairwise_distance, normalize and cross_entropy where they exist), so autograd gives the
reference gradient. Used by the ranking, overlap and focal tests.
"""

from __future__ import annotations

import torch
from torch.nn import functional


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """torch's `reduction` argument, applied to a tensor of per-item losses."""
    return {"none": lambda v: v, "sum": torch.sum, "mean": torch.mean}[reduction](loss)


def contrastive(x1, x2, y, margin=1.0, eps=1e-6, reduction="mean"):
    """Hadsell et al. (2006) with y = 1 for similar pairs, on torch's pairwise_distance."""
    d = functional.pairwise_distance(x1, x2, p=2.0, eps=eps)
    loss = 0.5 * y * d**2 + 0.5 * (1 - y) * torch.clamp_min(margin - d, 0) ** 2
    return reduce(loss, reduction)


def _cosine_logits(z1, z2, tau):
    """cos(z1_i, z2_j) / tau through torch's normalize (eps 1e-12), shape (N, M)."""
    return functional.normalize(z1) @ functional.normalize(z2).T / tau


def info_nce(z1, z2, tau, reduction="mean"):
    """cross_entropy over cosine logits, target i for row i (in-batch negatives)."""
    return functional.cross_entropy(_cosine_logits(z1, z2, tau), torch.arange(len(z1)),
                                    reduction=reduction)


def clip(z1, z2, tau, reduction="mean"):
    """CLIP's symmetric loss: the mean of the row and the column cross-entropies."""
    logits, target = _cosine_logits(z1, z2, tau), torch.arange(len(z1))
    rows = functional.cross_entropy(logits, target, reduction=reduction)
    return (rows + functional.cross_entropy(logits.T, target, reduction=reduction)) / 2


def nt_xent(z1, z2, tau, reduction="mean"):
    """SimCLR's NT-Xent: cross_entropy over all 2N views, the diagonal masked with -inf."""
    z = torch.cat([z1, z2])
    logits = _cosine_logits(z, z, tau).masked_fill(torch.eye(len(z), dtype=torch.bool),
                                                    float("-inf"))
    n = torch.arange(len(z1))
    return functional.cross_entropy(logits, torch.cat([n + len(z1), n]), reduction=reduction)


def generalized_dice(p, g, smooth=0.0, reduction="mean"):
    """Sudre et al. (2017): 1 - (2 sum_c w_c TP_c + s) / (sum_c w_c (sum p_c + sum g_c) + s),
    w_c = 1 / (sum g_c)^2 over the spatial axes of (N, C, ...) input. An infinite weight (a
    class absent from the sample) is replaced by the sample's largest finite weight, as in
    MONAI's GeneralizedDiceLoss."""
    dim = tuple(range(2, p.dim()))
    tp, sp, sg = (p * g).sum(dim=dim), p.sum(dim=dim), g.sum(dim=dim)  # (N, C)
    w = 1 / sg**2
    finite = torch.where(torch.isinf(w), torch.zeros_like(w), w)
    largest = finite.max(dim=1, keepdim=True).values  # (N, 1)
    w = torch.where(torch.isinf(w), largest, w).detach()  # the weights come from the target
    num = 2 * (w * tp).sum(dim=1) + smooth
    return reduce(1 - num / ((w * (sp + sg)).sum(dim=1) + smooth), reduction)


def tversky(p, g, alpha, beta, smooth, dim=None, reduction="mean"):
    """1 - (TP + s) / (TP + alpha FP + beta FN + s), the sums over `dim` (default: all but 0)."""
    dim = tuple(range(1, p.dim())) if dim is None else dim
    tp = (p * g).sum(dim=dim)
    fp = (p * (1 - g)).sum(dim=dim)
    fn = ((1 - p) * g).sum(dim=dim)
    return reduce(1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth), reduction)


def dice(p, g, smooth, dim=None, reduction="mean"):
    """1 - (2 sum(pg) + s) / (sum p + sum g + s)."""
    dim = tuple(range(1, p.dim())) if dim is None else dim
    num = 2 * (p * g).sum(dim=dim) + smooth
    return reduce(1 - num / (p.sum(dim=dim) + g.sum(dim=dim) + smooth), reduction)


def iou(p, g, smooth, dim=None, reduction="mean"):
    """1 - (sum(pg) + s) / (sum p + sum g - sum(pg) + s)."""
    dim = tuple(range(1, p.dim())) if dim is None else dim
    inter = (p * g).sum(dim=dim)
    union = p.sum(dim=dim) + g.sum(dim=dim) - inter
    return reduce(1 - (inter + smooth) / (union + smooth), reduction)


def sigmoid_focal(x, t, alpha=0.25, gamma=2.0, reduction="mean"):
    """torchvision.ops.sigmoid_focal_loss, written out (alpha=None means no weighting)."""
    p = torch.sigmoid(x)
    ce = functional.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha is not None:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return reduce(loss, reduction)


def softmax_focal(x, y, alpha=None, gamma=2.0, reduction="mean"):
    """-alpha_y (1 - p_y)^gamma log p_y over the class axis 1 (0 for unbatched input)."""
    dim = 0 if x.dim() == 1 else 1
    log_py = functional.log_softmax(x, dim=dim).gather(dim, y.unsqueeze(dim)).squeeze(dim)
    loss = -((-torch.expm1(log_py)) ** gamma) * log_py
    if alpha is not None:
        loss = alpha[y] * loss
    return reduce(loss, reduction)
