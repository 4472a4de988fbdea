"""CTC loss and its forward-backward gradient match torch.nn.functional.ctc_loss."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.losses.ctc import ctc_alpha, ctc_beta, ctc_loss, ctc_loss_grad, extend_with_blanks
from tests.helpers import DTYPES, assert_matches, dtype_id, tensor

REDUCTIONS = ("none", "sum", "mean")


def log_softmax_backward(lp, g):
    """Chain a gradient w.r.t. log_softmax(z) back to the logits z (softmax = exp(lp))."""
    return g - np.exp(lp) * g.sum(-1, keepdims=True)


def torch_reference(z, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    """torch's loss on log_softmax of leaf logits z, the log-probs it saw, and d(sum)/dz."""
    zt = tensor(z, grad=True)
    lpt = zt.log_softmax(-1)
    loss = torch.nn.functional.ctc_loss(
        lpt, torch.tensor(np.asarray(targets)), torch.tensor(input_lengths),
        torch.tensor(target_lengths), blank=blank, reduction=reduction,
        zero_infinity=zero_infinity,
    )
    loss.sum().backward()
    return lpt.detach().numpy(), loss, zt.grad


def case(T, C, targets, input_lengths=None, blank=0, scale=3.0, seed=0):
    """Logits (T, N, C), padded targets (N, S) and lengths from a list of label lists."""
    N = len(targets)
    S = max(1, max(len(t) for t in targets))
    padded = np.full((N, S), 1 if blank != 1 else 2, dtype=np.int64)  # padding is ignored
    for n, t in enumerate(targets):
        padded[n, : len(t)] = t
    z = np.random.default_rng(seed).normal(size=(T, N, C)) * scale
    in_len = np.full(N, T) if input_lengths is None else np.asarray(input_lengths)
    return z, padded, in_len, np.array([len(t) for t in targets]), blank


CASES = [
    pytest.param(case(8, 5, [[1, 2, 3]]), id="batch-1"),
    pytest.param(case(10, 5, [[1, 2], [3, 3], [4, 1, 2, 2]]), id="batch-3-repeats"),
    pytest.param(case(12, 4, [[1, 1, 1], [1, 2, 2, 1], [3], [2, 3, 1], [1, 1], [2],
                              [3, 2, 1, 1], [1, 3]], seed=1), id="batch-8"),
    pytest.param(case(3, 3, [[1, 1]]), id="aa-tight-T3"),  # only a-blank-a fits
    pytest.param(case(5, 3, [[1, 2, 1, 2, 1]]), id="alternating-tight-T5"),
    pytest.param(case(6, 4, [[], [2, 1], []]), id="empty-targets"),
    pytest.param(case(9, 5, [[1, 2, 3], [4, 4], [2]], input_lengths=[9, 5, 1]),
                 id="short-inputs"),
    pytest.param(case(7, 4, [[0, 1, 2], [1, 1]], blank=3), id="blank-last"),
    pytest.param(case(6, 4, [[1, 2], [3, 3, 3, 3]]), id="impossible-repeats"),
    pytest.param(case(5, 4, [[1, 2, 3, 1, 2, 3], [2]]), id="impossible-too-long"),
    pytest.param(case(4, 3, [[1], [2, 2]], input_lengths=[4, 2]), id="impossible-short-input"),
    pytest.param(case(4, 3, [[], [1], [2]], input_lengths=[0, 0, 4]), id="zero-input-length"),
]


