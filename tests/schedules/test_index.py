"""The index page's answers: warm-up and Adam, the 2/L bound, the range test, batch size."""

import numpy as np
import pytest
import torch

from snippets.schedules import index as ix
from tests.helpers import TOLERANCE

F64 = TOLERANCE[np.dtype(np.float64)]


@pytest.fixture(scope="module")
def warmup_runs():
    """The page's runs: seed 0, Adam at peak rate 0.1, without and with a 50-step warm-up."""
    return ix.train_adam(0, 0.1, 0), ix.train_adam(0, 0.1, 50)


@pytest.mark.parametrize("seed", range(10))
def test_without_warm_up_the_loss_spikes_with_it_it_does_not(seed):
    """For seeds 0 to 9: without warm-up the loss climbs over 50 times its start within
    five steps; with the warm-up it stays under 3 times its start over the first 20 steps
    (the window where the runs without warm-up spike)."""
    cold, _, _ = ix.train_adam(seed, 0.1, 0, steps=5)
    warm, _, _ = ix.train_adam(seed, 0.1, 50, steps=20)
    assert cold.max() > 50 * cold[0]
    assert warm.max() < 3 * warm[0]


def test_the_page_seed(warmup_runs):
    """Seed 0, as the page describes it: without warm-up the loss ends within 10% of its
    start and of the best constant's loss; with it, it rises by less than half and ends
    over 1e5 times lower."""
    (cold, _, _), (warm, _, _) = warmup_runs
    _, y = ix.regression_problem(0)
    assert abs(cold[-10:].mean() / cold[0] - 1) < 0.1
    assert abs(cold[-10:].mean() / y.var(unbiased=False).item() - 1) < 0.1
    assert warm.max() < 1.5 * warm[0]
    assert warm[-10:].mean() < 1e-5 * warm[0]


def test_without_warm_up_most_units_of_layer_two_die_early(warmup_runs):
    """Seed 0: five steps without warm-up kill over half the 64 units of the second hidden
    layer, and they stay dead; with the warm-up fewer than a quarter die."""
    _, _, early = ix.train_adam(0, 0.1, 0, steps=5)
    X, _ = ix.regression_problem(0)
    (_, _, cold), (_, _, warm) = warmup_runs
    assert ix.dead_units(ix.relu_mlp(0), X)[1] == 0
    assert ix.dead_units(early, X)[1] > 32
    assert ix.dead_units(cold, X)[1] > 32
    assert ix.dead_units(warm, X)[1] < 16


def test_dead_units_get_no_gradient(warmup_runs):
    """The weights and bias feeding a unit that dead_units counts have exactly zero
    gradient, and the count equals torch's own zero-output test."""
    (_, _, net), _ = warmup_runs
    X, y = ix.regression_problem(0)
    net.zero_grad()
    torch.mean((net(X) - y) ** 2).backward()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    h, counts = X, []
    with torch.no_grad():
        for lin in linears[:-1]:
            h = torch.relu(lin(h))
            dead = (h <= 0).all(dim=0)
            counts.append(int(dead.sum()))
            assert torch.all(lin.weight.grad[dead] == 0)
            assert torch.all(lin.bias.grad[dead] == 0)
    assert counts == ix.dead_units(net, X)
    assert sum(counts) > 0  # the check above is not vacuous


def test_first_adam_step_is_larger_than_the_typical_parameter(warmup_runs):
    """Seed 0 without warm-up: 0.1 times the mean ratio after step 0 exceeds the mean
    absolute parameter at initialisation."""
    (_, ratios, _), _ = warmup_runs
    size = torch.cat([p.abs().flatten() for p in ix.relu_mlp(0).parameters()]).mean()
    assert 0.1 * ratios[0] > size.item()


def test_pytorch_losses_default_to_the_mean():
    """The page says reduction='mean' is PyTorch's default."""
    assert torch.nn.MSELoss().reduction == "mean"
    assert torch.nn.CrossEntropyLoss().reduction == "mean"


def test_adam_first_step_is_the_learning_rate_in_every_coordinate():
    """After one step, |m_hat| / (sqrt(v_hat) + eps) is 1 (to eps / |g|) wherever the
    gradient is non-zero and 0 where it is zero: Adam's first move is lr per parameter."""
    net, (X, y) = ix.relu_mlp(3), ix.regression_problem(3)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    with ix.one_thread():
        torch.mean((net(X) - y) ** 2).backward()
        grads = [p.grad.clone() for p in net.parameters()]
        opt.step()
    for g, r in zip(grads, ix.adam_ratios(opt), strict=True):
        expected = g.abs() / (g.abs() + 1e-8)  # m_hat = g, v_hat = g**2 at step 1
        np.testing.assert_allclose(r.abs().numpy(), expected.numpy(), **F64)


