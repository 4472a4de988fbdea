r"""Linear warm-up then linear decay of the learning rate, in closed form.

The learning rate climbs linearly from a fraction of its peak to the peak over the first
`warmup_steps` optimizer steps, then falls linearly to a fraction of the peak at
`total_steps`, and stays there. References: Goyal et al., "Accurate, Large Minibatch SGD:
Training ImageNet in 1 Hour", 2017 (gradual warm-up); Devlin et al., "BERT", 2019 (linear
warm-up then linear decay). Checked against `torch.optim.lr_scheduler.SequentialLR` of two
`LinearLR` schedulers driving a real optimizer.
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


# --8<-- [start:check_schedule]
def check_schedule(base_lr, warmup_steps, total_steps, **factors):
    r"""Raise ValueError unless the schedule's parameters make sense.

    Args:
        base_lr: the peak learning rate, finite and $\ge 0$.
        warmup_steps: an integer $\ge 0$.
        total_steps: an integer $\ge$ `warmup_steps`.
        **factors: named fractions of `base_lr`, each in $[0, 1]$.
    """
    if not (np.isfinite(base_lr) and base_lr >= 0):
        raise ValueError(f"base_lr must be finite and >= 0, got {base_lr}")
    for name, n in (("warmup_steps", warmup_steps), ("total_steps", total_steps)):
        if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {n!r}")
    if total_steps < warmup_steps:
        raise ValueError(f"total_steps ({total_steps}) < warmup_steps ({warmup_steps})")
    for name, f in factors.items():
        if not 0 <= f <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {f}")
# --8<-- [end:check_schedule]


# --8<-- [start:warmup_linear]
def warmup_linear(step, base_lr, warmup_steps, total_steps, start_factor=0.0,
                  end_factor=0.0):
    r"""Learning rate of optimizer step `step` (0-based) under linear warm-up and decay.

    $$
    \eta_t = \eta \cdot \begin{cases}
      s + (1 - s)\, t / W & 0 \le t < W \\
      1 + (e - 1)\,(t - W) / (T - W) & W \le t < T \\
      e & t \ge T
    \end{cases}
    $$

    Args:
        step: step index $t$, an integer or integer array, $\ge 0$.
        base_lr: peak learning rate $\eta \ge 0$, reached at step $W$.
        warmup_steps: $W \ge 0$; 0 means no warm-up.
        total_steps: $T \ge W$, the step at which the decay reaches $e\,\eta$.
        start_factor: $s \in [0, 1]$, the fraction of $\eta$ used at step 0.
        end_factor: $e \in [0, 1]$, the fraction of $\eta$ from step $T$ on.

    Returns:
        Float64 learning rates with the shape of `step`.
    """
    t = as_steps(step)
    check_schedule(base_lr, warmup_steps, total_steps, start_factor=start_factor,
                   end_factor=end_factor)
    W, T, s, e = warmup_steps, total_steps, start_factor, end_factor
    warm = s + (1 - s) * t / max(W, 1)  # used where t < W (max: no 0/0 when W = 0)
    decay = e + (1 - e) * (T - t) / max(T - W, 1)  # used where W <= t < T
    factor = np.where(t < W, warm, np.where(t < T, decay, e))
    return (base_lr * factor)[()]  # [()]: a scalar for a scalar step
# --8<-- [end:warmup_linear]
# --8<-- [end:impl]


# --8<-- [start:torch_side]
# --8<-- [start:torch_warmup_linear]
import torch  # noqa: E402
from torch.optim.lr_scheduler import LinearLR, SequentialLR  # noqa: E402


def torch_warmup_linear(optimizer, warmup_steps, total_steps, start_factor, end_factor):
    r"""The same schedule built from PyTorch's schedulers.

    Needs $0 < s$ (`LinearLR` refuses a start factor of 0) and $T > W$.

    Args:
        optimizer: a `torch.optim` optimizer whose `lr` is the peak $\eta$.
        warmup_steps: $W$.
        total_steps: $T$.
        start_factor: $s \in (0, 1]$.
        end_factor: $e \in [0, 1]$.

    Returns:
        A `SequentialLR` that switches from warm-up to decay at step $W$.
    """
    warmup = LinearLR(optimizer, start_factor, 1.0, total_iters=warmup_steps)
    decay = LinearLR(optimizer, 1.0, end_factor, total_iters=total_steps - warmup_steps)
    return SequentialLR(optimizer, [warmup, decay], milestones=[warmup_steps])
# --8<-- [end:torch_warmup_linear]


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
    W, T, lr = 100, 1000, 0.1
    for t in (0, 1, 99, 100, 101, 999, 1000, 1500):
        print(f"step {t:4d}: lr {warmup_linear(t, lr, W, T):.6g}")
    # --8<-- [end:example]

    # --8<-- [start:check]
    steps = np.arange(T + 200)  # 1200 steps: past the end too
    errors = []
    for s, e in [(0.01, 0.0), (0.5, 0.1), (1.0, 0.0)]:
        ours = warmup_linear(steps, lr, W, T, start_factor=s, end_factor=e)
        ref = torch_lrs(lambda o, s=s, e=e: torch_warmup_linear(o, W, T, s, e),
                        len(steps), lr)
        errors.append(np.abs(ours - ref).max())
        print(f"s = {s}, e = {e}: largest difference {errors[-1]:.1e}")
    print("checked against torch.optim.lr_scheduler.SequentialLR(LinearLR, LinearLR)")
    print(f"float64: max |ours - torch| value {max(errors):.1e}")
    # --8<-- [end:check]

    # --8<-- [start:zero_start]
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    try:
        LinearLR(opt, start_factor=0.0, total_iters=W)
    except ValueError as error:
        print("LinearLR(start_factor=0):", error)
    # --8<-- [end:zero_start]

    # --8<-- [start:milestone]
    def mispaired(o):  # warm-up reaches the peak at W, but the switch comes at W + 1
        warmup = LinearLR(o, 0.01, 1.0, total_iters=W)
        decay = LinearLR(o, 1.0, 0.0, total_iters=T - W)
        return SequentialLR(o, [warmup, decay], milestones=[W + 1])

    good = torch_lrs(lambda o: torch_warmup_linear(o, W, T, 0.01, 0.0), T + 2, lr)
    bad = torch_lrs(mispaired, T + 2, lr)
    for t in (W - 1, W, W + 1, T - 1, T, T + 1):
        print(f"step {t:4d}: milestone W {good[t]:<10.6g}   milestone W+1 {bad[t]:<10.6g}")
    # --8<-- [end:milestone]