@pytest.mark.parametrize("zero_infinity", [False, True], ids=["keep-inf", "zero-inf"])
@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("data", CASES)
def test_value_and_gradient_match_torch(data, dtype, reduction, zero_infinity):
    """Loss and d(loss)/d(logits) through log_softmax equal torch's, inf and NaN included."""
    z, targets, in_len, tg_len, blank = data
    lp, ref, ref_grad = torch_reference(z.astype(dtype), targets, in_len, tg_len, blank,
                                        reduction, zero_infinity)
    args = (lp, targets, in_len, tg_len, blank, reduction, zero_infinity)
    assert_matches(ctc_loss(*args), ref)
    assert_matches(log_softmax_backward(lp, ctc_loss_grad(*args)), ref_grad)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_huge_logits_match_torch(dtype, reduction):
    """Logits of +-1e4: finite losses equal torch's, gradients within the inputs' rounding."""
    z, targets, in_len, tg_len, blank = case(6, 4, [[1, 2, 3], [2, 2, 2]], scale=1e4)
    lp, ref, ref_grad = torch_reference(z.astype(dtype), targets, in_len, tg_len, blank,
                                        reduction, False)
    args = (lp, targets, in_len, tg_len, blank, reduction)
    assert np.isfinite(ctc_loss(*args)).all()
    assert_matches(ctc_loss(*args), ref)
    # The posteriors are exp of sums of log-probs of size |lp| ~ 3e4, each already rounded
    # to a relative eps: both sides carry an absolute error of a few eps * max|lp| (torch
    # adds and subtracts terms that large in exp(lcab + nll - lp)). Measured: 1.2 to 1.8
    # times eps * max|lp|; a wrong formula would be off by O(1).
    bound = 4 * np.finfo(dtype).eps * np.abs(lp).max()
    assert_matches(log_softmax_backward(lp, ctc_loss_grad(*args)), ref_grad, atol=bound)


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=lambda r: f"reduction-{r}")
@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_concatenated_targets_match_torch(dtype, reduction):
    """1-D concatenated targets give torch's loss and gradient, and the padded result."""
    lengths = [9, 6, 7, 3]
    z, padded, in_len, tg_len, _ = case(9, 5, [[1, 2, 2], [], [4, 3], [1]], lengths)
    flat = np.concatenate([padded[n, :s] for n, s in enumerate(tg_len)])
    lp, ref, ref_grad = torch_reference(z.astype(dtype), flat, in_len, tg_len, 0, reduction,
                                        False)
    args = (lp, flat, in_len, tg_len, 0, reduction)
    assert_matches(ctc_loss(*args), ref)
    assert_matches(log_softmax_backward(lp, ctc_loss_grad(*args)), ref_grad)
    assert_matches(ctc_loss(*args), ctc_loss(lp, padded, in_len, tg_len, 0, reduction))


def test_impossible_alignment_is_inf_or_zero():
    """A target longer than the input costs +inf, or 0 with zero_infinity, with NaN/0 grads."""
    lp = np.log(np.full((2, 1, 3), 1 / 3))
    args = (lp, [[1, 2, 1]], [2], [3], 0, "sum")
    assert ctc_loss(*args) == np.inf
    assert np.isnan(ctc_loss_grad(*args)).all()
    assert ctc_loss(*args, zero_infinity=True) == 0
    assert (ctc_loss_grad(*args, zero_infinity=True) == 0).all()


def test_repeated_label_needs_a_blank():
    """"aa" in 2 frames is impossible, while "ab" in 2 frames is possible."""
    lp = np.log(np.full((2, 1, 3), 1 / 3))
    assert ctc_loss(lp, [[1, 1]], [2], [2], reduction="none")[0] == np.inf
    np.testing.assert_allclose(ctc_loss(lp, [[1, 2]], [2], [2], reduction="none"),
                               [2 * np.log(3)], rtol=1e-15)