def test_the_normalised_step_shrinks_as_training_proceeds(warmup_runs):
    """Seed 0, both runs: Adam's mean step in units of lr is largest in the first two steps
    (step 0 of the warm-up run has rate 0) and much smaller at the end."""
    for _, ratios, _ in warmup_runs:
        assert ratios[0] > 0.5
        assert ratios[:2].max() == ratios.max()
        assert ratios[-1] < ratios[0] / 10


def test_adam_ratio_can_exceed_one_up_to_kingma_ba_bound():
    """A gradient of 1 after 1000 zero ones: torch Adam's ratio is over 2.4, though below
    (1 - beta1) / sqrt(1 - beta2) = 3.16 (Kingma and Ba, section 2.1)."""
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([w], lr=1e-3)
    for k in range(1001):
        w.grad = torch.full_like(w, 1.0 if k == 1000 else 0.0)
        opt.step()
    ratio = ix.adam_ratios(opt)[0].item()
    expected = 0.1 / (0.001 / (1 - 0.999**1001)) ** 0.5  # m_hat = 0.1 / (1 - 0.9^1001)
    assert ratio == pytest.approx(expected, rel=1e-6)
    assert 2.4 < ratio < 0.1 / 0.001**0.5


def test_adam_ratios_predict_the_parameter_change_with_a_schedule():
    """Adam (with warm-up) moves each parameter by minus lr_t times adam_ratios."""
    net, (X, y) = ix.relu_mlp(2), ix.regression_problem(2)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 4))
    with ix.one_thread():
        changes = [adam_step(net, X, y, opt, sched) for _ in range(6)]
    for moved, lr, ratios in changes:
        for m, r in zip(moved, ratios, strict=True):
            np.testing.assert_allclose(m.numpy(), (lr * r).numpy(), rtol=1e-10, atol=1e-15)


def adam_step(net, X, y, opt, sched):
    """One step: the change of each parameter, the rate used and Adam's ratios after it."""
    lr = opt.param_groups[0]["lr"]
    before = [p.detach().clone() for p in net.parameters()]
    opt.zero_grad()
    torch.mean((net(X) - y) ** 2).backward()
    opt.step()
    sched.step()
    moved = [p0 - p.detach() for p, p0 in zip(net.parameters(), before, strict=True)]
    return moved, lr, [r.clone() for r in ix.adam_ratios(opt)]


def test_one_thread_restores_the_thread_count():
    """one_thread sets torch to one thread and puts the old count back, even on error."""
    before = torch.get_num_threads()
    inside = []

    def fail():
        with ix.one_thread():
            inside.append(torch.get_num_threads())
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert inside == [1]
    assert torch.get_num_threads() == before


def test_relu_mlp_is_seeded_and_leaves_the_global_generator_alone():
    """Same seed, same weights; the global torch generator is not consumed."""
    state = torch.random.get_rng_state()
    a, b = ix.relu_mlp(5), ix.relu_mlp(5)
    assert torch.equal(torch.random.get_rng_state(), state)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


# --- the 2 / L bound and the range test ------------------------------------------------------

X, Y = ix.least_squares()


def test_smoothness_is_the_largest_hessian_eigenvalue():
    """L equals the top eigenvalue of the Hessian of the MSE computed by torch autograd."""
    Xt, yt = torch.from_numpy(X), torch.from_numpy(Y)
    H = torch.autograd.functional.hessian(lambda w: torch.mean((Xt @ w - yt) ** 2),
                                          torch.zeros(X.shape[1], dtype=torch.float64))
    np.testing.assert_allclose(ix.smoothness(X), torch.linalg.eigvalsh(H).max().item(), **F64)


def test_mse_grad_matches_torch_for_both_reductions():
    """mse_grad equals autograd of F.mse_loss with reduction 'sum' and 'mean'."""
    w = np.random.default_rng(1).normal(size=X.shape[1])
    for reduction in ("sum", "mean"):
        wt = torch.tensor(w, requires_grad=True)
        torch.nn.functional.mse_loss(torch.from_numpy(X[:32]) @ wt, torch.from_numpy(Y[:32]),
                                     reduction=reduction).backward()
        np.testing.assert_allclose(ix.mse_grad(w, X[:32], Y[:32], reduction), wt.grad.numpy(),
                                   **F64)


def test_mse_grad_refuses_other_reductions():
    """A reduction other than 'sum' or 'mean' (e.g. torch's 'none') is refused, not summed."""
    with pytest.raises(ValueError, match="reduction"):
        ix.mse_grad(np.zeros(X.shape[1]), X[:4], Y[:4], "none")


@pytest.mark.parametrize("kwargs", [{"steps": 1}, {"lr_min": 0.0}, {"lr_min": 1.0, "lr_max": 1.0}])
def test_range_test_refuses_degenerate_ranges(kwargs):
    """One step, a zero first rate or an empty range would give NaN or constant rates."""
    with pytest.raises(ValueError, match="steps >= 2"):
        ix.lr_range_test(X, Y, **kwargs)


