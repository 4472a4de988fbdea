r"""How PyTorch, Keras 3 and Hugging Face transformers differ for schedules and optimizers
of the same name, every number computed by running the libraries.

Schedules: the learning rate each library gives at the steps where conventions differ (step
0, the end of the warm-up, the end of the schedule and past it). Optimizers: the same
gradients through `torch.optim` and `keras.optimizers` (Keras on its PyTorch backend), with
equal hyper-parameters and with each library's defaults, the defaults read from the
libraries themselves. References: the PyTorch `torch.optim` documentation, the Keras
optimizer and learning-rate schedule documentation, and the transformers optimization
documentation.
"""

# --8<-- [start:setup]
import inspect
import os

os.environ["KERAS_BACKEND"] = "torch"  # must be set before Keras is first imported

import keras
import numpy as np
import torch
import transformers
from torch.optim import lr_scheduler as sched
from transformers import (
    get_cosine_schedule_with_warmup,
    get_cosine_with_min_lr_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

W, T, LR = 10, 100, 0.1  # warm-up steps, total steps, peak learning rate
STEPS = np.arange(151)  # 0 .. 150: the schedule and 50 steps past its end
# --8<-- [end:setup]


# --8<-- [start:torch_lrs]
def torch_lrs(make_scheduler, steps=STEPS.size, base_lr=LR):
    r"""The learning rate each optimizer step uses, read from a real PyTorch optimizer.

    Args:
        make_scheduler: builds a scheduler (torch's or transformers') from an optimizer.
        steps: how many optimizer steps to run.
        base_lr: the optimizer's learning rate before the scheduler touches it.

    Returns:
        A float64 array: entry $t$ is the `lr` optimizer step $t$ ran with.
    """
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(optimizer)
    used = []
    for _ in range(steps):
        used.append(optimizer.param_groups[0]["lr"])  # what this step will use
        param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()  # after optimizer.step(), the order torch requires
    return np.array(used)
# --8<-- [end:torch_lrs]


# --8<-- [start:keras_lrs]
def keras_lrs(schedule, steps=STEPS):
    r"""A Keras schedule's learning rate at each step (Keras calls it with the optimizer's
    iteration count, which is 0 for the first update: see `keras_step_zero`).

    Args:
        schedule: a `keras.optimizers.schedules.LearningRateSchedule`.
        steps: the step indices.

    Returns:
        A float64 array of the (float32) values.
    """
    return np.array([float(schedule(int(t))) for t in steps])
# --8<-- [end:keras_lrs]


# --8<-- [start:keras_step_zero]
def keras_step_zero(schedule, updates=3):
    r"""The learning rate Keras's SGD really applies at each of its first updates.

    The variable is reset to 0 and given the gradient 1 before each update, so the update
    moves it to minus the learning rate that update used.

    Args:
        schedule: a Keras learning-rate schedule.
        updates: how many updates to run.

    Returns:
        A float64 array: entry $t$ is the rate update $t$ used.
    """
    var = keras.Variable(np.zeros(1), dtype="float32")
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    used = []
    for _ in range(updates):
        var.assign(np.zeros(1, dtype="float32"))
        optimizer.apply_gradients([(keras.ops.ones((1,)), var)])
        used.append(-var.value.item())  # the torch backend holds a torch tensor
    return np.array(used)
# --8<-- [end:keras_step_zero]


# --8<-- [start:schedule_table]
def schedule_table(rows, columns):
    r"""A Markdown table: one row per library call, one column per chosen step.

    Args:
        rows: a dict from a row label to the learning rates at every step of `STEPS`.
        columns: a dict from a step to its column heading.

    Returns:
        The table as Markdown text. The last column is the largest gap, over steps
        0 to $T$, between the row and the first row.
    """
    first = next(iter(rows.values()))
    lines = ["| library and call | " + " | ".join(columns.values())
             + " | gap to row 1 |",
             "| --- |" + " ---: |" * (len(columns) + 1)]
    for label, lrs in rows.items():
        cells = [f"{lrs[t]:.6g}" for t in columns]
        gap = np.abs(lrs[: T + 1] - first[: T + 1]).max()
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {gap:.1e} |")
    return "\n".join(lines)


WARMUP_COLUMNS = {0: "0", 1: "1", W - 1: f"{W - 1} (last warm-up)",
                  W: f"{W} (first decay)", T - 1: f"{T - 1} (last)",
                  T: f"{T} (one past)", 150: "150"}
# --8<-- [end:schedule_table]


# --8<-- [start:linear_rows]
def linear_rows():
    r"""Linear warm-up then linear decay, as each library spells it."""
    def late_milestone(o):  # the milestone one step after the warm-up's end
        return sched.SequentialLR(o, [sched.LinearLR(o, 0.01, 1.0, total_iters=W),
                                      sched.LinearLR(o, 1.0, 0.0, total_iters=T - W)],
                                  milestones=[W + 1])

    return {
        "PyTorch `LinearLR` then `LinearLR`, milestone 10": torch_lrs(
            lambda o: sched.SequentialLR(
                o, [sched.LinearLR(o, 0.01, 1.0, total_iters=W),
                    sched.LinearLR(o, 1.0, 0.0, total_iters=T - W)], milestones=[W])),
        "PyTorch, the same with milestone 11": torch_lrs(late_milestone),
        "transformers `get_linear_schedule_with_warmup`": torch_lrs(
            lambda o: get_linear_schedule_with_warmup(o, W, T)),
        "Keras `PolynomialDecay`, `power=1`": keras_lrs(
            keras.optimizers.schedules.PolynomialDecay(LR, T, 0.0, power=1.0)),
    }
# --8<-- [end:linear_rows]


# --8<-- [start:cosine_rows]
def cosine_rows():
    r"""Linear warm-up then cosine decay, as each library spells it."""
    def torch_cosine(t_max):
        return lambda o: sched.SequentialLR(
            o, [sched.LinearLR(o, 0.01, 1.0, total_iters=W),
                sched.CosineAnnealingLR(o, T_max=t_max)], milestones=[W])

    return {
        "PyTorch `LinearLR` then `CosineAnnealingLR`, `T_max=90`":
            torch_lrs(torch_cosine(T - W)),
        "PyTorch, the same with `T_max=100`": torch_lrs(torch_cosine(T)),
        "transformers `get_cosine_schedule_with_warmup`": torch_lrs(
            lambda o: get_cosine_schedule_with_warmup(o, W, T)),
        "Keras `CosineDecay` with warm-up": keras_lrs(
            keras.optimizers.schedules.CosineDecay(
                0.0, T - W, warmup_target=LR, warmup_steps=W)),
    }
# --8<-- [end:cosine_rows]


# --8<-- [start:floor_rows]
FLOOR = 0.05  # the cosine ends at 5% of the peak


def floor_rows():
    r"""Warm-up and cosine decay to a floor of `FLOOR` times the peak, as each library
    asks for it: as a rate or as a fraction of the peak."""
    return {
        "PyTorch `CosineAnnealingLR`, `eta_min=0.005` (a rate)": torch_lrs(
            lambda o: sched.SequentialLR(
                o, [sched.LinearLR(o, 0.01, 1.0, total_iters=W),
                    sched.CosineAnnealingLR(o, T_max=T - W, eta_min=FLOOR * LR)],
                milestones=[W])),
        "transformers `get_cosine_with_min_lr_schedule_with_warmup`, `min_lr=0.005`":
            torch_lrs(lambda o: get_cosine_with_min_lr_schedule_with_warmup(
                o, W, T, min_lr=FLOOR * LR)),
        "the same with `min_lr_rate=0.05` (a fraction)": torch_lrs(
            lambda o: get_cosine_with_min_lr_schedule_with_warmup(
                o, W, T, min_lr_rate=FLOOR)),
        "Keras `CosineDecay`, `alpha=0.05` (a fraction)": keras_lrs(
            keras.optimizers.schedules.CosineDecay(
                0.0, T - W, alpha=FLOOR, warmup_target=LR, warmup_steps=W)),
    }
# --8<-- [end:floor_rows]


# --8<-- [start:step_rows]
S, GAMMA = 30, 0.5  # step decay: halve the rate every 30 steps
STEP_COLUMNS = {0: "0", 1: "1", S - 1: f"{S - 1}", S: f"{S}", S + 1: f"{S + 1}",
                T - 1: f"{T - 1}", T: f"{T}"}


def step_rows():
    r"""Step decay, as each library spells it (transformers has none)."""
    ks = keras.optimizers.schedules
    return {
        "PyTorch `StepLR`": torch_lrs(
            lambda o: sched.StepLR(o, step_size=S, gamma=GAMMA)),
        "PyTorch `MultiStepLR`, milestones 30, 60, 90": torch_lrs(
            lambda o: sched.MultiStepLR(o, milestones=[S, 2 * S, 3 * S], gamma=GAMMA)),
        "Keras `ExponentialDecay`, `staircase=True`": keras_lrs(
            ks.ExponentialDecay(LR, S, GAMMA, staircase=True)),
        "Keras `PiecewiseConstantDecay`, boundaries 30, 60, 90": keras_lrs(
            ks.PiecewiseConstantDecay(
                [S, 2 * S, 3 * S], [LR * GAMMA**k for k in range(4)])),
    }
# --8<-- [end:step_rows]


# --8<-- [start:exponential_rows]
EXP_COLUMNS = {0: "0", 1: "1", 2: "2", 10: "10", T - 1: f"{T - 1}", T: f"{T}"}


def exponential_rows():
    r"""Exponential decay, as each library spells it (transformers has none)."""
    ks = keras.optimizers.schedules
    return {
        "PyTorch `ExponentialLR`": torch_lrs(
            lambda o: sched.ExponentialLR(o, gamma=0.95)),
        "Keras `ExponentialDecay`, `decay_steps=1`": keras_lrs(
            ks.ExponentialDecay(LR, 1, 0.95)),
        "Keras `ExponentialDecay`, `decay_steps=10`": keras_lrs(
            ks.ExponentialDecay(LR, 10, 0.95)),
    }
# --8<-- [end:exponential_rows]


# --8<-- [start:optimizer_runs]
GRADS = np.array([[1.0, 1e-3, 1e-7],  # one row per step; columns: gradient scales
                  [-0.5, 2e-3, -1e-7],  # of about 1, 1e-3 and 1e-7
                  [0.8, -1e-3, 2e-7]])


def torch_run(cls, lrs, **hyper):
    r"""The parameter change after feeding `GRADS` to a torch optimizer, rate `lrs[k]`
    at step k."""
    param = torch.zeros(GRADS.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = cls([param], lr=lrs[0], **hyper)
    for lr, g in zip(lrs, GRADS, strict=True):
        optimizer.param_groups[0]["lr"] = lr
        param.grad = torch.tensor(g)
        optimizer.step()
    return param.detach().numpy().copy()


def keras_run(cls, lrs, **hyper):
    r"""The same with a Keras optimizer on a float64 variable."""
    var = keras.Variable(np.zeros(GRADS.shape[1]), dtype="float64")
    optimizer = cls(learning_rate=lrs[0], **hyper)
    for lr, g in zip(lrs, GRADS, strict=True):
        optimizer.learning_rate = lr
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, "float64"), var)])
    return var.value.detach().numpy().copy()  # the torch backend holds a torch tensor
