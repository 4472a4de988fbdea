r"""RMSprop: divide each coordinate's step by the root of a moving average of squared gradients.

Reference: Hinton, Srivastava and Swersky, "Neural Networks for Machine Learning", lecture 6e
(2012), which introduced it; the centered variant is from Graves, "Generating Sequences With
Recurrent Neural Networks", 2013. Checked against `torch.optim.RMSprop`.
"""

# --8<-- [start:impl]
# --8<-- [start:init_state]
import numpy as np


def init_state(params, momentum=0.0, centered=False):
    r"""RMSprop's state: a step count, the average of squared gradients, and two options.

    Args:
        params: list of float arrays, the parameters.
        momentum: if > 0, a momentum buffer is kept too.
        centered: if true, a moving average of the gradient itself is kept too.

    Returns:
        One dict per parameter with `step` (0) and `square_avg` (zeros), plus
        `momentum_buffer` and `grad_avg` (zeros) when those options are on: the keys
        of torch's `optimizer.state[p]`.
    """
    def one(p):
        s = {"step": 0, "square_avg": np.zeros_like(p)}
        if momentum > 0:
            s["momentum_buffer"] = np.zeros_like(p)
        if centered:
            s["grad_avg"] = np.zeros_like(p)
        return s

    return [one(p) for p in params]
# --8<-- [end:init_state]


# --8<-- [start:rmsprop_update]
def rmsprop_update(p, g, s, *, lr, alpha, eps, weight_decay, momentum, centered,
                   maximize):
    r"""One RMSprop step for one parameter array.

    $$v \leftarrow \alpha v + (1 - \alpha) g^2, \qquad
    \theta \leftarrow \theta - \eta\,\frac{g}{\sqrt{v} + \epsilon}$$

    With `centered`, $\bar g \leftarrow \alpha \bar g + (1 - \alpha) g$ and the
    denominator is $\sqrt{v - \bar g^2} + \epsilon$. With momentum $\mu > 0$,
    $b \leftarrow \mu b + g / (\text{denominator})$ and $\theta \leftarrow \theta - \eta b$.

    Args:
        p: the parameter $\theta$, a float array.
        g: its gradient, same shape and dtype.
        s: its state (see `init_state`).
        lr: learning rate $\eta$.
        alpha: smoothing constant $\alpha$ of the moving averages.
        eps: $\epsilon$, added outside the square root.
        weight_decay: L2 coefficient $\lambda$, added to the gradient first.
        momentum: momentum factor $\mu$.
        centered: divide by an estimate of the gradient's standard deviation instead.
        maximize: ascend instead of descend.

    Returns:
        `(new_p, new_s)`; the inputs are not modified.
    """
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    v = alpha * s["square_avg"] + (1 - alpha) * g * g  # a moving average of g²
    new = {"step": s["step"] + 1, "square_avg": v}
    if centered:
        new["grad_avg"] = g_bar = alpha * s["grad_avg"] + (1 - alpha) * g
        denom = np.sqrt(v - g_bar * g_bar) + eps  # estimate of the standard deviation
    else:
        denom = np.sqrt(v) + eps
    if momentum > 0:
        new["momentum_buffer"] = b = momentum * s["momentum_buffer"] + g / denom
        return p - lr * b, new
    return p - lr * (g / denom), new
# --8<-- [end:rmsprop_update]


# --8<-- [start:rmsprop_step]
def rmsprop_step(params, grads, state, *, lr=1e-2, alpha=0.99, eps=1e-8,
                 weight_decay=0.0, momentum=0.0, centered=False, maximize=False):
    r"""One step of `torch.optim.RMSprop` over a list of parameters.

    `momentum` and `centered` must be the values `state` was made with.

    Args:
        params: list of float arrays.
        grads: list of their gradients; `None` marks a parameter that is skipped.
        state: the list from `init_state`.
        lr: learning rate $\eta \ge 0$.
        alpha: smoothing constant $\alpha \ge 0$ (torch's default 0.99).
        eps: $\epsilon \ge 0$.
        weight_decay: L2 coefficient $\lambda \ge 0$.
        momentum: momentum factor $\mu \ge 0$.
        centered: the centered variant.
        maximize: maximize the objective instead of minimizing it.

    Returns:
        `(params, state)`: new lists; the inputs are not modified.

    Raises:
        ValueError: for a negative `lr`, `alpha`, `eps`, `weight_decay` or `momentum`,
            as torch does.
    """
    if min(lr, alpha, eps, weight_decay, momentum) < 0:
        raise ValueError("lr, alpha, eps, weight_decay and momentum must be >= 0")
    options = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
               "momentum": momentum, "centered": centered, "maximize": maximize}
    out = [(p, s) if g is None else rmsprop_update(p, g, s, **options)
           for p, g, s in zip(params, grads, state, strict=True)]
    return [p for p, _ in out], [s for _, s in out]