def test_empty_batch_is_rejected_like_torch():
    """torch refuses empty log_probs, and so do we (no silent NaN mean)."""
    lp = np.zeros((3, 0, 4))
    with pytest.raises(RuntimeError):
        torch.nn.functional.ctc_loss(torch.tensor(lp), torch.zeros(0, 2, dtype=torch.long),
                                     torch.zeros(0, dtype=torch.long),
                                     torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        ctc_loss(lp, np.zeros((0, 2), dtype=int), [], [])
    with pytest.raises(ValueError, match="empty"):
        ctc_loss_grad(lp, np.zeros((0, 2), dtype=int), [], [])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_nan_logits_give_nan_for_that_sample_like_torch(dtype):
    """A NaN logit makes its sample's loss and gradient NaN; the other samples are untouched."""
    z, targets, in_len, tg_len, blank = case(6, 4, [[1, 2], [3, 3], [2]])
    z = z.astype(dtype)
    z[2, 0, 1] = np.nan  # sample 0, frame 2
    with np.errstate(invalid="ignore"):  # numpy warns when logaddexp meets a NaN
        lp, ref, ref_grad = torch_reference(z, targets, in_len, tg_len, blank, "none", False)
        ours = ctc_loss(lp, targets, in_len, tg_len, blank, "none")
        grad = log_softmax_backward(lp, ctc_loss_grad(lp, targets, in_len, tg_len, blank,
                                                      "none"))
    assert np.isnan(ours[0])
    assert np.isnan(grad[:, 0]).all()
    assert np.isfinite(ours[1:]).all()
    assert np.isfinite(grad[:, 1:]).all()
    assert_matches(ours, ref)
    assert_matches(grad, ref_grad)


BAD_ARGUMENTS = [  # (targets, input_lengths, target_lengths, blank): each refused with a message
    pytest.param([[1, 2]], [6], [2], 4, id="blank-too-large"),
    pytest.param([[1, 2]], [6], [2], -1, id="blank-negative"),
    pytest.param([[1, 2]], [7], [2], 0, id="input-longer-than-T"),
    pytest.param([[1, 2]], [-1], [2], 0, id="negative-input-length"),
    pytest.param([[1, 2]], [6], [-1], 0, id="negative-target-length"),
    pytest.param([[1, 2]], [6], [3], 0, id="target-length-past-padding"),
    pytest.param([1, 2, 3], [6], [2], 0, id="concatenated-too-long"),
    pytest.param([[1, 2]], [6, 6], [2, 2], 0, id="lengths-not-N"),
]


@pytest.mark.parametrize(("targets", "in_len", "tg_len", "blank"), BAD_ARGUMENTS)
def test_invalid_arguments_raise_like_torch(targets, in_len, tg_len, blank):
    """Arguments torch refuses with a RuntimeError are refused here with a ValueError."""
    lp = np.log(np.full((6, 1, 4), 0.25))
    with pytest.raises(RuntimeError):
        torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor(targets),
                                     torch.tensor(in_len), torch.tensor(tg_len), blank=blank)
    for fn in (ctc_loss, ctc_loss_grad):
        with pytest.raises(ValueError, match=r"blank|lengths|targets"):
            fn(lp, np.array(targets), in_len, tg_len, blank)


def test_labels_torch_does_not_check_are_refused():
    """A blank or an out-of-range label inside a target: torch returns a number, we refuse."""
    lp = torch.tensor(np.log(np.full((6, 1, 4), 0.25)))
    value = torch.nn.functional.ctc_loss(lp, torch.tensor([[1, 0, 2]]), torch.tensor([6]),
                                         torch.tensor([3]))  # blank 0 inside the target
    assert torch.isfinite(value)  # no error from torch
    for bad in ([[1, 0, 2]], [[1, 4, 2]], [[1, -1, 2]]):
        with pytest.raises(ValueError, match="labels"):
            ctc_loss(lp.numpy(), bad, [6], [3])
        with pytest.raises(ValueError, match="labels"):
            ctc_loss_grad(lp.numpy(), bad, [6], [3])
    # padding beyond target_lengths is ignored, whatever it holds, by both
    ref = torch.nn.functional.ctc_loss(lp, torch.tensor([[1, 2]]), torch.tensor([6]),
                                       torch.tensor([2]))
    padded = torch.nn.functional.ctc_loss(lp, torch.tensor([[1, 2, 0, 99]]),
                                          torch.tensor([6]), torch.tensor([2]))
    assert padded == ref
    assert_matches(ctc_loss(lp.numpy(), [[1, 2, 0, 99]], [6], [2]), ref)


def test_unknown_reduction_raises_before_any_work():
    """An unknown reduction is an error in both functions."""
    lp = np.log(np.full((3, 1, 3), 1 / 3))
    for fn in (ctc_loss, ctc_loss_grad):
        with pytest.raises(ValueError, match="reduction"):
            fn(lp, [[1]], [3], [1], reduction="avg")