# --8<-- [end:optimizer_runs]


# --8<-- [start:optimizer_cases]
KO, TO = keras.optimizers, torch.optim
ETA = 2.0**-6  # exact in float32, the dtype Keras keeps its learning rate in
SAME = {  # label: (torch class, its hyper-parameters, Keras class, its ones)
    "SGD, momentum 0.9": (TO.SGD, {"momentum": 0.9}, KO.SGD, {"momentum": 0.9}),
    "SGD, Nesterov momentum 0.9": (TO.SGD, {"momentum": 0.9, "nesterov": True},
                                   KO.SGD, {"momentum": 0.9, "nesterov": True}),
    "Adagrad, eps 1e-10, accumulator from 0": (
        TO.Adagrad, {"eps": 1e-10}, KO.Adagrad,
        {"epsilon": 1e-10, "initial_accumulator_value": 0.0}),
    "RMSprop, decay 0.99, eps 1e-8": (TO.RMSprop, {"alpha": 0.99, "eps": 1e-8},
                                      KO.RMSprop, {"rho": 0.99, "epsilon": 1e-8}),
    "Adam, betas 0.9 and 0.999, eps 1e-8": (TO.Adam, {"eps": 1e-8},
                                            KO.Adam, {"epsilon": 1e-8}),
}
DEFAULTS = {  # every hyper-parameter left at the library's default
    "SGD": (TO.SGD, KO.SGD), "Adagrad": (TO.Adagrad, KO.Adagrad),
    "RMSprop": (TO.RMSprop, KO.RMSprop), "Adam": (TO.Adam, KO.Adam),
}
# --8<-- [end:optimizer_cases]


