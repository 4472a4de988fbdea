"""Reductions, the empirical loss over batches, the gradient's scale and the memory a batch
needs, from snippets/fundamentals/loss.py, against torch's `reduction=`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snippets.fundamentals.loss import epoch_loss, reduce, saved_activation_bytes

DTYPES = [torch.float64, torch.float32]
IDS = ["float64", "float32"]


def per_example_and_reference(name, dtype, reduction):
    """Per-example losses (torch's reduction='none'), their weights, and torch's reduced value."""
    torch.manual_seed(0)
    x, y = torch.randn(40, 5, dtype=dtype), torch.randn(40, 5, dtype=dtype)
    if name == "mse_loss":
        per, w = F.mse_loss(x, y, reduction="none").flatten(), None
        ref = F.mse_loss(x, y, reduction=reduction)
    elif name == "l1_loss":
        per, w = F.l1_loss(x, y, reduction="none").flatten(), None
        ref = F.l1_loss(x, y, reduction=reduction)
    elif name == "bce_with_logits":
        t = (y > 0).to(dtype)
        per, w = F.binary_cross_entropy_with_logits(x, t, reduction="none").flatten(), None
        ref = F.binary_cross_entropy_with_logits(x, t, reduction=reduction)
    else:  # cross_entropy with class weights and ignored targets
        target = torch.randint(0, 5, (40,))
        target[::3] = -100
        weight = torch.tensor([0.5, 1.0, 2.0, 3.0, 0.25], dtype=dtype)
        per = F.cross_entropy(x, target, weight=weight, reduction="none")
        w = np.where(target >= 0, weight[target.clamp(min=0)].numpy(), 0.0)
        ref = F.cross_entropy(x, target, weight=weight, reduction=reduction)
    return per.numpy(), w, ref


@pytest.mark.parametrize("dtype", DTYPES, ids=IDS)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "bce_with_logits", "cross_entropy"])
def test_reduce_matches_torch(name, reduction, dtype):
    """Sum, mean (weighted for cross_entropy: divided by the weights of the non-ignored
    targets) and none equal torch's reduction of the same losses. The terms are >= 0, so a
    sum of n = 200 of them, in any order, is within (n - 1) u of the exact sum (u the unit
    roundoff); two orders differ by at most 2 n u relative, plus a few u for the division."""
    per, w, ref = per_example_and_reference(name, dtype, reduction)
    ours = reduce(per, reduction, weights=w)
    if reduction == "none":
        np.testing.assert_array_equal(ours, ref.numpy().ravel())
        return
    u = np.finfo(per.dtype).eps / 2
    np.testing.assert_allclose(ours, ref.item(), rtol=(2 * 200 + 4) * u, atol=0)
    assert ours.dtype == per.dtype


def test_empty_and_fully_ignored_means_are_nan_like_torch():
    """The mean of no examples, or of examples whose weights sum to 0, is NaN in both; the
    sum is 0."""
    assert math.isnan(reduce(np.zeros(0), "mean"))
    assert torch.isnan(F.mse_loss(torch.zeros(0), torch.zeros(0)))
    x, t = torch.randn(4, 3), torch.full((4,), -100)
    assert torch.isnan(F.cross_entropy(x, t))
    per = F.cross_entropy(x, t, reduction="none").numpy()
    assert math.isnan(reduce(per, "mean", weights=np.zeros(4)))
    assert reduce(per, "sum") == F.cross_entropy(x, t, reduction="sum").item() == 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=IDS)
def test_empty_mean_keeps_the_dtype(dtype):
    """The mean of an empty float32 or float64 batch is NaN of that dtype; the sum is 0."""
    mean = reduce(np.zeros(0, dtype), "mean")
    assert math.isnan(mean)
    assert mean.dtype == dtype
    assert reduce(np.zeros(0, dtype), "sum") == 0


def test_weights_summing_to_zero_with_a_nonzero_sum_give_inf_like_torch():
    """Class weights that cancel (1 and -1) leave a nonzero weighted sum over a zero total
    weight: the mean is +-inf in both, not NaN."""
    torch.manual_seed(0)
    x = torch.randn(4, 2, dtype=torch.float64)
    t = torch.tensor([0, 1, 0, 1])
    weight = torch.tensor([1.0, -1.0], dtype=torch.float64)
    per = F.cross_entropy(x, t, weight=weight, reduction="none").numpy()
    ref = F.cross_entropy(x, t, weight=weight).item()
    ours = reduce(per, "mean", weights=weight[t].numpy())
    assert math.isinf(ref)
    assert ours == ref


def test_what_torch_mean_divides_by():
    """The page's list: mse_loss averages over elements (B * K), cross_entropy with class
    weights over the targets' weights, but with probability targets over the B examples,
    binary_cross_entropy(weight=) over elements, kl_div 'mean' over elements and
    'batchmean' over B."""
    torch.manual_seed(0)
    B, K = 6, 3
    x, y = torch.randn(B, K, dtype=torch.float64), torch.randn(B, K, dtype=torch.float64)
    weight = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)

    def check(fn, divisor):
        ratio = fn(reduction="sum") / fn(reduction="mean")
        expected = torch.as_tensor(divisor, dtype=torch.float64)
        torch.testing.assert_close(ratio, expected, rtol=1e-13, atol=0)

    check(lambda **kw: F.mse_loss(x, y, **kw), B * K)
    t = torch.tensor([0, 1, 2, 2, -100, 1])
    check(lambda **kw: F.cross_entropy(x, t, weight=weight, **kw), weight[t[t >= 0]].sum())
    p = torch.softmax(y, dim=1)  # class probabilities as targets
    check(lambda **kw: F.cross_entropy(x, p, weight=weight, **kw), B)
    probs, labels, w = torch.sigmoid(x), (y > 0).double(), torch.rand(B, K).double()
    check(lambda **kw: F.binary_cross_entropy(probs, labels, weight=w, **kw), B * K)
    logp = torch.log_softmax(x, dim=1)
    with pytest.warns(UserWarning, match="batchmean"):  # torch warns that 'mean' misleads
        check(lambda **kw: F.kl_div(logp, p, **kw), B * K)
    torch.testing.assert_close(F.kl_div(logp, p, reduction="sum") / B,
                               F.kl_div(logp, p, reduction="batchmean"), rtol=1e-13, atol=0)


def test_epoch_loss_refuses_an_empty_batch_size():
    """A batch size below 1 is refused with a ValueError instead of an obscure range error."""
    with pytest.raises(ValueError, match="at least 1"):
        epoch_loss(np.ones(5), 0)


def test_unknown_reduction_is_refused():
    """A misspelt reduction raises instead of silently picking one."""
    with pytest.raises(ValueError, match="'none', 'sum' or 'mean'"):
        reduce(np.ones(3), "avg")


@pytest.mark.parametrize(("n", "batch"), [(1000, 64), (1000, 7), (10, 20), (1, 1)])
def test_weighted_batch_means_equal_the_data_set_mean(n, batch):
    """Batch means weighted by batch size give the mean over all examples, whatever the last
    batch's size."""
    per = np.random.default_rng(n).exponential(size=n)
    _, weighted = epoch_loss(per, batch)
    assert weighted == pytest.approx(per.mean(), rel=1e-12)


def test_plain_batch_means_are_biased_only_by_a_short_last_batch():
    """With equal batches the plain average of batch means is the data-set mean; with a short
    last batch of hard examples it is not."""
    per = np.random.default_rng(0).exponential(size=1024)
    naive, _ = epoch_loss(per, 64)
    assert naive == pytest.approx(per.mean(), rel=1e-12)
    per = per[:1000].copy()
    per[-40:] *= 5
    naive, weighted = epoch_loss(per, 64)
    assert naive > weighted * 1.03  # the 40-example batch counts as much as a 64 one


@pytest.mark.parametrize("B", [1, 5, 32])
def test_sum_gradient_is_batch_size_times_mean_gradient(B):
    """For an unweighted loss, d(sum)/dw = B * d(mean)/dw, so SGD with reduction='sum' and
    learning rate lr takes the step of reduction='mean' with learning rate B * lr."""
    torch.manual_seed(B)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    X, y = torch.randn(B, 3, dtype=torch.float64), torch.randn(B, dtype=torch.float64)
    (g_sum,) = torch.autograd.grad(F.mse_loss(X @ w, y, reduction="sum"), w)
    (g_mean,) = torch.autograd.grad(F.mse_loss(X @ w, y, reduction="mean"), w)
    torch.testing.assert_close(g_sum, B * g_mean, rtol=1e-13, atol=0)
    lr = 0.01
    torch.testing.assert_close(w - lr * g_sum, w - (B * lr) * g_mean, rtol=1e-13, atol=0)


def test_adam_barely_notices_sum_versus_mean():
    """Adam divides by a running gradient size, so 50 steps on the summed loss (gradient 32 x
    larger) land within 1e-6 of those on the mean: the runs differ only through eps = 1e-8,
    whose effect on each step is about lr * eps / |gradient|. SGD with the same lr does not."""
    torch.manual_seed(0)
    X, y = torch.randn(32, 3, dtype=torch.float64), torch.randn(32, dtype=torch.float64)
    final = {}
    for opt_class in (torch.optim.Adam, torch.optim.SGD):
        for reduction in ("mean", "sum"):
            w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
            opt = opt_class([w], lr=0.01)
            for _ in range(50):
                opt.zero_grad()
                F.mse_loss(X @ w, y, reduction=reduction).backward()
                opt.step()
            final[opt_class.__name__, reduction] = w.detach()
    assert (final["Adam", "mean"] - final["Adam", "sum"]).abs().max() < 1e-6
    assert (final["SGD", "mean"] - final["SGD", "sum"]).abs().max() > 0.03  # 0.07 here


def test_weighted_mean_gradient_scale():
    """With class weights, d(sum)/dlogits = (sum of the weights) * d(mean)/dlogits."""
    torch.manual_seed(0)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0, 1, 2, 2, -100, 1])
    weight = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    (g_sum,) = torch.autograd.grad(F.cross_entropy(x, t, weight=weight, reduction="sum"), x)
    (g_mean,) = torch.autograd.grad(F.cross_entropy(x, t, weight=weight), x)
    total = weight[torch.tensor([0, 1, 2, 2, 1])].sum()
    torch.testing.assert_close(g_sum, total * g_mean, rtol=1e-13, atol=1e-15)


