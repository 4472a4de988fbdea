r"""A loss for one example, the empirical loss over a data set, and how batches reduce it.

Checked against the `reduction=` argument of torch's losses (`"none"`, `"sum"`, `"mean"`),
including the weighted mean of `torch.nn.functional.cross_entropy`.
"""

# --8<-- [start:impl]
# --8<-- [start:reduce]
import numpy as np


def reduce(losses, reduction="mean", weights=None):
    r"""Combine per-example losses into what a training step minimises.

    $$\text{mean} = \frac{\sum_i w_i \ell_i}{\sum_i w_i}, \qquad
    \text{sum} = \sum_i w_i \ell_i$$

    Args:
        losses: (B,) per-example losses: $\ell_i$, or $w_i \ell_i$ if `weights` is given
            (already multiplied by their weights, as torch's `reduction="none"` returns
            them).
        reduction: `"none"`, `"sum"` or `"mean"`.
        weights: optional (B,) weights $w_i$ of the examples; the mean then divides by
            their sum, as torch's `cross_entropy(weight=...)` does for class-index targets.

    Returns:
        The (B,) losses for `"none"`, else a NumPy scalar of their dtype. The mean of zero
        examples, or of weights summing to 0, is $0/0$ = NaN, as in torch (a nonzero sum
        over weights summing to 0 gives $\pm\infty$, as in torch).
    """
    losses = np.asarray(losses)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        total = losses.size if weights is None else np.sum(weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            return losses.sum() / np.asarray(total, losses.dtype)  # 0/0 is NaN
    raise ValueError(f"reduction must be 'none', 'sum' or 'mean', not {reduction!r}")
# --8<-- [end:reduce]


# --8<-- [start:epoch]
def epoch_loss(per_example, batch_size):
    r"""The empirical loss of a data set computed batch by batch, two ways.

    Args:
        per_example: (N,) losses of every example of the data set.
        batch_size: examples per batch; the last batch may be smaller.

    Returns:
        `(mean_of_batch_means, weighted)`: the plain average of the batch means (what a loop
        that averages `loss.item()` reports), and the average weighted by batch size, which
        equals the mean over all N examples.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    batches = [per_example[i : i + batch_size]
               for i in range(0, len(per_example), batch_size)]
    means = np.array([b.mean() for b in batches])  # one number per batch
    sizes = np.array([len(b) for b in batches])
    return means.mean(), (means * sizes).sum() / sizes.sum()
# --8<-- [end:epoch]
# --8<-- [end:impl]


# --8<-- [start:memory]
def saved_activation_bytes(model, x):
    r"""Bytes that autograd keeps alive for the backward pass of `model(x).sum()`.

    Args:
        model: a `torch.nn.Module`.
        x: its input batch.

    Returns:
        The total size, in bytes, of the distinct storages of the tensors autograd saves,
        leaving out the model's parameters (they are in memory anyway).
    """
    import torch

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    kept = {}  # storage address -> bytes; a tensor saved by two operations counts once

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            kept[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x).sum()
    return sum(kept.values())
# --8<-- [end:memory]


if __name__ == "__main__":
    # --8<-- [start:demo]
    losses = np.array([0.2, 1.5, 0.1, 0.6])  # one loss per example of a batch
    print("none", reduce(losses, "none"))
    print("sum ", reduce(losses, "sum"))
    print("mean", reduce(losses, "mean"))
    # --8<-- [end:demo]

    # --8<-- [start:epoch_demo]
    rng = np.random.default_rng(0)
    per_example = rng.exponential(size=1000)  # 1000 examples: batches of 64 leave 40 over
    per_example[-40:] *= 5  # the last, smaller batch happens to hold hard examples
    naive, weighted = epoch_loss(per_example, 64)
    print(f"mean over examples   {per_example.mean():.4f}")
    print(f"weighted batch means {weighted:.4f}")
    print(f"plain batch means    {naive:.4f}")
    # --8<-- [end:epoch_demo]

    # --8<-- [start:gradient_scale]
    import torch

    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    X, y = torch.randn(32, 3), torch.randn(32)  # a batch of B = 32
    for reduction in ("mean", "sum"):
        loss = torch.nn.functional.mse_loss(X @ w, y, reduction=reduction)
        (grad,) = torch.autograd.grad(loss, w)
        norm = grad.norm().item()
        print(f"{reduction:4s}: loss {loss.item():8.4f}  |grad| {norm:8.4f}")
    # --8<-- [end:gradient_scale]

    # --8<-- [start:memory_demo]
    net = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(),
                              torch.nn.Linear(512, 10))
    for B in (1, 32, 256):
        kib = saved_activation_bytes(net, torch.randn(B, 256)) / 2**10
        print(f"batch {B:4d}: {kib:5.0f} KiB kept for the backward pass")
    # --8<-- [end:memory_demo]

    # --8<-- [start:check]
    import torch.nn.functional as F

    print("checked against the reduction= argument of torch's losses")
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(1)
        logits, target = torch.randn(50, 4, dtype=dtype), torch.randint(0, 4, (50,))
        target[::7] = -100  # ignored examples count in neither the sum nor the weights
        weight = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=dtype)
        pred, goal = torch.randn(50, 3, dtype=dtype), torch.randn(50, 3, dtype=dtype)
        errors = []
        for reduction in ("sum", "mean"):
            per = F.cross_entropy(logits, target, weight=weight, reduction="none")
            per = per.numpy()
            w_i = np.where(target >= 0, weight[target.clamp(min=0)].numpy(), 0)
            ours = reduce(per, reduction, weights=w_i)
            ref = F.cross_entropy(logits, target, weight=weight, reduction=reduction)
            errors.append(abs(ours - ref.item()) / abs(ref.item()))
            per = F.mse_loss(pred, goal, reduction="none").numpy().ravel()
            ref = F.mse_loss(pred, goal, reduction=reduction)
            errors.append(abs(reduce(per, reduction) - ref.item()) / abs(ref.item()))
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| relative value {max(errors):.1e}")
    # --8<-- [end:check]
