r"""Linear warm-up then cosine annealing of the learning rate, in closed form.

The learning rate climbs linearly to its peak over the first `warmup_steps` optimizer
steps, then follows half a cosine period down to `min_lr`, reached at `total_steps`, and
stays there. References: Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with
Warm Restarts", ICLR 2017 (cosine annealing); Goyal et al., "Accurate, Large Minibatch SGD:
Training ImageNet in 1 Hour", 2017 (gradual warm-up). Checked against
`torch.optim.lr_scheduler.SequentialLR` of `LinearLR` and `CosineAnnealingLR` driving a real
optimizer.
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


# --8<-- [start:check_cosine]
def check_cosine(base_lr, warmup_steps, total_steps, min_lr, start_factor):
    r"""Raise ValueError unless the parameters describe a warm-up plus cosine schedule.

    Args:
        base_lr: peak learning rate, finite and $\ge 0$.
        warmup_steps: an integer $\ge 0$.
        total_steps: an integer $\ge$ `warmup_steps`.
        min_lr: the floor, in $[0, \text{base\_lr}]$.
        start_factor: fraction of `base_lr` at step 0, in $[0, 1]$.
    """
    if not (np.isfinite(base_lr) and base_lr >= 0):
        raise ValueError(f"base_lr must be finite and >= 0, got {base_lr}")
    for name, n in (("warmup_steps", warmup_steps), ("total_steps", total_steps)):
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {n!r}")
    if total_steps < warmup_steps:
        raise ValueError(f"total_steps ({total_steps}) < warmup_steps ({warmup_steps})")
    if not 0 <= min_lr <= base_lr:
        raise ValueError(f"min_lr must be in [0, base_lr], got {min_lr}")
    if not 0 <= start_factor <= 1:
        raise ValueError(f"start_factor must be in [0, 1], got {start_factor}")
# --8<-- [end:check_cosine]


# --8<-- [start:warmup_cosine]
def warmup_cosine(step, base_lr, warmup_steps, total_steps, min_lr=0.0,
                  start_factor=0.0):
    r"""Learning rate of optimizer step `step` (0-based): linear warm-up, cosine decay.

    $$
    \eta_t = \begin{cases}
      \eta\,\big(s + (1 - s)\, t / W\big) & 0 \le t < W \\
      \eta_{\min} + \tfrac12 (\eta - \eta_{\min})
        \big(1 + \cos(\pi\, (t - W) / (T - W))\big) & W \le t < T \\
      \eta_{\min} & t \ge T
    \end{cases}
    $$

    Args:
        step: step index $t$, an integer or integer array, $\ge 0$.
        base_lr: peak learning rate $\eta \ge 0$, reached at step $W$.
        warmup_steps: $W \ge 0$; 0 means no warm-up.
        total_steps: $T \ge W$, the step at which the rate reaches $\eta_{\min}$.
        min_lr: the floor $\eta_{\min} \in [0, \eta]$ (torch's `eta_min`).
        start_factor: $s \in [0, 1]$, the fraction of $\eta$ used at step 0.

    Returns:
        Float64 learning rates with the shape of `step`.
    """
    t = as_steps(step)
    check_cosine(base_lr, warmup_steps, total_steps, min_lr, start_factor)
    W, T, s = warmup_steps, total_steps, start_factor
    warm = base_lr * (s + (1 - s) * t / max(W, 1))  # used where t < W
    left = np.maximum(T - t, 0) / max(T - W, 1)  # 1 - p: 1 at W, 0 from T on
    # (1 + cos(pi p)) / 2 as sin(pi (1 - p) / 2)**2: nothing cancels near the floor
    cosine = min_lr + (base_lr - min_lr) * np.sin(np.pi / 2 * left) ** 2
    return np.where(t < W, warm, cosine)[()]  # [()]: a scalar for a scalar step
# --8<-- [end:warmup_cosine]
# --8<-- [end:impl]


# --8<-- [start:torch_side]
# --8<-- [start:torch_warmup_cosine]
import torch  # noqa: E402
from torch.optim.lr_scheduler import (  # noqa: E402
    CosineAnnealingLR,
    LinearLR,
    SequentialLR,
)


def torch_warmup_cosine(optimizer, warmup_steps, total_steps, min_lr, start_factor):
    r"""The same schedule built from PyTorch's schedulers (for $0 < s$ and $T > W$).

    Args:
        optimizer: a `torch.optim` optimizer whose `lr` is the peak $\eta$.
        warmup_steps: $W$.
        total_steps: $T$.
        min_lr: $\eta_{\min}$.
        start_factor: $s \in (0, 1]$ (`LinearLR` refuses 0).

    Returns:
        A `SequentialLR` that switches from warm-up to cosine at step $W$.
    """
    warmup = LinearLR(optimizer, start_factor, 1.0, total_iters=warmup_steps)
    T_max = total_steps - warmup_steps  # the cosine's own step count starts at W
    cosine = CosineAnnealingLR(optimizer, T_max=T_max, eta_min=min_lr)
    return SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])
# --8<-- [end:torch_warmup_cosine]


# --8<-- [start:torch_lrs]
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
# --8<-- [end:torch_side]


if __name__ == "__main__":
    # --8<-- [start:example]
    W, T, lr, lr_min = 100, 1000, 0.1, 0.001
    for t in (0, 1, 99, 100, 101, 550, 999, 1000, 1500):
        print(f"step {t:4d}: lr {warmup_cosine(t, lr, W, T, min_lr=lr_min):.6g}")
    # --8<-- [end:example]

    # --8<-- [start:check]
    steps = np.arange(T + 1)  # 0 .. T: the whole schedule, its end included
    errors = []
    for s, floor in [(0.01, 0.0), (0.5, lr_min), (1.0, 0.0)]:
        ours = warmup_cosine(steps, lr, W, T, min_lr=floor, start_factor=s)
        ref = torch_lrs(lambda o, f=floor, s=s: torch_warmup_cosine(o, W, T, f, s),
                        len(steps), lr)
        errors.append(np.abs(ours - ref).max())
        print(f"s = {s}, min_lr = {floor}: largest difference {errors[-1]:.1e}")
    print("checked against "
          "torch.optim.lr_scheduler.SequentialLR(LinearLR, CosineAnnealingLR)")
    print(f"float64: max |ours - torch| value {max(errors):.1e}")
    # --8<-- [end:check]

    # --8<-- [start:after_end]
    late = np.array([T, T + (T - W) // 2, T + (T - W), T + 2 * (T - W)])
    ref = torch_lrs(lambda o: torch_warmup_cosine(o, W, T, lr_min, 0.01),
                    late[-1] + 1, lr)
    for t in late:  # torch against the cosine continued past T, in closed form
        ours = warmup_cosine(t, lr, W, T, min_lr=lr_min)
        cosine = lr_min + (lr - lr_min) * (1 + np.cos(np.pi * (t - W) / (T - W))) / 2
        print(f"step {t:4d}: ours {ours:<6.4g} torch {float(ref[t])!r:<20} "
              f"torch - cosine {ref[t] - cosine:.1e}")
    # --8<-- [end:after_end]
