r"""SGD with momentum (heavy ball) and with Nesterov momentum, in PyTorch's form.

References: Polyak, "Some methods of speeding up the convergence of iteration methods", 1964;
Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and momentum in deep
learning", ICML 2013. Checked against `torch.optim.SGD(momentum=..., dampening=...,
nesterov=...)`.
"""

# --8<-- [start:impl]
# --8<-- [start:init_state]
import numpy as np


def init_state(params):
    r"""The state SGD with momentum keeps: one momentum buffer per parameter.

    The buffer starts as `None`, not zeros: torch fills it with the first gradient
    (undamped) at the parameter's first step.

    Args:
        params: list of float arrays, the parameters.

    Returns:
        One dict `{"momentum_buffer": None}` per parameter.
    """
    return [{"momentum_buffer": None} for _ in params]
# --8<-- [end:init_state]


# --8<-- [start:momentum_update]
def momentum_update(p, g, s, *, lr, momentum, dampening, weight_decay, nesterov,
                    maximize):
    r"""One step of SGD with momentum for one parameter array.

    $$b \leftarrow \mu b + (1 - \tau) g \;(b_1 = g), \qquad
    \theta \leftarrow \theta - \eta\,(g + \mu b \text{ if Nesterov, else } b)$$

    Args:
        p: the parameter $\theta$, a float array.
        g: its gradient, same shape and dtype.
        s: its state, `{"momentum_buffer": b or None}`.
        lr: learning rate $\eta$.
        momentum: momentum factor $\mu$.
        dampening: dampening $\tau$ (not applied at the first step).
        weight_decay: L2 coefficient $\lambda$, added to the gradient first.
        nesterov: use Nesterov momentum.
        maximize: ascend instead of descend.

    Returns:
        `(new_p, new_s)`; the inputs are not modified.
    """
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum == 0:  # plain SGD: the buffer is never made
        return p - lr * g, s
    b = s["momentum_buffer"]
    b = g.copy() if b is None else momentum * b + (1 - dampening) * g  # b_1 = g
    direction = g + momentum * b if nesterov else b
    return p - lr * direction, {"momentum_buffer": b}
# --8<-- [end:momentum_update]


