r"""Stochastic gradient descent (SGD): step against the gradient, scaled by the learning rate.

Reference: Robbins and Monro, "A Stochastic Approximation Method", 1951. Checked against
`torch.optim.SGD` with `momentum=0` (the momentum variants are in `momentum.py`).
"""

# --8<-- [start:impl]
# --8<-- [start:init_state]
import numpy as np


def init_state(params):
    r"""The state plain SGD keeps between steps: none.

    Args:
        params: list of float arrays, the parameters.

    Returns:
        One empty dict per parameter, as torch's `optimizer.state[p]` for SGD without
        momentum.
    """
    return [{} for _ in params]
# --8<-- [end:init_state]


# --8<-- [start:sgd_update]
def sgd_update(p, g, s, *, lr, weight_decay, maximize):
    r"""One SGD step for one parameter array.

    $$g \leftarrow \pm g + \lambda\theta, \qquad \theta \leftarrow \theta - \eta\, g$$

    Args:
        p: the parameter $\theta$, a float array.
        g: its gradient, same shape and dtype.
        s: its state (empty for SGD).
        lr: learning rate $\eta$.
        weight_decay: L2 penalty coefficient $\lambda$, added to the gradient.
        maximize: ascend instead of descend (the gradient's sign is flipped first).

    Returns:
        `(new_p, new_s)`; the inputs are not modified.
    """
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p  # the gradient of (λ/2)·‖θ‖²
    return p - lr * g, s
# --8<-- [end:sgd_update]


# --8<-- [start:sgd_step]
def sgd_step(params, grads, state, *, lr=1e-3, weight_decay=0.0, maximize=False):
    r"""One step of `torch.optim.SGD` (no momentum) over a list of parameters.

    Args:
        params: list of float arrays.
        grads: list of their gradients; `None` marks a parameter with no gradient,
            which is skipped (it does not move), as torch does.
        state: the list from `init_state`.
        lr: learning rate $\eta \ge 0$.
        weight_decay: L2 coefficient $\lambda \ge 0$.
        maximize: maximize the objective instead of minimizing it.

    Returns:
        `(params, state)`: new lists; the inputs are not modified.

    Raises:
        ValueError: for a negative `lr` or `weight_decay`, as torch does.
    """
    if lr < 0 or weight_decay < 0:
        raise ValueError(f"lr and weight_decay must be >= 0, got {lr}, {weight_decay}")
    out = [(p, s) if g is None  # no gradient: skipped
           else sgd_update(p, g, s, lr=lr, weight_decay=weight_decay, maximize=maximize)
           for p, g, s in zip(params, grads, state, strict=True)]
    return [p for p, _ in out], [s for _, s in out]
# --8<-- [end:sgd_step]
# --8<-- [end:impl]


# --8<-- [start:stability]
def quadratic_run(h, lr, steps, theta0=1.0):
    r"""SGD on $f(\theta) = \tfrac{1}{2} h \theta^2$ (gradient $h\theta$), from $\theta_0$.

    Each step multiplies $\theta$ by $1 - \eta h$, so the run converges if and only if
    $0 < \eta h < 2$.

    Args:
        h: the curvature $h > 0$.
        lr: learning rate $\eta$.
        steps: number of steps.
        theta0: starting point.

    Returns:
        The iterates $\theta_0, \dots, \theta_{\text{steps}}$, shape (steps + 1,).
    """
    params, state = [np.array(theta0)], init_state([theta0])
    path = [theta0]
    for _ in range(steps):
        params, state = sgd_step(params, [h * params[0]], state, lr=lr)
        path.append(float(params[0]))
    return np.array(path)
# --8<-- [end:stability]


if __name__ == "__main__":
    # --8<-- [start:example]
    theta = [np.array([1.0, -2.0])]
    state = init_state(theta)
    for t in range(1, 4):
        grad = [2 * theta[0]]  # gradient of f(θ) = ‖θ‖²
        theta, state = sgd_step(theta, grad, state, lr=0.1, weight_decay=0.5)
        print(f"step {t}: theta = {theta[0]}, state = {state[0]}")
    # --8<-- [end:example]

    # --8<-- [start:stability-demo]
    h = 10.0  # curvature: stable for lr < 2/h = 0.2
    for lr in (0.05, 0.1, 0.19, 0.21):
        path = quadratic_run(h, lr, steps=30)
        print(f"lr = {lr:<4}  factor 1 - lr*h = {1 - lr * h:+.2f}  |theta_30| = "
              f"{abs(path[-1]):.2e}")
    # --8<-- [end:stability-demo]

    # --8<-- [start:check]
    import torch

    def max_error(dtype, steps=20, **options):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=shape).astype(dtype) for shape in [(3,), (2, 2), ()]]
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.SGD(tparams, foreach=False, **options)
        state, err = init_state(params), 0.0
        for _ in range(steps):
            grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
            for tp, g in zip(tparams, grads, strict=True):
                tp.grad = torch.tensor(g)
            opt.step()
            params, state = sgd_step(params, grads, state, **options)
            for p, tp in zip(params, tparams, strict=True):
                err = max(err, np.abs(p - tp.detach().numpy()).max())
        return err

    print("checked against torch.optim.SGD")
    for dtype in (np.float64, np.float32):
        err = max(max_error(dtype, lr=0.1, weight_decay=0.01),
                  max_error(dtype, lr=0.05, maximize=True))
        print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]
