r"""Exponential decay of the learning rate: multiply it by `gamma` at every step.

Reference: the `ExponentialLR` scheduler of PyTorch and Keras's `ExponentialDecay`
(both in their official documentation). Checked against
`torch.optim.lr_scheduler.ExponentialLR` driving a real optimizer.
"""

# --8<-- [start:impl]
# --8<-- [start:as_steps]
import numpy as np


def as_steps(step):
    r"""Step indices as an integer array; refuses fractional, boolean or negative steps.

    Args:
        step: an integer or an array of integers, each $\ge 0$.

    Returns:
        The steps as an int64 array.
    """
    t = np.asarray(step)
    if t.dtype.kind not in "iu":
        raise ValueError(f"step must be an integer or integer array, not {t.dtype}")
    t = t.astype(np.int64)  # int8 or uint8 steps would overflow in T - t
    if np.any(t < 0):
        raise ValueError("step must be >= 0: step 0 is the first optimizer step")
    return t
# --8<-- [end:as_steps]


# --8<-- [start:exponential_decay]
def exponential_decay(step, base_lr, gamma):
    r"""Learning rate of optimizer step `step` (0-based) under exponential decay.

    $$\eta_t = \eta\, \gamma^{t}$$

    Args:
        step: step index $t$, an integer or integer array, $\ge 0$.
        base_lr: initial learning rate $\eta$, finite and $\ge 0$.
        gamma: the factor $\gamma \in (0, 1]$ applied once per step.

    Returns:
        Float64 learning rates with the shape of `step`.
    """
    t = as_steps(step)
    if not (np.isfinite(base_lr) and base_lr >= 0):
        raise ValueError(f"base_lr must be finite and >= 0, got {base_lr}")
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1] for a decay, got {gamma}")
    return (base_lr * np.float64(gamma) ** t)[()]  # [()]: a scalar for a scalar step
# --8<-- [end:exponential_decay]


# --8<-- [start:half_life]
def half_life(gamma):
    r"""Steps for exponential decay to halve the rate: $\ln 2 / (-\ln \gamma)$.

    Args:
        gamma: the per-step factor, in $(0, 1)$.

    Returns:
        The half-life in steps (a float).
    """
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be in (0, 1) for a finite half-life, got {gamma}")
    return np.log(2) / -np.log(gamma)
# --8<-- [end:half_life]
# --8<-- [end:impl]


# --8<-- [start:torch_lrs]
import torch  # noqa: E402


def torch_lrs(make_scheduler, steps, base_lr):
    r"""The learning rate each of `steps` optimizer steps uses, measured in PyTorch.

    Args:
        make_scheduler: builds a scheduler from an optimizer.
        steps: how many optimizer steps to run.
        base_lr: the optimizer's learning rate before the scheduler touches it.

    Returns:
        A float64 array: entry $t$ is the rate by which step $t$ moved the parameter.
    """
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    used = []
    for _ in range(steps):
        with torch.no_grad():
            param.zero_()
        param.grad = torch.ones_like(param)  # gradient 1: SGD moves param to 0 - lr
        optimizer.step()
        used.append(0.0 - param.item())  # the rate used (0.0 - x keeps 0 as +0.0)
        scheduler.step()  # after optimizer.step(), the order torch requires
    return np.array(used)
# --8<-- [end:torch_lrs]


if __name__ == "__main__":
    # --8<-- [start:example]
    lr, gamma = 0.1, 0.995
    print(f"half-life of gamma = {gamma}: {half_life(gamma):.1f} steps")
    for t in (0, 1, 2, 138, 139, 999):
        print(f"step {t:4d}: lr {exponential_decay(t, lr, gamma):.6g}")
    # --8<-- [end:example]

    # --8<-- [start:check]
    from torch.optim.lr_scheduler import ExponentialLR

    steps = np.arange(1000)
    errors = []
    for g in (0.995, 0.9, 1.0):
        ours = exponential_decay(steps, lr, g)
        ref = torch_lrs(lambda o, g=g: ExponentialLR(o, gamma=g),
                        len(steps), lr)
        errors.append(np.abs(ours - ref).max())
        relative = np.abs(ours - ref)[ref > 0] / ref[ref > 0]
        print(f"gamma = {g}: largest difference {errors[-1]:.1e}, "
              f"relative {relative.max():.1e}")
    print("checked against torch.optim.lr_scheduler.ExponentialLR")
    print(f"float64: max |ours - torch| value {max(errors):.1e}")
    # --8<-- [end:check]