def test_saved_bytes_grow_linearly_with_the_batch():
    """What autograd keeps is, per example, the input (256 floats, for the first layer's
    weight gradient) and the ReLU output (512, kept by the ReLU and the second layer, once):
    3072 bytes in float32, twice that in float64, and nothing else (weights excluded)."""
    net = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(),
                              torch.nn.Linear(512, 10))
    for B in (1, 2, 7, 32):
        assert saved_activation_bytes(net, torch.randn(B, 256)) == B * 4 * (256 + 512)
    assert saved_activation_bytes(net.double(), torch.randn(3, 256, dtype=torch.float64)) \
        == 2 * saved_activation_bytes(net.float(), torch.randn(3, 256))


def test_saved_bytes_count_a_shared_tensor_once():
    """The ReLU output is saved twice (by ReLU and by the next Linear) but is one storage;
    counting every save instead would report 256 + 2 * 512 floats per example."""
    net = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(),
                              torch.nn.Linear(512, 10))
    x = torch.randn(4, 256)
    every_save = []

    def pack(t):
        if not any(t.untyped_storage().data_ptr() == p.untyped_storage().data_ptr()
                   for p in net.parameters()):
            every_save.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(x).sum()
    assert sum(every_save) == 4 * 4 * (256 + 2 * 512)
    assert saved_activation_bytes(net, x) == 4 * 4 * (256 + 512)


def test_gradient_accumulation_needs_the_loss_divided_by_k():
    """Accumulating the gradients of k = 4 batch means gives 4 x the gradient of the mean over
    all 32 examples; dividing each loss by k gives it exactly, for equal batch sizes only."""
    torch.manual_seed(0)
    X, y = torch.randn(32, 3, dtype=torch.float64), torch.randn(32, dtype=torch.float64)
    w = torch.randn(3, dtype=torch.float64, requires_grad=True)
    (full,) = torch.autograd.grad(F.mse_loss(X @ w, y), w)

    def accumulated(sizes, divide_by):
        w.grad = None
        for part in torch.split(torch.arange(32), sizes):
            (F.mse_loss(X[part] @ w, y[part]) / divide_by).backward()
        return w.grad.clone()

    torch.testing.assert_close(accumulated(8, 1), 4 * full, rtol=1e-13, atol=0)
    torch.testing.assert_close(accumulated(8, 4), full, rtol=1e-13, atol=0)
    unequal = accumulated([20, 4, 4, 4], 4)  # the 4-example batches weigh as much as the 20
    assert (unequal - full).abs().max() > 0.1 * full.abs().max()  # 1.1 x here
