r"""AdamW: Adam with decoupled weight decay, shrinking the weights outside the adaptive step.

Reference: Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019. Checked
against `torch.optim.AdamW`.
"""

# --8<-- [start:impl]
# --8<-- [start:init_state]
import numpy as np


def init_state(params, amsgrad=False):
    r"""AdamW's state, the same as Adam's: a step count and two moving averages.

    Args:
        params: list of float arrays, the parameters.
        amsgrad: if true, the running maximum of the second moment is kept too.

    Returns:
        One dict per parameter: `step` (0), `exp_avg` and `exp_avg_sq` (zeros), and
        `max_exp_avg_sq` (zeros) with AMSGrad.
    """
    def one(p):
        s = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if amsgrad:
            s["max_exp_avg_sq"] = np.zeros_like(p)
        return s

    return [one(p) for p in params]
# --8<-- [end:init_state]


# --8<-- [start:adamw_update]
def adamw_update(p, g, s, *, lr, betas, eps, weight_decay, amsgrad, maximize):
    r"""One AdamW step for one parameter array: shrink $\theta$, then take Adam's step.

    $$\theta \leftarrow (1 - \eta\lambda)\,\theta, \qquad
    \theta \leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\,
    \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}$$

    with $m$, $v$ (and AMSGrad's maximum) updated from the gradient alone, as in Adam.

    Args:
        p: the parameter $\theta$, a float array.
        g: its gradient, same shape and dtype.
        s: its state (see `init_state`).
        lr: learning rate $\eta$; it multiplies the decay too.
        betas: $(\beta_1, \beta_2)$.
        eps: $\epsilon$, added after the bias correction, outside the square root.
        weight_decay: decoupled decay coefficient $\lambda$.
        amsgrad: use the running maximum of $v$.
        maximize: ascend instead of descend (the decay still shrinks $\theta$).

    Returns:
        `(new_p, new_s)`; the inputs are not modified.
    """
    beta1, beta2 = betas
    t = s["step"] + 1
    g = -g if maximize else g
    p = p * (1 - lr * weight_decay)  # decoupled: never enters m or v
    m = beta1 * s["exp_avg"] + (1 - beta1) * g
    v = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
    new = {"step": t, "exp_avg": m, "exp_avg_sq": v}
    if amsgrad:
        new["max_exp_avg_sq"] = v = np.maximum(s["max_exp_avg_sq"], v)
    step_size = lr / (1 - beta1**t)
    denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + eps
    return p - step_size * (m / denom), new
# --8<-- [end:adamw_update]


# --8<-- [start:adamw_step]
def adamw_step(params, grads, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
               weight_decay=1e-2, amsgrad=False, maximize=False):
    r"""One step of `torch.optim.AdamW` over a list of parameters.

    Args:
        params: list of float arrays.
        grads: list of their gradients; `None` marks a parameter that is skipped
            (it is not decayed either).
        state: the list from `init_state`.
        lr: learning rate $\eta \ge 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$.
        eps: $\epsilon \ge 0$.
        weight_decay: $\lambda \ge 0$ (torch's default 0.01).
        amsgrad: the AMSGrad variant.
        maximize: maximize the objective instead of minimizing it.

    Returns:
        `(params, state)`: new lists; the inputs are not modified.

    Raises:
        ValueError: for a beta outside [0, 1) or a negative `lr`, `eps` or
            `weight_decay`, as torch does.
    """
    if min(lr, eps, weight_decay) < 0 or not all(0 <= b < 1 for b in betas):
        raise ValueError("need lr, eps, weight_decay >= 0 and 0 <= beta < 1")
    options = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
               "amsgrad": amsgrad, "maximize": maximize}
    out = [(p, s) if g is None else adamw_update(p, g, s, **options)
           for p, g, s in zip(params, grads, state, strict=True)]
    return [p for p, _ in out], [s for _, s in out]
# --8<-- [end:adamw_step]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:example]
    theta = [np.array([1.0, -2.0])]
    state = init_state(theta)
    for t in range(1, 4):
        grad = [2 * theta[0]]  # gradient of f(θ) = ‖θ‖²
        theta, state = adamw_step(theta, grad, state, lr=0.1, weight_decay=0.1)
        print(f"step {t}: theta = {theta[0]}, exp_avg = {state[0]['exp_avg']}")
    # --8<-- [end:example]

    # --8<-- [start:coupled-demo]
    rng = np.random.default_rng(0)
    scales = np.array([10.0, 0.01])  # gradient noise per coordinate: large, small
    noise = rng.normal(size=(2000, 2)) * scales  # zero-mean "data" gradients
    lr, lam = 1e-3, 0.1
    coupled = [np.ones(2)], init_state([np.ones(2)])
    decoupled = [np.ones(2)], init_state([np.ones(2)])
    for g in noise:
        params, state = coupled  # L2 = Adam fed g + λθ (AdamW with its decay off)
        coupled = adamw_step(params, [g + lam * params[0]], state, lr=lr, weight_decay=0)
        decoupled = adamw_step(*decoupled[:1], [g], decoupled[1], lr=lr, weight_decay=lam)
    print("start                       theta = [1. 1.]")
    print("Adam + L2 (weight_decay):   theta =", coupled[0][0].round(3))
    print("AdamW (decoupled):          theta =", decoupled[0][0].round(3))
    print("pure decay (1 - lr*lam)^T:          ", round((1 - lr * lam) ** len(noise), 3))
    # --8<-- [end:coupled-demo]

    # --8<-- [start:check]
    import torch

    def max_errors(dtype, steps=20, **options):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=shape).astype(dtype) for shape in [(3,), (2, 2), ()]]
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.AdamW(tparams, foreach=False, **options)
        state = init_state(params, amsgrad=options.get("amsgrad", False))
        err_p = err_s = 0.0
        for _ in range(steps):
            grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
            for tp, g in zip(tparams, grads, strict=True):
                tp.grad = torch.tensor(g)
            opt.step()
            params, state = adamw_step(params, grads, state, **options)
            for p, s, tp in zip(params, state, tparams, strict=True):
                err_p = max(err_p, np.abs(p - tp.detach().numpy()).max())
                for key, value in opt.state[tp].items():  # step, exp_avg, exp_avg_sq, ...
                    err_s = max(err_s, np.abs(s[key] - value.numpy()).max())
        return err_p, err_s

    configs = {"AdamW": {"lr": 0.01, "weight_decay": 0.1},
               "AdamW(amsgrad=True)": {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}}
    for name, options in configs.items():
        errors = {d: max_errors(d, **options) for d in (np.float64, np.float32)}
        for i, what in enumerate(("", " state")):
            print(f"checked against torch.optim.{name}{what}")
            for d, err in errors.items():
                print(f"{np.dtype(d).name}: max |ours - torch| value {err[i]:.1e}")
    # --8<-- [end:check]