# --8<-- [start:optimizer_table]
def vector(v):
    return "[" + ", ".join(f"{x:.4g}" for x in v) + "]"


def optimizer_rows():
    r"""Parameter change after three steps of `GRADS`, torch vs Keras.

    Returns:
        A dict from a row label to `(torch_change, keras_change)`.
    """
    rows = {}
    for label, (tc, th, kc, kh) in SAME.items():
        rows[label] = (torch_run(tc, [ETA] * 3, **th), keras_run(kc, [ETA] * 3, **kh))
    halved = [ETA, ETA / 2, ETA / 2]
    rows["SGD, momentum 0.9, rate halved after step 0"] = (
        torch_run(TO.SGD, halved, momentum=0.9),
        keras_run(KO.SGD, halved, momentum=0.9))
    for name, (tc, kc) in DEFAULTS.items():
        lr_t = inspect.signature(tc).parameters["lr"].default
        lr_k = inspect.signature(kc).parameters["learning_rate"].default
        rows[f"{name}, each library's defaults"] = (torch_run(tc, [lr_t] * 3),
                                                    keras_run(kc, [lr_k] * 3))
    return rows


def optimizer_table(rows):
    r"""The rows of `optimizer_rows` as a Markdown table, with the ratio Keras / torch."""
    lines = ["| optimizer and hyper-parameters | torch: change | Keras: change | "
             "Keras / torch |", "| --- | --- | --- | --- |"]
    for label, (t, k) in rows.items():
        lines.append(f"| {label} | {vector(t)} | {vector(k)} | {vector(k / t)} |")
    return "\n".join(lines)