# --8<-- [end:rmsprop_step]
# --8<-- [end:impl]


# --8<-- [start:effective_lr]
def effective_lr(s, *, lr=1e-2, eps=1e-8):
    r"""The factor RMSprop (not centered, no momentum) multiplied the last gradient by.

    $$\eta^{\text{eff}}_t = \frac{\eta}{\sqrt{v_t} + \epsilon}$$

    Args:
        s: one parameter's state after a step.
        lr: learning rate $\eta$.
        eps: $\epsilon$.

    Returns:
        An array shaped like the parameter.
    """
    return lr / (np.sqrt(s["square_avg"]) + eps)
# --8<-- [end:effective_lr]


if __name__ == "__main__":
    # --8<-- [start:example]
    theta = [np.array([1.0, -2.0])]
    state = init_state(theta)
    for t in range(1, 4):
        grad = [2 * theta[0]]  # gradient of f(θ) = ‖θ‖²
        theta, state = rmsprop_step(theta, grad, state, lr=0.01)
        print(f"step {t}: theta = {theta[0]}, square_avg = {state[0]['square_avg']}")
    # --8<-- [end:example]

    # --8<-- [start:first-steps]
    params, state = [np.array([0.0])], init_state([np.array([0.0])])
    sizes = []
    for _ in range(200):  # the same gradient at every step
        before = params[0]
        params, state = rmsprop_step(params, [np.array([0.5])], state, lr=0.01)
        sizes.append(float(np.abs(params[0] - before)[0]))
    print("step size / lr at t = 1, 2, 10, 100, 200:",
          np.round(np.array(sizes)[[0, 1, 9, 99, 199]] / 0.01, 3))
    print("1 / sqrt(1 - alpha**t):                  ",
          np.round(1 / np.sqrt(1 - 0.99 ** np.array([1, 2, 10, 100, 200])), 3))
    # --8<-- [end:first-steps]

    # --8<-- [start:centered-demo]
    for centered in (False, True):
        params, state = [np.array([0.0])], init_state([np.zeros(1)], centered=centered)
        sizes = []
        for _ in range(2000):  # the same gradient every time, as in full-batch training
            before = params[0]
            params, state = rmsprop_step(params, [np.array([1.0])], state, lr=0.01,
                                         centered=centered)
            sizes.append(float(np.abs(params[0] - before)[0]))
        print(f"centered={centered!s:<5}: |step| at t = 1, 100, 500, 1000, 2000:",
              [f"{sizes[t - 1]:.3g}" for t in (1, 100, 500, 1000, 2000)])
    # --8<-- [end:centered-demo]

    # --8<-- [start:check]
    import torch

    def max_errors(dtype, steps=20, **options):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=shape).astype(dtype) for shape in [(3,), (2, 2), ()]]
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.RMSprop(tparams, foreach=False, **options)
        structure = {k: v for k, v in options.items() if k in ("momentum", "centered")}
        state = init_state(params, **structure)
        err_p = err_s = 0.0
        for _ in range(steps):
            grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
            for tp, g in zip(tparams, grads, strict=True):
                tp.grad = torch.tensor(g)
            opt.step()
            params, state = rmsprop_step(params, grads, state, **options)
            for p, s, tp in zip(params, state, tparams, strict=True):
                err_p = max(err_p, np.abs(p - tp.detach().numpy()).max())
                for key, value in opt.state[tp].items():  # step, square_avg, ...
                    err_s = max(err_s, np.abs(s[key] - value.numpy()).max())
        return err_p, err_s

    configs = {"RMSprop": {"lr": 0.01, "weight_decay": 0.01},
               "RMSprop(momentum=0.9, centered=True)":
               {"lr": 0.01, "momentum": 0.9, "centered": True}}
    for name, options in configs.items():
        errors = {d: max_errors(d, **options) for d in (np.float64, np.float32)}
        for i, what in enumerate(("", " state")):
            print(f"checked against torch.optim.{name}{what}")
            for d, err in errors.items():
                print(f"{np.dtype(d).name}: max |ours - torch| value {err[i]:.1e}")
    # --8<-- [end:check]
