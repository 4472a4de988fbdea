r"""Adadelta: RMSprop's denominator, with a numerator that carries the units of the parameter.

Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012. Checked against
`torch.optim.Adadelta`.
"""

# --8<-- [start:impl]
# --8<-- [start:init_state]
import numpy as np


def init_state(params):
    r"""Adadelta's state: a step count and two moving averages of squares.

    Args:
        params: list of float arrays, the parameters.

    Returns:
        One dict `{"step": 0, "square_avg": 0, "acc_delta": 0}` per parameter (arrays
        of zeros shaped like it): the averages of squared gradients and of squared
        updates, named as in torch.
    """
    return [{"step": 0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}
            for p in params]
# --8<-- [end:init_state]


# --8<-- [start:adadelta_update]
def adadelta_update(p, g, s, *, lr, rho, eps, weight_decay, maximize):
    r"""One Adadelta step for one parameter array.

    $$v \leftarrow \rho v + (1 - \rho) g^2, \quad
    \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g, \quad
    u \leftarrow \rho u + (1 - \rho) \Delta^2, \quad
    \theta \leftarrow \theta - \eta \Delta$$

    Args:
        p: the parameter $\theta$, a float array.
        g: its gradient, same shape and dtype.
        s: its state, `{"step", "square_avg": v, "acc_delta": u}`.
        lr: $\eta$, a factor on the update (1 in Zeiler's paper).
        rho: decay $\rho$ of both moving averages.
        eps: $\epsilon$, added inside both square roots.
        weight_decay: L2 coefficient $\lambda$, added to the gradient first.
        maximize: ascend instead of descend.

    Returns:
        `(new_p, new_s)`; the inputs are not modified.
    """
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    v = rho * s["square_avg"] + (1 - rho) * g * g
    delta = np.sqrt(s["acc_delta"] + eps) / np.sqrt(v + eps) * g  # RMS[Δ] / RMS[g] · g
    u = rho * s["acc_delta"] + (1 - rho) * delta * delta
    return p - lr * delta, {"step": s["step"] + 1, "square_avg": v, "acc_delta": u}
# --8<-- [end:adadelta_update]


# --8<-- [start:adadelta_step]
def adadelta_step(params, grads, state, *, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0,
                  maximize=False):
    r"""One step of `torch.optim.Adadelta` over a list of parameters.

    Args:
        params: list of float arrays.
        grads: list of their gradients; `None` marks a parameter that is skipped.
        state: the list from `init_state`.
        lr: $\eta \ge 0$ (torch's default 1.0).
        rho: $0 \le \rho \le 1$.
        eps: $\epsilon \ge 0$.
        weight_decay: L2 coefficient $\lambda \ge 0$.
        maximize: maximize the objective instead of minimizing it.

    Returns:
        `(params, state)`: new lists; the inputs are not modified.

    Raises:
        ValueError: for `rho` outside [0, 1] or a negative `lr`, `eps` or
            `weight_decay`, as torch does.
    """
    if min(lr, eps, weight_decay) < 0 or not 0 <= rho <= 1:
        raise ValueError("need lr, eps, weight_decay >= 0 and 0 <= rho <= 1")
    options = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
               "maximize": maximize}
    out = [(p, s) if g is None else adadelta_update(p, g, s, **options)
           for p, g, s in zip(params, grads, state, strict=True)]
    return [p for p, _ in out], [s for _, s in out]
# --8<-- [end:adadelta_step]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    theta = [np.array([1.0, -2.0])]
    state = init_state(theta)
    for t in range(1, 4):
        grad = [2 * theta[0]]  # gradient of f(θ) = ‖θ‖²
        theta, state = adadelta_step(theta, grad, state)
        print(f"step {t}: theta = {theta[0]}, acc_delta = {state[0]['acc_delta']}")
    # --8<-- [end:example]

    # --8<-- [start:units-demo]
    for scale in (1e-3, 1.0, 1e3):  # the same gradient sequence in three units
        noise = np.random.default_rng(0).normal(size=(300, 1))
        g = scale * (1 + noise)  # noisy, with a positive mean
        params, state = [np.array([0.0])], init_state([np.zeros(1)])
        sizes = []
        for t in range(300):
            before = params[0]
            params, state = adadelta_step(params, [g[t]], state)
            sizes.append(float(np.abs(params[0] - before)[0]))
        print(f"gradient scale {scale:g}: |step| at t = 1, 10, 100, 300:",
              np.array(sizes)[[0, 9, 99, 299]].round(6))
    # --8<-- [end:units-demo]

    # --8<-- [start:check]
    import torch

    def max_errors(dtype, steps=20, **options):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=shape).astype(dtype) for shape in [(3,), (2, 2), ()]]
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.Adadelta(tparams, foreach=False, **options)
        state, err_p, err_s = init_state(params), 0.0, 0.0
        for _ in range(steps):
            grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
            for tp, g in zip(tparams, grads, strict=True):
                tp.grad = torch.tensor(g)
            opt.step()
            params, state = adadelta_step(params, grads, state, **options)
            for p, s, tp in zip(params, state, tparams, strict=True):
                err_p = max(err_p, np.abs(p - tp.detach().numpy()).max())
                for key, value in opt.state[tp].items():  # step, square_avg, acc_delta
                    err_s = max(err_s, np.abs(s[key] - value.numpy()).max())
        return err_p, err_s

    options = {"lr": 1.0, "rho": 0.9, "weight_decay": 0.01}
    errors = {d: max_errors(d, **options) for d in (np.float64, np.float32)}
    for i, what in enumerate(("", " state")):
        print(f"checked against torch.optim.Adadelta{what}")
        for d, err in errors.items():
            print(f"{np.dtype(d).name}: max |ours - torch| value {err[i]:.1e}")
    # --8<-- [end:check]