def test_torch_leaf_gradient_is_softmax_minus_posterior():
    """On a leaf log_probs, torch returns exp(lp) - gamma, i.e. ours plus exp(lp) (documented)."""
    z, targets, in_len, tg_len, _ = case(7, 4, [[1, 2], [3, 3, 1]], input_lengths=[7, 5])
    lp = torch.tensor(z).log_softmax(-1).detach().requires_grad_()
    torch.nn.functional.ctc_loss(lp, torch.tensor(targets), torch.tensor(in_len),
                                 torch.tensor(tg_len), reduction="sum").backward()
    ours = ctc_loss_grad(lp.detach().numpy(), targets, in_len, tg_len, reduction="sum")
    mask = (np.arange(7)[:, None] < in_len[None, :])[..., None]  # frames that were used
    assert_matches(ours + mask * np.exp(lp.detach().numpy()), lp.grad)


# ---- identities (hypothesis) ------------------------------------------------------------

def collapse(path, blank=0):
    """The CTC map B: merge repeats, then drop blanks."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != blank)


logits = st.integers(min_value=1, max_value=5).flatmap(
    lambda T: st.lists(st.lists(st.floats(-5, 5), min_size=3, max_size=3), min_size=T,
                       max_size=T)
)


@settings(max_examples=40, deadline=None)
@given(logits)
def test_probabilities_of_all_labelings_sum_to_one(z):
    """Every path collapses to exactly one labeling, so sum over labelings of p(l|x) = 1."""
    z = np.array(z)  # (T, 3): blank and two labels
    lp = (z - np.logaddexp.reduce(z, axis=-1, keepdims=True))[:, None, :]
    T = len(z)
    total = 0.0
    for S in range(T + 1):
        for label in itertools.product([1, 2], repeat=S):
            total += np.exp(-ctc_loss(lp, [list(label) or [1]], [T], [S], reduction="none")[0])
    np.testing.assert_allclose(total, 1.0, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(logits, st.lists(st.integers(1, 2), max_size=4))
def test_matches_brute_force_sum_over_paths(z, label):
    """exp(-loss) equals the sum over all paths pi with B(pi) = l of prod_t y_t(pi_t)."""
    z = np.array(z)
    lp = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)  # (T, 3)
    T = len(z)
    brute = sum(
        np.exp(lp[np.arange(T), list(path)].sum())
        for path in itertools.product(range(3), repeat=T)
        if collapse(path) == tuple(label)
    )
    ours = np.exp(-ctc_loss(lp[:, None], [label or [1]], [T], [len(label)], reduction="sum"))
    np.testing.assert_allclose(ours, brute, rtol=1e-12, atol=1e-300)


@settings(max_examples=30, deadline=None)
@given(logits, st.lists(st.integers(1, 2), min_size=1, max_size=3))
def test_gradient_matches_finite_differences(z, label):
    """The analytic gradient is the true one (no softmax assumed): central differences agree."""
    lp = np.array(z)[:, None, :]  # unnormalised on purpose
    T = len(z)
    args = ([label], [T], [len(label)])
    if not np.isfinite(ctc_loss(lp, *args, reduction="sum")):
        return  # impossible alignment: no gradient to compare
    grad = ctc_loss_grad(lp, *args, reduction="sum")
    h = 1e-6
    numeric = np.zeros_like(lp)
    for idx in np.ndindex(lp.shape):
        bump = np.zeros_like(lp)
        bump[idx] = h
        numeric[idx] = (ctc_loss(lp + bump, *args, reduction="sum")
                        - ctc_loss(lp - bump, *args, reduction="sum")) / (2 * h)
    # central differences in float64 are good to about h^2 + eps/h ~ 1e-10
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@settings(max_examples=40, deadline=None)
@given(logits, st.lists(st.integers(1, 2), max_size=3))
def test_posteriors_sum_to_one_and_alpha_beta_agree(z, label):
    """Each frame's posterior gamma_t sums to 1, and alpha_t + beta_t gives the same p at all t."""
    z = np.array(z)
    lp = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)
    T = len(z)
    loss = ctc_loss(lp[:, None], [label or [1]], [T], [len(label)], reduction="none")[0]
    if not np.isfinite(loss):
        return
    gamma = -ctc_loss_grad(lp[:, None], [label or [1]], [T], [len(label)], reduction="none")
    np.testing.assert_allclose(gamma.sum(-1), 1.0, rtol=1e-12)
    target = np.array(label, dtype=int)
    alpha, beta = ctc_alpha(lp, target), ctc_beta(lp, target)
    per_frame = np.logaddexp.reduce(alpha + beta, axis=1)  # log p(l|x) from every frame
    np.testing.assert_allclose(per_frame, -loss, rtol=1e-12, atol=1e-12)


