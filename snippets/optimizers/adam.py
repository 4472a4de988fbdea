r"""Adam: momentum on the gradient, RMSprop's denominator, and a correction for their zero start.

References: Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; Reddi,
Kale and Kumar, "On the Convergence of Adam and Beyond", ICLR 2018 (AMSGrad). Checked against
`torch.optim.Adam`.
"""

# --8<-- [start:impl]
# --8<-- [start:init_state]
import numpy as np


def init_state(params, amsgrad=False):
    r"""Adam's state: a step count and moving averages of the gradient and of its square.

    Args:
        params: list of float arrays, the parameters.
        amsgrad: if true, the running maximum of the second moment is kept too.

    Returns:
        One dict per parameter: `step` (0), `exp_avg` and `exp_avg_sq` (zeros), and
        `max_exp_avg_sq` (zeros) with AMSGrad: the keys of torch's `optimizer.state[p]`.
    """
    def one(p):
        s = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
        if amsgrad:
            s["max_exp_avg_sq"] = np.zeros_like(p)
        return s

    return [one(p) for p in params]
# --8<-- [end:init_state]


# --8<-- [start:adam_update]
def adam_update(p, g, s, *, lr, betas, eps, weight_decay, amsgrad, maximize):
    r"""One Adam step for one parameter array.

    $$m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
    v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
    \theta \leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\,
    \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}$$

    With AMSGrad, $v$ in the denominator is replaced by the running maximum of the
    (uncorrected) $v$, and that maximum is divided by the current $1 - \beta_2^t$.

    Args:
        p: the parameter $\theta$, a float array.
        g: its gradient, same shape and dtype.
        s: its state (see `init_state`).
        lr: learning rate $\eta$.
        betas: $(\beta_1, \beta_2)$, the decay rates of $m$ and $v$.
        eps: $\epsilon$, added after the bias correction, outside the square root.
        weight_decay: L2 coefficient $\lambda$, added to the gradient (see AdamW for
            the decoupled kind).
        amsgrad: use the running maximum of $v$.
        maximize: ascend instead of descend.

    Returns:
        `(new_p, new_s)`; the inputs are not modified.
    """
    beta1, beta2 = betas
    t = s["step"] + 1
    g = -g if maximize else g
    if weight_decay != 0:
        g = g + weight_decay * p
    m = beta1 * s["exp_avg"] + (1 - beta1) * g  # first moment
    v = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g  # second moment
    new = {"step": t, "exp_avg": m, "exp_avg_sq": v}
    if amsgrad:
        new["max_exp_avg_sq"] = v = np.maximum(s["max_exp_avg_sq"], v)  # max of raw v
    step_size = lr / (1 - beta1**t)  # bias correction of m
    denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + eps  # of v, then eps
    return p - step_size * (m / denom), new
# --8<-- [end:adam_update]


