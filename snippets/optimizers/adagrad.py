r"""Adagrad: divide each coordinate's step by the root of its accumulated squared gradients.

Reference: Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and
Stochastic Optimization", JMLR 2011. Checked against `torch.optim.Adagrad`.
"""

# --8<-- [start:impl]
# --8<-- [start:init_state]
import numpy as np


def init_state(params, initial_accumulator_value=0.0):
    r"""Adagrad's state: a step count and a running sum of squared gradients.

    torch creates this state for every parameter when the optimizer is built (not at
    the first step, as the other optimizers do), so a parameter that never gets a
    gradient still has it.

    Args:
        params: list of float arrays, the parameters.
        initial_accumulator_value: the value $G_0 \ge 0$ the sum starts from.

    Returns:
        One dict `{"step": 0, "sum": G_0}` per parameter, `sum` shaped like it.

    Raises:
        ValueError: for a negative `initial_accumulator_value`, as torch does.
    """
    G0 = initial_accumulator_value
    if G0 < 0:  # a negative sum can make √G NaN
        raise ValueError(f"initial_accumulator_value must be >= 0, got {G0}")
    return [{"step": 0, "sum": np.full_like(p, G0)} for p in params]
# --8<-- [end:init_state]


# --8<-- [start:adagrad_update]
def adagrad_update(p, g, s, *, lr, lr_decay, weight_decay, eps, maximize):
    r"""One Adagrad step for one parameter array.

    $$G \leftarrow G + g^2, \qquad
    \theta \leftarrow \theta - \frac{\eta}{1 + (t - 1)\,\delta}\,
    \frac{g}{\sqrt{G} + \epsilon}$$

    Args:
        p: the parameter $\theta$, a float array.
        g: its gradient, same shape and dtype.
        s: its state, `{"step": t - 1, "sum": G}`.
        lr: learning rate $\eta$.
        lr_decay: $\delta$, which divides the learning rate by $1 + (t - 1)\delta$.
        weight_decay: L2 coefficient $\lambda$, added to the gradient first.
        eps: $\epsilon$, added to $\sqrt{G}$ (outside the square root).
        maximize: ascend instead of descend.

    Returns:
        `(new_p, new_s)`; the inputs are not modified.
    """
    t = s["step"] + 1
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    lr_t = lr / (1 + (t - 1) * lr_decay)
    G = s["sum"] + g * g  # every past squared gradient, with weight 1
    return p - lr_t * (g / (np.sqrt(G) + eps)), {"step": t, "sum": G}
# --8<-- [end:adagrad_update]


# --8<-- [start:adagrad_step]
def adagrad_step(params, grads, state, *, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 eps=1e-10, maximize=False):
    r"""One step of `torch.optim.Adagrad` over a list of parameters.

    The accumulator's starting value is set in `init_state`
    (torch's `initial_accumulator_value`).

    Args:
        params: list of float arrays.
        grads: list of their gradients; `None` marks a parameter that is skipped
            (neither it nor its step count changes).
        state: the list from `init_state`.
        lr: learning rate $\eta \ge 0$.
        lr_decay: $\delta \ge 0$.
        weight_decay: L2 coefficient $\lambda \ge 0$.
        eps: $\epsilon \ge 0$.
        maximize: maximize the objective instead of minimizing it.

    Returns:
        `(params, state)`: new lists; the inputs are not modified.

    Raises:
        ValueError: for a negative `lr`, `lr_decay`, `weight_decay` or `eps`, as torch does.
    """
    if min(lr, lr_decay, weight_decay, eps) < 0:
        raise ValueError("lr, lr_decay, weight_decay and eps must be >= 0")
    options = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay, "eps": eps,
               "maximize": maximize}
    out = [(p, s) if g is None else adagrad_update(p, g, s, **options)
           for p, g, s in zip(params, grads, state, strict=True)]
    return [p for p, _ in out], [s for _, s in out]
# --8<-- [end:adagrad_step]
# --8<-- [end:impl]


# --8<-- [start:effective_lr]
def effective_lr(s, *, lr=1e-2, lr_decay=0.0, eps=1e-10):
    r"""The factor Adagrad multiplied each coordinate's gradient by at the last step.

    $$\eta^{\text{eff}}_t = \frac{\eta}{1 + (t - 1)\,\delta} \cdot \frac{1}{\sqrt{G_t} + \epsilon}$$

    Args:
        s: one parameter's state after step $t \ge 1$.
        lr: learning rate $\eta$.
        lr_decay: $\delta$.
        eps: $\epsilon$.

    Returns:
        An array shaped like the parameter.
    """
    return lr / (1 + (s["step"] - 1) * lr_decay) / (np.sqrt(s["sum"]) + eps)
# --8<-- [end:effective_lr]


if __name__ == "__main__":
    # --8<-- [start:example]
    theta = [np.array([1.0, -2.0])]
    state = init_state(theta)
    for t in range(1, 4):
        grad = [2 * theta[0]]  # gradient of f(θ) = ‖θ‖²
        theta, state = adagrad_step(theta, grad, state, lr=0.5)
        print(f"step {t}: theta = {theta[0]}, sum = {state[0]['sum']}")
    # --8<-- [end:example]

    # --8<-- [start:sparse-demo]
    T, every = 100, 10  # coordinate 0 has a gradient at every step, coordinate 1 every 10th
    params = [np.zeros(2)]
    state = init_state(params)
    for t in range(1, T + 1):
        g = np.array([1.0, 1.0 if t % every == 0 else 0.0])
        params, state = adagrad_step(params, [g], state, lr=0.1)
    print("effective lr (frequent, rare):", effective_lr(state[0], lr=0.1))
    print("distance moved, Adagrad:      ", np.abs(params[0]))
    print("distance moved, SGD lr = 0.1: ", 0.1 * np.array([T, T // every]))
    # --8<-- [end:sparse-demo]

    # --8<-- [start:check]
    import torch

    def max_errors(dtype, steps=20, initial_accumulator_value=0.0, **options):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=shape).astype(dtype) for shape in [(3,), (2, 2), ()]]
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.Adagrad(tparams, foreach=False, **options,
                                  initial_accumulator_value=initial_accumulator_value)
        state, err_p, err_s = init_state(params, initial_accumulator_value), 0.0, 0.0
        for _ in range(steps):
            grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
            for tp, g in zip(tparams, grads, strict=True):
                tp.grad = torch.tensor(g)
            opt.step()
            params, state = adagrad_step(params, grads, state, **options)
            for p, s, tp in zip(params, state, tparams, strict=True):
                err_p = max(err_p, np.abs(p - tp.detach().numpy()).max())
                for key, value in opt.state[tp].items():  # step, sum
                    err_s = max(err_s, np.abs(s[key] - value.numpy()).max())
        return err_p, err_s

    options = {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01,
               "initial_accumulator_value": 0.1}
    errors = {d: max_errors(d, **options) for d in (np.float64, np.float32)}
    for i, what in enumerate(("", " state")):
        print(f"checked against torch.optim.Adagrad{what}")
        for d, err in errors.items():
            print(f"{np.dtype(d).name}: max |ours - torch| value {err[i]:.1e}")
    # --8<-- [end:check]