# --8<-- [start:momentum_step]
def momentum_step(params, grads, state, *, lr=1e-3, momentum=0.0, dampening=0.0,
                  weight_decay=0.0, nesterov=False, maximize=False):
    r"""One step of `torch.optim.SGD` (with its momentum options) over a list of parameters.

    Args:
        params: list of float arrays.
        grads: list of their gradients; `None` marks a parameter that is skipped.
        state: the list from `init_state`.
        lr: learning rate $\eta \ge 0$.
        momentum: momentum factor $\mu \ge 0$.
        dampening: dampening $\tau$.
        weight_decay: L2 coefficient $\lambda \ge 0$.
        nesterov: Nesterov momentum; needs $\mu > 0$ and $\tau = 0$.
        maximize: maximize the objective instead of minimizing it.

    Returns:
        `(params, state)`: new lists; the inputs are not modified.

    Raises:
        ValueError: where torch raises one (negative values, Nesterov without momentum
            or with dampening).
    """
    if min(lr, momentum, weight_decay) < 0:
        raise ValueError("lr, momentum and weight_decay must be >= 0")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
    options = {"lr": lr, "momentum": momentum, "dampening": dampening,
               "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
    out = [(p, s) if g is None else momentum_update(p, g, s, **options)
           for p, g, s in zip(params, grads, state, strict=True)]
    return [p for p, _ in out], [s for _, s in out]
# --8<-- [end:momentum_step]
# --8<-- [end:impl]


# --8<-- [start:forms]
def buffer_form(grad_fn, theta0, lrs, momentum, nesterov=False):
    r"""Iterates of torch's form: the buffer sums gradients, the learning rate scales it.

    Args:
        grad_fn: the gradient, a function of $\theta$.
        theta0: starting point (float array).
        lrs: the learning rate of each step.
        momentum: momentum factor $\mu$.
        nesterov: Nesterov momentum.

    Returns:
        The iterates, shape (len(lrs) + 1, *theta0.shape).
    """
    params, state = [np.asarray(theta0, dtype=float)], init_state([theta0])
    path = [params[0]]
    for lr in lrs:
        params, state = momentum_step(params, [grad_fn(params[0])], state, lr=lr,
                                      momentum=momentum, nesterov=nesterov)
        path.append(params[0])
    return np.array(path)


def velocity_form(grad_fn, theta0, lrs, momentum, nesterov=False):
    r"""Iterates of the form with the learning rate inside the velocity.

    $$v \leftarrow \mu v - \eta \nabla f(\theta + \mu v \text{ if Nesterov, else } \theta),
    \qquad \theta \leftarrow \theta + v$$

    (Sutskever et al., 2013.) Returns the iterates $\theta_t$ and the velocities $v_t$,
    each of shape (len(lrs) + 1, *theta0.shape).
    """
    theta = np.asarray(theta0, dtype=float)
    v = np.zeros_like(theta)
    thetas, vs = [theta], [v]
    for lr in lrs:
        point = theta + momentum * v if nesterov else theta  # Nesterov: look ahead
        v = momentum * v - lr * grad_fn(point)
        theta = theta + v
        thetas.append(theta)
        vs.append(v)
    return np.array(thetas), np.array(vs)
# --8<-- [end:forms]


if __name__ == "__main__":
    # --8<-- [start:example]
    theta = [np.array([1.0, -2.0])]
    state = init_state(theta)
    for t in range(1, 4):
        grad = [2 * theta[0]]  # gradient of f(θ) = ‖θ‖²
        theta, state = momentum_step(theta, grad, state, lr=0.1, momentum=0.9)
        print(f"step {t}: theta = {theta[0]}, buffer = {state[0]['momentum_buffer']}")
    # --8<-- [end:example]

    # --8<-- [start:forms-demo]
    h = np.array([1.0, 10.0])  # f(θ) = ½ Σ h_i θ_i²: an ill-conditioned bowl

    def grad_fn(theta):
        return h * theta

    theta0, mu = np.array([1.0, 1.0]), 0.9
    constant = [0.05] * 40
    a = buffer_form(grad_fn, theta0, constant, mu)
    b, _ = velocity_form(grad_fn, theta0, constant, mu)
    print(f"constant lr:     max |buffer - velocity form| = {np.abs(a - b).max():.1e}")

    drop = [0.05] * 20 + [0.005] * 20  # the learning rate drops tenfold at step 21
    a = buffer_form(grad_fn, theta0, drop, mu)
    b, _ = velocity_form(grad_fn, theta0, drop, mu)
    for name, path in (("buffer", a), ("velocity", b)):
        print(f"lr drop, {name + ' form:':<14} step 20 {path[20] - path[19]}, "
              f"step 21 {path[21] - path[20]}")

    a = buffer_form(grad_fn, theta0, constant, mu, nesterov=True)
    b, v = velocity_form(grad_fn, theta0, constant, mu, nesterov=True)
    gap_lookahead, gap_theta = np.abs(a - (b + mu * v)).max(), np.abs(a - b).max()
    print(f"Nesterov: max |torch iterate - (theta + mu v)| = {gap_lookahead:.1e}")
    print(f"          max |torch iterate - theta|          = {gap_theta:.1e}")
    # --8<-- [end:forms-demo]

    # --8<-- [start:dampening-demo]
    g = [np.array([1.0])]  # the same gradient at every step
    params, state = [np.array([0.0])], init_state(g)
    torch_form, zero_start, b = [], [], 0.0
    for _ in range(5):
        params, state = momentum_step(params, g, state, lr=0.1, momentum=0.9, dampening=0.5)
        torch_form.append(float(state[0]["momentum_buffer"][0]))
        b = 0.9 * b + (1 - 0.5) * 1.0  # the same recurrence, started from b_0 = 0
        zero_start.append(b)
    print("buffer, torch (b_1 = g):", np.round(torch_form, 4))
    print("buffer from b_0 = 0:    ", np.round(zero_start, 4))
    print(f"both tend to (1 - tau) g / (1 - mu) = {(1 - 0.5) / (1 - 0.9):.3g}")
    # --8<-- [end:dampening-demo]

    # --8<-- [start:check]
    import torch

    def max_errors(dtype, steps=20, **options):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=shape).astype(dtype) for shape in [(3,), (2, 2), ()]]
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.SGD(tparams, foreach=False, **options)
        state, err_p, err_s = init_state(params), 0.0, 0.0
        for _ in range(steps):
            grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
            for tp, g in zip(tparams, grads, strict=True):
                tp.grad = torch.tensor(g)
            opt.step()
            params, state = momentum_step(params, grads, state, **options)
            for p, s, tp in zip(params, state, tparams, strict=True):
                err_p = max(err_p, np.abs(p - tp.detach().numpy()).max())
                for key, value in opt.state[tp].items():  # momentum_buffer
                    err_s = max(err_s, np.abs(s[key] - value.numpy()).max())
        return err_p, err_s

    configs = {"SGD(momentum=0.9, dampening=0.1, weight_decay=0.01)":
               {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
               "SGD(momentum=0.9, nesterov=True, maximize=True)":
               {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}}
    for name, options in configs.items():
        errors = {d: max_errors(d, **options) for d in (np.float64, np.float32)}
        for i, what in enumerate(("", " state")):
            print(f"checked against torch.optim.{name}{what}")
            for d, err in errors.items():
                print(f"{np.dtype(d).name}: max |ours - torch| value {err[i]:.1e}")
    # --8<-- [end:check]