# --8<-- [start:adam_step]
def adam_step(params, grads, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
              weight_decay=0.0, amsgrad=False, maximize=False):
    r"""One step of `torch.optim.Adam` over a list of parameters.

    `amsgrad` must be the value `state` was made with.

    Args:
        params: list of float arrays.
        grads: list of their gradients; `None` marks a parameter that is skipped.
        state: the list from `init_state`.
        lr: learning rate $\eta \ge 0$.
        betas: $(\beta_1, \beta_2)$, each in $[0, 1)$.
        eps: $\epsilon \ge 0$.
        weight_decay: L2 coefficient $\lambda \ge 0$, added to the gradient.
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
    out = [(p, s) if g is None else adam_update(p, g, s, **options)
           for p, g, s in zip(params, grads, state, strict=True)]
    return [p for p, _ in out], [s for _, s in out]
# --8<-- [end:adam_step]
# --8<-- [end:impl]


# --8<-- [start:amsgrad_max]
def amsgrad_denominators(grads, beta2=0.999):
    r"""The AMSGrad second moment, bias-corrected two ways, for one coordinate.

    torch keeps $\max_{k \le t} v_k$ and divides it by $1 - \beta_2^t$; the other
    reading keeps $\max_{k \le t} v_k / (1 - \beta_2^k)$, the maximum of the corrected
    values.

    Args:
        grads: the gradients $g_1, \dots, g_T$ of one coordinate.
        beta2: $\beta_2$.

    Returns:
        Two arrays of length $T$: $\sqrt{\cdot}$ of torch's and of the other quantity.
    """
    v = max_raw = max_corrected = 0.0
    torch_form, other = [], []
    for t, g in enumerate(grads, start=1):
        v = beta2 * v + (1 - beta2) * g * g
        max_raw = max(max_raw, v)
        max_corrected = max(max_corrected, v / (1 - beta2**t))
        torch_form.append(np.sqrt(max_raw / (1 - beta2**t)))
        other.append(np.sqrt(max_corrected))
    return np.array(torch_form), np.array(other)
# --8<-- [end:amsgrad_max]


if __name__ == "__main__":
    # --8<-- [start:example]
    theta = [np.array([1.0, -2.0])]
    state = init_state(theta)
    for t in range(1, 4):
        grad = [2 * theta[0]]  # gradient of f(θ) = ‖θ‖²
        theta, state = adam_step(theta, grad, state, lr=0.1)
        print(f"step {t}: theta = {theta[0]}, exp_avg = {state[0]['exp_avg']}, "
              f"exp_avg_sq = {state[0]['exp_avg_sq']}")
    # --8<-- [end:example]

    # --8<-- [start:scale-demo]
    for scale in (1e3, 1.0, 1e-3, 1e-8, 1e-10):  # a constant gradient of this size
        params, state = [np.array([0.0])], init_state([np.zeros(1)])
        sizes = []
        for _ in range(100):
            before = params[0]
            params, state = adam_step(params, [np.array([scale])], state, lr=0.01)
            sizes.append(float(np.abs(params[0] - before)[0]) / 0.01)
        print(f"|g| = {scale:<7g} step / lr at t = 1, 10, 100: {np.round(sizes[0], 4)}, "
              f"{np.round(sizes[9], 4)}, {np.round(sizes[99], 4)}")
    # --8<-- [end:scale-demo]

    # --8<-- [start:amsgrad-demo]
    grads = np.array([10.0] + [1.0] * 999)  # one large gradient, then small ones
    params, state = [np.array([0.0])], init_state([np.zeros(1)], amsgrad=True)
    ours = []
    for t, g in enumerate(grads, start=1):
        params, state = adam_step(params, [np.array([g])], state, amsgrad=True)
        ours.append(float(np.sqrt(state[0]["max_exp_avg_sq"][0] / (1 - 0.999**t))))
    torch_form, other = amsgrad_denominators(grads)
    for t in (1, 2, 10, 100, 1000):
        print(f"t = {t:>4}: sqrt(max v / (1 - b2^t)) = {ours[t - 1]:.3f} "
              f"(recomputed {torch_form[t - 1]:.3f}), sqrt(max v_hat) = {other[t - 1]:.3f}")
    # --8<-- [end:amsgrad-demo]

    # --8<-- [start:check]
    import torch

    def max_errors(dtype, steps=20, **options):
        rng = np.random.default_rng(0)
        params = [rng.normal(size=shape).astype(dtype) for shape in [(3,), (2, 2), ()]]
        tparams = [torch.tensor(p, requires_grad=True) for p in params]
        opt = torch.optim.Adam(tparams, foreach=False, **options)
        state = init_state(params, amsgrad=options.get("amsgrad", False))
        err_p = err_s = 0.0
        for _ in range(steps):
            grads = [rng.normal(size=p.shape).astype(dtype) for p in params]
            for tp, g in zip(tparams, grads, strict=True):
                tp.grad = torch.tensor(g)
            opt.step()
            params, state = adam_step(params, grads, state, **options)
            for p, s, tp in zip(params, state, tparams, strict=True):
                err_p = max(err_p, np.abs(p - tp.detach().numpy()).max())
                for key, value in opt.state[tp].items():  # step, exp_avg, exp_avg_sq, ...
                    err_s = max(err_s, np.abs(s[key] - value.numpy()).max())
        return err_p, err_s

    configs = {"Adam": {"lr": 0.01, "weight_decay": 0.01},
               "Adam(amsgrad=True)": {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True}}
    for name, options in configs.items():
        errors = {d: max_errors(d, **options) for d in (np.float64, np.float32)}
        for i, what in enumerate(("", " state")):
            print(f"checked against torch.optim.{name}{what}")
            for d, err in errors.items():
                print(f"{np.dtype(d).name}: max |ours - torch| value {err[i]:.1e}")
    # --8<-- [end:check]