def test_extended_sequence_and_skip_rule():
    """l' interleaves blanks; a skip is allowed into "b" after "a" but not into a repeated "a"."""
    ext, skip = extend_with_blanks(np.array([1, 1, 2]))
    assert ext.tolist() == [0, 1, 0, 1, 0, 2, 0]
    assert skip.tolist() == [False, False, False, False, False, True, False]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
def test_probabilities_exactly_zero_and_one(dtype):
    """log 0 = -inf entries: torch's gradient turns NaN, ours equals torch's limit (-1e4 logits)."""
    z = np.array([[0, -np.inf, 1.0], [0.5, -np.inf, -np.inf], [-np.inf, 2.0, 0.0],
                  [0.0, 0.0, 0.0]])[:, None, :].astype(dtype)  # frame 1 is certainly blank
    targets, in_len, tg_len = np.array([[2, 1]]), np.array([4]), np.array([2])
    lp, ref, ref_grad = torch_reference(z, targets, in_len, tg_len, 0, "sum", False)
    assert np.isnan(ref_grad.numpy()).any()  # torch forms exp(-inf - (-inf)) on the leaf
    _, ref_limit, ref_limit_grad = torch_reference(np.maximum(z, -1e4), targets, in_len,
                                                   tg_len, 0, "sum", False)
    args = (lp, targets, in_len, tg_len, 0, "sum")
    assert_matches(ctc_loss(*args), ref)
    assert_matches(ctc_loss(*args), ref_limit)
    assert_matches(log_softmax_backward(lp, ctc_loss_grad(*args)), ref_limit_grad)


def test_torch_reads_an_out_of_range_label_from_the_next_sample():
    """torch (CPU) takes label C of sample 0 from sample 1's row: a number, but not a loss."""
    z, _, _, _, _ = case(6, 4, [[1, 2], [2, 3]], seed=5)
    lp = z - np.logaddexp.reduce(z, axis=-1, keepdims=True)  # (T, 2, C=4)
    value = torch.nn.functional.ctc_loss(tensor(lp), torch.tensor([[1, 4], [2, 3]]),
                                         torch.tensor([6, 6]), torch.tensor([2, 2]),
                                         reduction="none")  # no error for label 4 = C
    # what torch computed: "label 4" of sample 0 is the blank column of sample 1
    borrowed = np.concatenate([lp[:, 0], lp[:, 1, :1]], axis=-1)[:, None]  # (T, 1, 5)
    np.testing.assert_allclose(value[0].item(), ctc_loss(borrowed, [[1, 4]], [6], [2], 0, "sum"),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="labels"):
        ctc_loss(lp, [[1, 4], [2, 3]], [6, 6], [2, 2])


def test_unbatched_input_torch_accepts_is_refused():
    """torch accepts unbatched (T, C) log_probs; the code here wants (T, N, C) (documented)."""
    lp = np.log(np.full((6, 4), 0.25))
    value = torch.nn.functional.ctc_loss(tensor(lp), torch.tensor([1, 2]), torch.tensor(6),
                                         torch.tensor(2))
    with pytest.raises(ValueError, match=r"\(T, N, C\)"):
        ctc_loss(lp, [1, 2], 6, 2)
    assert_matches(ctc_loss(lp[:, None], [[1, 2]], [6], [2]), value)  # with the batch axis
