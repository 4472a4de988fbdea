"""Family-wide checks: the test functions' gradients match autograd, the driver matches a torch
training loop, the history form of Adagrad/RMSprop/Adam matches torch's steps, and maximizing
is minimizing the negated objective, in torch and in every step function here."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.optimizers import adadelta, adagrad, adam, adamw, momentum, rmsprop, sgd
from snippets.optimizers.index import (
    history_weights,
    quadratic,
    quadratic_grad,
    rosenbrock,
    rosenbrock_grad,
    trajectory,
    updates,
)
from tests.helpers import DTYPES, TOLERANCE, assert_matches, dtype_id, tensor


def _torch_quadratic(t):  # the same bowl, written with torch ops
    return 0.5 * (t[..., 0] ** 2 + 20 * t[..., 1] ** 2)


@pytest.mark.parametrize(("f", "grad", "reference"), [
    (quadratic, quadratic_grad, _torch_quadratic),
    (rosenbrock, rosenbrock_grad, rosenbrock),  # plain arithmetic: runs on tensors as it is
], ids=["quadratic", "rosenbrock"])
@pytest.mark.parametrize("shape", [(2,), (5, 2), (3, 4, 2)], ids=str)
def test_gradients_match_autograd(f, grad, reference, shape):
    """Values and hand-written gradients equal torch's, for one point or a batch of them."""
    theta = np.random.default_rng(0).normal(size=shape) * 2
    t = tensor(theta, grad=True)
    y = reference(t)
    y.sum().backward()
    assert_matches(f(theta), y)
    assert_matches(grad(theta), t.grad)


def test_rosenbrock_minimum():
    """Rosenbrock is 0 with zero gradient at (a, a²)."""
    for a in (1.0, -2.0):
        point = np.array([a, a * a])
        assert rosenbrock(point, a=a) == 0
        assert np.array_equal(rosenbrock_grad(point, a=a), [0.0, 0.0])


def test_trajectory_matches_a_torch_training_loop():
    """300 Adam steps on Rosenbrock from (-1.2, 1): every iterate equals torch's."""
    x = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([x], lr=0.05, foreach=False)
    expected = [x.detach().clone().numpy()]
    for _ in range(300):
        opt.zero_grad()
        rosenbrock(x).backward()
        opt.step()
        expected.append(x.detach().clone().numpy())
    path = trajectory(adam.adam_step, adam.init_state([np.zeros(2)]), [-1.2, 1.0],
                      rosenbrock_grad, 300, lr=0.05)
    np.testing.assert_allclose(path, np.array(expected), rtol=1e-10, atol=1e-12)


def test_history_weights():
    """A running sum weighs every past value 1; a moving average's weights sum to 1 - β^t."""
    W = history_weights(6)
    assert np.array_equal(W, np.tril(np.ones((6, 6))))
    A = history_weights(6, 0.9)
    np.testing.assert_allclose(A.sum(1), 1 - 0.9 ** np.arange(1, 7), rtol=1e-14)
    assert np.all(np.triu(A, 1) == 0)


METHODS = {
    "sgd": (torch.optim.SGD, {}, {}),
    "adagrad": (torch.optim.Adagrad, {}, {}),
    "adagrad eps": (torch.optim.Adagrad, {"eps": 1e-3}, {"eps": 1e-3}),
    "rmsprop": (torch.optim.RMSprop, {}, {}),
    "rmsprop alpha": (torch.optim.RMSprop, {"alpha": 0.7, "eps": 1e-4},
                      {"alpha": 0.7, "eps": 1e-4}),
    "adam": (torch.optim.Adam, {}, {}),
    "adam betas": (torch.optim.Adam, {"betas": (0.5, 0.8), "eps": 1e-4},
                   {"betas": (0.5, 0.8), "eps": 1e-4}),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("name", METHODS)
def test_updates_from_history_match_torch(name, dtype):
    """Each method's step, written as weighted sums over the gradient history, equals the
    change torch's optimizer makes, step by step, over 40 steps with some zero gradients."""
    cls, torch_options, ours = METHODS[name]
    grads = np.random.default_rng(1).normal(size=(40, 3)).astype(dtype)
    grads[::5, 0] = 0
    x = torch.zeros(3, dtype=torch.float64 if dtype == np.float64 else torch.float32,
                    requires_grad=True)
    opt = cls([x], lr=0.01, foreach=False, **torch_options)
    steps = []
    for g in grads:
        before = x.detach().clone()
        x.grad = torch.tensor(g)
        opt.step()
        steps.append((x.detach() - before).numpy())
    got = updates(grads.astype(np.float64), name.split()[0], lr=0.01, **ours)
    tol = TOLERANCE[np.dtype(dtype)]
    # torch's steps are differences of float32 parameters near 0.01-0.4 in size: their
    # rounding is that of the parameters, so the float32 bound is absolute, at their scale.
    atol = 1e-13 if dtype == np.float64 else tol["atol"]
    np.testing.assert_allclose(got, np.array(steps), rtol=tol["rtol"], atol=atol)


TORCH_OPTIMIZERS = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]


@pytest.mark.parametrize("name", TORCH_OPTIMIZERS)
def test_torch_maximize_is_minimizing_the_negative(name):
    """torch's maximize=True on f takes exactly the steps of minimizing -f, bit for bit, with
    weight decay on: the decay still shrinks the weights (it is not flipped)."""
    target = torch.tensor([3.0, -1.0], dtype=torch.float64)
    paths = []
    for maximize in (True, False):
        x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, name)([x], lr=0.1, weight_decay=0.05, maximize=maximize)
        path = []
        for _ in range(30):
            opt.zero_grad()
            f = -((x - target) ** 2).sum()
            (f if maximize else -f).backward()
            opt.step()
            path.append(x.detach().clone())
        paths.append(torch.stack(path))
    assert torch.equal(paths[0], paths[1])


STEPS = {
    "sgd": (sgd.sgd_step, sgd.init_state, {"lr": 0.1, "weight_decay": 0.1}),
    "momentum": (momentum.momentum_step, momentum.init_state,
                 {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    "adagrad": (adagrad.adagrad_step, adagrad.init_state, {"lr_decay": 0.1, "weight_decay": 0.1}),
    "rmsprop": (rmsprop.rmsprop_step, rmsprop.init_state, {"weight_decay": 0.1}),
    "adadelta": (adadelta.adadelta_step, adadelta.init_state, {"weight_decay": 0.1}),
    "adam": (adam.adam_step, adam.init_state, {"weight_decay": 0.1}),
    "adamw": (adamw.adamw_step, adamw.init_state, {"weight_decay": 0.1}),
}


@settings(max_examples=10)
@given(seed=st.integers(0, 10**6))
@pytest.mark.parametrize("name", STEPS)
def test_our_maximize_is_descent_on_the_negated_gradient(name, seed):
    """maximize=True with gradient g takes exactly the steps of maximize=False with -g."""
    step, init, options = STEPS[name]
    rng = np.random.default_rng(seed)
    grads = rng.normal(size=(8, 3))
    start = rng.normal(size=3)
    (p1, s1), (p2, s2) = ([start], init([start])), ([start], init([start]))
    for g in grads:
        p1, s1 = step(p1, [g], s1, maximize=True, **options)
        p2, s2 = step(p2, [-g], s2, maximize=False, **options)
    assert np.array_equal(p1[0], p2[0])