@pytest.mark.parametrize(("c", "steps"), [(0.5, 300), (0.9, 300), (0.99, 3000)])
def test_gradient_descent_below_2_over_l_converges(c, steps):
    """lr = c 2/L with c < 1 reaches the least-squares minimum (slowly as c nears 1: the
    steepest direction's error shrinks by |1 - 2c| per step)."""
    L = ix.smoothness(X)
    best = ix.mse(np.linalg.lstsq(X, Y, rcond=None)[0], X, Y)
    assert ix.gradient_descent(X, Y, c * 2 / L, steps) == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("c", [1.01, 1.1])
def test_gradient_descent_above_2_over_l_diverges(c):
    """lr = c 2/L with c > 1: the loss grows past its starting value and keeps growing."""
    L = ix.smoothness(X)
    start = ix.mse(np.zeros(X.shape[1]), X, Y)
    a, b = ix.gradient_descent(X, Y, c * 2 / L, 200), ix.gradient_descent(X, Y, c * 2 / L, 300)
    assert start < a < b


def test_range_test_grows_geometrically_and_stops_on_divergence():
    """Rates go from lr_min by a constant factor; the run stops once the loss is 100x."""
    lrs, losses = ix.lr_range_test(X, Y)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], (1e5) ** (1 / 199), rtol=1e-12)
    assert lrs[0] == 1e-4
    assert len(lrs) < 200
    assert losses[-1] > 100 * losses[0]
    assert np.all(losses[:-1] <= 100 * losses[0])


@pytest.mark.parametrize("data_seed", [0, 1, 2, 3])
@pytest.mark.parametrize("batch_seed", [0, 1, 2])
def test_range_test_minimum_sits_just_below_the_bound(data_seed, batch_seed):
    """On these least-squares problems the smoothed minimum lies between 0.3 and 1 times
    2/L: the range test finds the edge of stability from below."""
    Xs, ys = ix.least_squares(data_seed)
    lrs, losses = ix.lr_range_test(Xs, ys, seed=batch_seed)
    best, _ = ix.smoothed_minimum(lrs, losses)
    assert 0.3 < best * ix.smoothness(Xs) / 2 < 1.0


def test_smoothed_minimum_is_an_exponential_moving_average():
    """smoothed[k] = beta smoothed[k-1] + (1 - beta) loss[k], starting from loss[0]."""
    losses = np.array([4.0, 2.0, 1.0, 3.0])
    lr, smoothed = ix.smoothed_minimum(np.arange(4.0), losses, beta=0.5)
    np.testing.assert_allclose(smoothed, [4.0, 3.0, 2.0, 2.5])
    assert lr == 2.0


# --- batch size ----------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "depth"), [(64, 3), (16, 1), (5, 4)])
def test_activation_memory_is_linear_in_the_batch_size(width, depth):
    """Saved activations (weights excluded) are the input and each hidden ReLU's output,
    B x (8 + depth x width) float64 numbers: a ReLU output that the next layer saves again
    is stored, and counted, once."""
    net = ix.relu_mlp(0, width=width, depth=depth)
    for B in (1, 32, 100):
        assert ix.saved_activation_bytes(net, B) == B * (8 + depth * width) * 8


def test_sum_reduction_scales_the_gradient_by_b():
    """The summed gradient is exactly B times the mean one."""
    w = np.ones(X.shape[1])
    for B in (1, 16, 256):
        np.testing.assert_allclose(ix.mse_grad(w, X[:B], Y[:B], "sum"),
                                   B * ix.mse_grad(w, X[:B], Y[:B], "mean"), **F64)


def test_minibatch_noise_falls_as_one_over_root_b():
    """With mean reduction, 16x the batch gives about a quarter of the gradient noise."""
    w = np.zeros(X.shape[1])
    _, small = ix.gradient_spread(X, Y, w, 16, "mean")
    _, large = ix.gradient_spread(X, Y, w, 256, "mean")
    assert 3.2 < small / large < 4.8


def test_linear_scaling_holds_for_small_rates_and_fails_near_the_bound():
    """k steps of B = 32 at lr ~ one step of 8 x 32 at 8 lr when 8 lr << 2/L; not when
    8 lr passes 2/L; and one large step at lr itself is always far off."""
    small_scaled, small_same = ix.small_vs_large_batch(X, Y, 0.001)
    big_scaled, _ = ix.small_vs_large_batch(X, Y, 0.05)
    assert small_scaled < 0.05 < 0.5 < small_same
    assert big_scaled > 1


def test_adam_is_almost_blind_to_the_reduction():
    """Adam's update divides out the gradient's scale: sum and mean give weights within
    1e-8 of each other after 20 steps (only eps sees the scale)."""
    w_sum = ix.adam_on_least_squares(X, Y, "sum")
    w_mean = ix.adam_on_least_squares(X, Y, "mean")
    assert np.abs(w_sum - w_mean).max() < 1e-8
    assert np.abs(w_mean).max() > 0.1  # the weights did move