# --8<-- [end:optimizer_table]


# --8<-- [start:adam_eps]
def torch_adam_with_keras_eps(eps=1e-8, beta2=0.999):
    r"""`torch.optim.Adam` fed `GRADS` at rate `ETA`, its eps set before update k
    (1, 2, 3) to $\epsilon / \sqrt{1 - \beta_2^k}$: Keras's Adam, if the page is right."""
    param = torch.zeros(GRADS.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=ETA, betas=(0.9, beta2), eps=eps)
    for k, g in enumerate(GRADS, start=1):
        optimizer.param_groups[0]["eps"] = eps / np.sqrt(1 - beta2**k)  # effective eps
        param.grad = torch.tensor(g)
        optimizer.step()
    return param.detach().numpy().copy()
# --8<-- [end:adam_eps]


# --8<-- [start:defaults_table]
NAMES = {  # optimizer: [(torch argument, Keras argument)]; betas are (beta_1, beta_2)
    "SGD": [("lr", "learning_rate"), ("momentum", "momentum"),
            ("nesterov", "nesterov")],
    "Adagrad": [("lr", "learning_rate"), ("eps", "epsilon"),
                ("initial_accumulator_value", "initial_accumulator_value")],
    "RMSprop": [("lr", "learning_rate"), ("alpha", "rho"), ("eps", "epsilon"),
                ("momentum", "momentum"), ("centered", "centered")],
    "Adam": [("lr", "learning_rate"), ("betas", "beta_1"), ("betas", "beta_2"),
             ("eps", "epsilon"), ("amsgrad", "amsgrad")],
}


