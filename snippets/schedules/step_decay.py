r"""Step decay of the learning rate: multiply it by `gamma` every `step_size` steps.

References: Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NeurIPS 2012 (learning rate divided by 10 when the
validation error stopped improving); He et al., "Deep Residual Learning for Image
Recognition", CVPR 2016 (divided by 10 at fixed points). Checked against
`torch.optim.lr_scheduler.StepLR` driving a real optimizer.
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


# --8<-- [start:step_decay]
def step_decay(step, base_lr, step_size, gamma=0.1):
    r"""Learning rate of optimizer step `step` (0-based) under step decay.

    $$\eta_t = \eta\, \gamma^{\lfloor t / S \rfloor}$$

    Args:
        step: step index $t$, an integer or integer array, $\ge 0$.
        base_lr: initial learning rate $\eta$, finite and $\ge 0$.
        step_size: $S$, a positive integer: the rate changes at $t = S, 2S, \dots$
        gamma: the factor $\gamma \in (0, 1]$ applied at each of those steps.

    Returns:
        Float64 learning rates with the shape of `step`.
    """
    t = as_steps(step)
    if not (np.isfinite(base_lr) and base_lr >= 0):
        raise ValueError(f"base_lr must be finite and >= 0, got {base_lr}")
    if not isinstance(step_size, int | np.integer) or isinstance(step_size, bool) \
            or step_size < 1:
        raise ValueError(f"step_size must be an integer >= 1, got {step_size!r}")
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1] for a decay, got {gamma}")
    periods = t // step_size  # whole periods completed
    return (base_lr * np.float64(gamma) ** periods)[()]  # [()]: scalar for scalar step
# --8<-- [end:step_decay]
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
    lr, S = 0.1, 300
    for t in (0, 1, 299, 300, 301, 599, 600, 999):
        print(f"step {t:4d}: lr {step_decay(t, lr, S, gamma=0.1):.6g}")
    # --8<-- [end:example]

    # --8<-- [start:check]
    from torch.optim.lr_scheduler import StepLR

    steps = np.arange(1000)
    errors = []
    for size, gamma in [(300, 0.1), (100, 0.5), (1, 0.99), (50, 1.0)]:
        ours = step_decay(steps, lr, size, gamma)
        ref = torch_lrs(lambda o, n=size, g=gamma: StepLR(o, step_size=n, gamma=g),
                        len(steps), lr)
        errors.append(np.abs(ours - ref).max())
        print(f"step_size = {size}, gamma = {gamma}: largest difference {errors[-1]:.1e}")
    print("checked against torch.optim.lr_scheduler.StepLR")
    print(f"float64: max |ours - torch| value {max(errors):.1e}")
    # --8<-- [end:check]
