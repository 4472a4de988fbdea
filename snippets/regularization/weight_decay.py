r"""Weight decay vs an L2 penalty: the same update for SGD, different updates inside Adam.

Reference: Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019. Checked
against `torch.optim.SGD(weight_decay=...)`, `torch.optim.Adam(weight_decay=...)` and
`torch.optim.AdamW`.
"""

# --8<-- [start:impl]
# --8<-- [start:sgd]
import numpy as np


def sgd_l2(theta, g, lr, lam):
    r"""SGD on the loss plus the L2 penalty $\frac{\lambda}{2}\lVert\theta\rVert^2$.

    Args:
        theta: the parameters, a float array.
        g: the gradient of the loss, same shape.
        lr: learning rate $\eta$.
        lam: L2 strength $\lambda$.

    Returns:
        $\theta - \eta (g + \lambda\theta)$.
    """
    return theta - lr * (g + lam * theta)


def sgd_decoupled(theta, g, lr, decay):
    r"""SGD with weight decay: shrink by the factor $1 - d$, then step on the loss.

    Args:
        theta: the parameters, a float array.
        g: the gradient of the loss, same shape.
        lr: learning rate $\eta$.
        decay: the fraction $d$ taken off each weight per step.

    Returns:
        $(1 - d)\,\theta - \eta g$.
    """
    return (1 - decay) * theta - lr * g
# --8<-- [end:sgd]


# --8<-- [start:adam]
def init_state(theta):
    """Adam's state for one parameter array: step count, first and second moments."""
    return {"step": 0, "m": np.zeros_like(theta), "v": np.zeros_like(theta)}


def adam(theta, g, state, *, lr, lam, decoupled, betas=(0.9, 0.999), eps=1e-8):
    r"""One Adam step with L2 (`decoupled=False`) or decoupled weight decay (`True`).

    Args:
        theta: the parameters, a float array.
        g: the gradient of the loss, same shape.
        state: from `init_state`.
        lr: learning rate $\eta$.
        lam: $\lambda$ (torch's `weight_decay`).
        decoupled: AdamW's decay instead of Adam's L2 term.
        betas: $(\beta_1, \beta_2)$.
        eps: $\epsilon$.

    Returns:
        `(new_theta, new_state)`; the inputs are not modified.

    Raises:
        ValueError: for a negative `lr`, `lam` or `eps` or a beta outside [0, 1), as in torch.
    """
    b1, b2 = betas
    if not (lr >= 0 and lam >= 0 and eps >= 0 and 0 <= b1 < 1 and 0 <= b2 < 1):
        raise ValueError("need lr, lam, eps >= 0 and 0 <= beta < 1")
    if decoupled:
        theta = (1 - lr * lam) * theta  # AdamW: shrink the weights themselves
    else:
        g = g + lam * theta  # Adam + L2: the penalty's gradient joins g
    t = state["step"] + 1
    m = b1 * state["m"] + (1 - b1) * g
    v = b2 * state["v"] + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)  # λθ, if in g, is divided too
    return theta, {"step": t, "m": m, "v": v}
# --8<-- [end:adam]
# --8<-- [end:impl]


# --8<-- [start:decay_run]
def decay_run(scale, decoupled, steps=2000, lr=1e-3, lam=0.1):
    r"""$\theta_t$ of one weight, from 1, whose loss gradient alternates $\pm$`scale`.

    The gradient averages to zero: any steady drift of $\theta$ is the decay.

    Args:
        scale: the size $s$ of the loss gradient.
        decoupled: AdamW (`True`) or Adam + L2 (`False`).
        steps: number of steps $T$.
        lr: learning rate $\eta$.
        lam: $\lambda$.

    Returns:
        An array of $\theta_1, \dots, \theta_T$.
    """
    theta, state, path = np.ones(1), init_state(np.ones(1)), []
    for t in range(steps):
        g = np.array([scale * (-1) ** t])
        theta, state = adam(theta, g, state, lr=lr, lam=lam, decoupled=decoupled)
        path.append(theta[0])
    return np.array(path)
# --8<-- [end:decay_run]


if __name__ == "__main__":
    # --8<-- [start:sgd-demo]
    import torch

    lr, lam = 0.1, 0.01
    rng = np.random.default_rng(0)
    grads = rng.normal(size=(20, 3))
    a = b = rng.normal(size=3)
    p = torch.tensor(a, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, weight_decay=lam)  # adds λθ to the gradient
    for g in grads:
        a, b = sgd_l2(a, g, lr, lam), sgd_decoupled(b, g, lr, decay=lr * lam)
        p.grad = torch.tensor(g)
        opt.step()
    print("after 20 steps, L2:       ", a)
    print("decoupled, decay = lr·λ:  ", b)
    print("max |L2 - decoupled|      ", f"{np.abs(a - b).max():.1e}")
    print("max |L2 - torch SGD|      ", f"{np.abs(a - p.detach().numpy()).max():.1e}")
    # --8<-- [end:sgd-demo]

    # --8<-- [start:one-step]
    theta = np.array([1.0, 1.0])
    g = np.array([10.0, 0.01])  # a large and a small loss gradient
    for decoupled in (False, True):
        name = "AdamW    " if decoupled else "Adam + L2"
        new, s = adam(theta, g, init_state(theta), lr=0.1, lam=0.1, decoupled=decoupled)
        print(f"{name}: gradient fed to m, v = {s['m'] / 0.1}, theta = {new}")
    # --8<-- [end:one-step]

    # --8<-- [start:decay-demo]
    T, lr, lam = 2000, 1e-3, 0.1
    print(f"|g| = s     Adam + L2   (1 - lr·λ/s)^T    AdamW   (1 - lr·λ)^T = "
          f"{(1 - lr * lam) ** T:.3f}")
    for s in (100.0, 10.0, 1.0, 0.1, 0.01):
        coupled, decoupled = decay_run(s, False)[-1], decay_run(s, True)[-1]
        print(f"{s:<8g} {coupled:>10.3f} {(1 - lr * lam / s) ** T:>16.3f} "
              f"{decoupled:>10.3f}")
    # --8<-- [end:decay-demo]

    # --8<-- [start:check]
    def max_errors(dtype, decoupled, steps=20, lr=0.01, lam=0.1):
        rng = np.random.default_rng(1)
        theta = rng.normal(size=(4, 3)).astype(dtype)
        state = init_state(theta)
        p = torch.tensor(theta, requires_grad=True)
        cls = torch.optim.AdamW if decoupled else torch.optim.Adam
        opt = cls([p], lr=lr, weight_decay=lam)
        errors = []
        for _ in range(steps):
            g = (rng.normal(size=theta.shape) * [[10.0, 1.0, 0.01]]).astype(dtype)
            theta, state = adam(theta, g, state, lr=lr, lam=lam, decoupled=decoupled)
            p.grad = torch.tensor(g)
            opt.step()
            errors.append(np.abs(theta - p.detach().numpy()).max())
        return errors[0], max(errors)

    for decoupled, ref in ((False, "torch.optim.Adam(weight_decay=0.1)"),
                           (True, "torch.optim.AdamW(weight_decay=0.1)")):
        errors = {d: max_errors(d, decoupled) for d in (np.float64, np.float32)}
        for i, when in enumerate(("first step", "20 steps")):
            print(f"checked against {ref}, {when}")
            for dtype, err in errors.items():
                print(f"{np.dtype(dtype).name}: max |ours - torch| value {err[i]:.1e}")
    # --8<-- [end:check]