def default_rows():
    r"""Each optimizer's default hyper-parameters, read from the constructors' signatures.

    Returns:
        A list of `(optimizer, torch name, torch default, Keras name, Keras default)`.
    """
    rows = []
    for name, pairs in NAMES.items():
        tc, kc = DEFAULTS[name]
        torch_defaults = inspect.signature(tc).parameters
        keras_defaults = inspect.signature(kc).parameters
        for t_name, k_name in pairs:
            value = torch_defaults[t_name].default
            if t_name == "betas":  # one torch tuple, two Keras numbers
                value = value[0] if k_name == "beta_1" else value[1]
            rows.append((name, t_name, value, k_name, keras_defaults[k_name].default))
    return rows


def defaults_table(rows):
    r"""The rows of `default_rows` as a Markdown table."""
    def show(v):
        return str(v) if isinstance(v, bool) else f"{v:.6g}"

    lines = ["| optimizer | torch argument | torch default | Keras argument | "
             "Keras default |", "| --- | --- | ---: | --- | ---: |"]
    for name, t_name, t_value, k_name, k_value in rows:
        lines.append(f"| {name} | `{t_name}` | {show(t_value)} | `{k_name}` | "
                     f"{show(k_value)} |")
    return "\n".join(lines)
# --8<-- [end:defaults_table]


if __name__ == "__main__":
    # --8<-- [start:versions]
    print(f"PyTorch {torch.__version__}, Keras {keras.__version__} "
          f"(backend {keras.backend.backend()}), transformers {transformers.__version__}.")
    hf = [n for n in dir(transformers.optimization) if n.startswith("get_")]
    print(f"transformers' schedule functions: {', '.join(f'`{n}`' for n in hf)}.")
    # --8<-- [end:versions]

    # --8<-- [start:show_linear]
    print(schedule_table(linear_rows(), WARMUP_COLUMNS))
    # --8<-- [end:show_linear]

    # --8<-- [start:show_cosine]
    print(schedule_table(cosine_rows(), WARMUP_COLUMNS))
    # --8<-- [end:show_cosine]

    # --8<-- [start:show_floor]
    print(schedule_table(floor_rows(), WARMUP_COLUMNS))
    # --8<-- [end:show_floor]

    # --8<-- [start:show_step]
    print(schedule_table(step_rows(), STEP_COLUMNS))
    # --8<-- [end:show_step]

    # --8<-- [start:show_exponential]
    print(schedule_table(exponential_rows(), EXP_COLUMNS))
    # --8<-- [end:show_exponential]

    # --8<-- [start:show_step_zero]
    schedule = keras.optimizers.schedules.ExponentialDecay(1.0, 1, 0.5)  # 1, 0.5, 0.25
    used = keras_step_zero(schedule)
    print(f"Keras SGD's first three updates used the rates {used.tolist()}; "
          f"the schedule at steps 0, 1, 2 is {keras_lrs(schedule, range(3)).tolist()}.")
    # --8<-- [end:show_step_zero]

    # --8<-- [start:show_optimizers]
    opt_rows = optimizer_rows()
    print(optimizer_table(opt_rows))
    # --8<-- [end:show_optimizers]

    # --8<-- [start:show_adam_eps]
    torch_change, keras_change = opt_rows["Adam, betas 0.9 and 0.999, eps 1e-8"]
    plain = np.abs(torch_change / keras_change - 1).max()
    print(f"torch Adam with eps 1e-8 throughout: max |torch / Keras - 1| {plain:.1e}")
    grown = np.abs(torch_adam_with_keras_eps() / keras_change - 1).max()
    print("torch Adam with eps 1e-8 / sqrt(1 - 0.999^k) at update k,")
    print("checked against keras.optimizers.Adam with epsilon 1e-8 (three updates)")
    print(f"float64: max |ours - reference| relative value {grown:.1e}")
    # --8<-- [end:show_adam_eps]

    # --8<-- [start:show_defaults]
    print(defaults_table(default_rows()))
    # --8<-- [end:show_defaults]
