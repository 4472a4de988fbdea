"""The library tables: each row is what the library computes, and each difference the page
states is what the libraries do (checked against this site's schedules and against the
update rules written out in NumPy)."""

import inspect

import numpy as np
import pytest
import torch

from snippets.schedules import library_differences as ld
from snippets.schedules.exponential_decay import exponential_decay
from snippets.schedules.step_decay import step_decay
from snippets.schedules.warmup_cosine import warmup_cosine
from snippets.schedules.warmup_linear import warmup_linear
from tests.helpers import TOLERANCE

F64 = TOLERANCE[np.dtype(np.float64)]
# The optimizer rows have entries down to 1e-9 (the 1e-7 gradient times the rate), where
# F64's absolute 1e-12 would allow a 0.1% error: compare them relatively.
REL64 = {"rtol": 1e-12, "atol": 0}
# Keras evaluates its schedules in float32: 1e-6 relative is a few float32 ulps; 1e-8
# absolute (1e-7 of the peak rate 0.1) covers rates that are themselves rounded near 0.
F32_SCHEDULE = {"rtol": 1e-6, "atol": 1e-8}
S = ld.STEPS
W, T, LR = ld.W, ld.T, ld.LR


@pytest.fixture(scope="module")
def tables():
    """Every schedule table's rows, computed once: {name: ({label: rates}, columns)}."""
    return {"linear": (ld.linear_rows(), ld.WARMUP_COLUMNS),
            "cosine": (ld.cosine_rows(), ld.WARMUP_COLUMNS),
            "step": (ld.step_rows(), ld.STEP_COLUMNS),
            "exponential": (ld.exponential_rows(), ld.EXP_COLUMNS)}


@pytest.fixture(scope="module")
def linear(tables):
    return list(tables["linear"][0].values())


@pytest.fixture(scope="module")
def cosine(tables):
    return list(tables["cosine"][0].values())


@pytest.fixture(scope="module")
def step(tables):
    return list(tables["step"][0].values())


@pytest.fixture(scope="module")
def exponential(tables):
    return list(tables["exponential"][0].values())


def test_transformers_linear_equals_ours_at_every_step(linear):
    """get_linear_schedule_with_warmup = warmup_linear with s = 0, e = 0, steps 0 .. 150."""
    np.testing.assert_allclose(linear[2], warmup_linear(S, LR, W, T), **F64)


def test_torch_linear_row_equals_ours_with_its_start_factor(linear):
    """The SequentialLR row is warmup_linear with s = 0.01; milestone 11 shifts the decay by
    one step, so the peak is used twice and the decay ends at T + 1."""
    np.testing.assert_allclose(linear[0], warmup_linear(S, LR, W, T, 0.01), **F64)
    late = linear[1]
    assert late[W] == pytest.approx(LR, rel=1e-14)
    assert late[W + 1] == pytest.approx(LR, rel=1e-14)
    np.testing.assert_allclose(late[W + 1 :], warmup_linear(S[W:-1], LR, W, T, 0.01), **F64)


def test_keras_polynomial_decay_is_linear_decay_without_warm_up(linear):
    """PolynomialDecay(power=1) = warmup_linear with W = 0, to float32 precision."""
    np.testing.assert_allclose(linear[3], warmup_linear(S, LR, 0, T), **F32_SCHEDULE)


def test_transformers_cosine_equals_ours_up_to_t_then_climbs(cosine):
    """get_cosine_schedule_with_warmup = warmup_cosine (s = 0) on 0 .. T; past T it rises
    again exactly as torch's CosineAnnealingLR does, while ours holds the floor."""
    hf, torch_row = cosine[2], cosine[0]
    np.testing.assert_allclose(hf[: T + 1], warmup_cosine(S[: T + 1], LR, W, T), **F64)
    np.testing.assert_allclose(hf[W:], torch_row[W:], **F64)
    assert hf[150] > 0.05
    assert warmup_cosine(150, LR, W, T) == 0.0
    num_cycles = inspect.signature(ld.get_cosine_schedule_with_warmup).parameters["num_cycles"]
    assert num_cycles.default == 0.5


def test_cosine_rows_end_at_zero_except_the_long_t_max(cosine):
    """Rows 1, 3 and 4 are exactly 0 at step T and positive at T - 1; row 2 is not 0 at T."""
    for row in (cosine[0], cosine[2], cosine[3]):
        assert row[T] == 0.0
        assert row[T - 1] > 0.0
    assert cosine[1][T] > 0.0


def test_transformers_schedules_are_lambdalr():
    """The linear and cosine functions of transformers return a PyTorch LambdaLR."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    for make in (ld.get_linear_schedule_with_warmup, ld.get_cosine_schedule_with_warmup):
        assert isinstance(make(optimizer, W, T), torch.optim.lr_scheduler.LambdaLR)


def test_floor_conventions():
    """Keras's alpha is a fraction of the decay's starting rate; transformers' min_lr is a
    rate and min_lr_rate a fraction; both then equal warmup_cosine with that floor."""
    ours = warmup_cosine(S[: T + 1], LR, W, T, min_lr=0.05 * LR)
    keras_row = ld.keras_lrs(ld.keras.optimizers.schedules.CosineDecay(
        0.0, T - W, alpha=0.05, warmup_target=LR, warmup_steps=W), S[: T + 1])
    np.testing.assert_allclose(keras_row, ours, **F32_SCHEDULE)
    for kwargs in ({"min_lr": 0.05 * LR}, {"min_lr_rate": 0.05}):
        hf = ld.torch_lrs(lambda o, kw=kwargs: ld.transformers.
                          get_cosine_with_min_lr_schedule_with_warmup(o, W, T, **kw), T + 1)
        np.testing.assert_allclose(hf, ours, **F64)


def test_torch_cosine_rows(cosine):
    """Row 1 is warmup_cosine with s = 0.01 on 0 .. T; with T_max = T (not T - W) the rate
    is still above zero at step T and reaches it only at T + W."""
    np.testing.assert_allclose(cosine[0][: T + 1],
                               warmup_cosine(S[: T + 1], LR, W, T, start_factor=0.01), **F64)
    long = cosine[1]
    assert long[T] > 1e-3
    np.testing.assert_allclose(long[: T + W + 1],
                               warmup_cosine(S[: T + W + 1], LR, W, T + W, start_factor=0.01),
                               **F64)


def test_keras_cosine_decay_holds_the_floor_and_rounds_in_float32(cosine):
    """CosineDecay with warm-up = warmup_cosine to float32 precision, stays at 0 past T,
    and loses relative precision at the end of the decay, where 1 + cos cancels."""
    keras_row = cosine[3]
    ours = warmup_cosine(S, LR, W, T)
    np.testing.assert_allclose(keras_row, ours, **F32_SCHEDULE)
    assert np.all(keras_row[T:] == 0.0)
    error = abs(keras_row[T - 1] / ours[T - 1] - 1)  # far more than float32 rounding:
    assert 1e-5 < error < 1e-4  # the page says the fifth significant digit differs


def test_step_decay_rows(step):
    """On steps 0 .. T, StepLR, MultiStepLR and Keras's staircase ExponentialDecay equal
    step_decay; Keras's PiecewiseConstantDecay counts each boundary step in the earlier
    piece, so every drop comes one step late."""
    n = T + 1
    ours = step_decay(S[:n], LR, ld.S, ld.GAMMA)
    np.testing.assert_allclose(step[0][:n], ours, **F64)
    np.testing.assert_allclose(step[1][:n], ours, **F64)
    np.testing.assert_allclose(step[2][:n], ours, **F32_SCHEDULE)
    one_late = step_decay(np.maximum(S[:n] - 1, 0), LR, ld.S, ld.GAMMA)
    np.testing.assert_allclose(step[3][:n], one_late, **F32_SCHEDULE)
    assert step[3][ld.S] == pytest.approx(LR)
    assert step[0][ld.S] == pytest.approx(LR / 2)


def test_exponential_rows(exponential):
    """ExponentialLR and ExponentialDecay(decay_steps=1) equal exponential_decay; with
    decay_steps=10 the rate is multiplied by 0.95 per ten steps, smoothly."""
    ours = exponential_decay(S, LR, 0.95)
    np.testing.assert_allclose(exponential[0], ours, rtol=1e-12, atol=0)
    np.testing.assert_allclose(exponential[1], ours, **F32_SCHEDULE)
    np.testing.assert_allclose(exponential[2], LR * 0.95 ** (S / 10), **F32_SCHEDULE)


def test_keras_first_update_uses_the_schedule_at_step_0():
    """Keras's optimizer applies schedule(0), schedule(1), ... to its updates, like torch."""
    schedule = ld.keras.optimizers.schedules.ExponentialDecay(1.0, 1, 0.5)
    np.testing.assert_array_equal(ld.keras_step_zero(schedule, 4), [1.0, 0.5, 0.25, 0.125])


def test_transformers_has_no_step_or_exponential_decay_function():
    """The page says transformers offers neither: no such get_* name exists."""
    names = [n for n in dir(ld.transformers.optimization) if n.startswith("get_")]
    assert "get_linear_schedule_with_warmup" in names
    assert not [n for n in names if "exponential" in n or "step" in n]


def test_schedule_tables_have_every_row_and_column(tables):
    """Each rendered table has a header, a rule and one row per library call, each with
    one cell per chosen step plus the gap column."""
    for rows, columns in tables.values():
        lines = ld.schedule_table(rows, columns).splitlines()
        assert len(lines) == 2 + len(rows)
        for line, label in zip(lines[2:], rows, strict=True):
            assert line.startswith(f"| {label} |")
            assert line.count("|") == len(columns) + 3


# --- optimizers: the update rules, written out, reproduce each library ---------------------

G = ld.GRADS


def torch_rule(kind, lrs, eps=1e-8, rho=0.99, beta1=0.9, beta2=0.999, mu=0.9, acc0=0.0,
               nesterov=False):
    """PyTorch's update rules (as documented in torch.optim), in NumPy."""
    x, v, m = np.zeros(3), np.zeros(3), np.zeros(3)
    acc = np.full(3, acc0)
    for t, (lr, g) in enumerate(zip(lrs, G, strict=True), start=1):
        if kind == "momentum":
            v = mu * v + g
            x = x - lr * (g + mu * v if nesterov else v)
        elif kind == "adagrad":
            acc = acc + g * g
            x = x - lr * g / (np.sqrt(acc) + eps)  # eps outside the root
        elif kind == "rmsprop":
            v = rho * v + (1 - rho) * g * g
            x = x - lr * g / (np.sqrt(v) + eps)
        elif kind == "adam":
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
            x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
    return x


def keras_rule(kind, lrs, eps=1e-7, rho=0.9, beta1=0.9, beta2=0.999, mu=0.9, acc0=0.1,
               nesterov=False):
    """Keras 3's update rules, in NumPy, with the differences the page names."""
    x, v, m = np.zeros(3), np.zeros(3), np.zeros(3)
    acc = np.full(3, acc0)  # Keras starts the Adagrad accumulator at 0.1 by default
    for t, (lr, g) in enumerate(zip(lrs, G, strict=True), start=1):
        if kind == "momentum":
            m = mu * m - lr * g  # the rate is inside the velocity
            x = x + (mu * m - lr * g if nesterov else m)
        elif kind == "adagrad":
            acc = acc + g * g
            x = x - lr * g / np.sqrt(acc + eps)  # eps inside the root
        elif kind == "rmsprop":
            v = rho * v + (1 - rho) * g * g
            x = x - lr * g / np.sqrt(v + eps)  # eps inside the root
        elif kind == "adam":
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            alpha = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
            x = x - alpha * m / (np.sqrt(v) + eps)  # eps added to the uncorrected root
    return x


ETA3 = [ld.ETA] * 3
HALVED = [ld.ETA, ld.ETA / 2, ld.ETA / 2]


@pytest.fixture(scope="module")
def opt_rows():
    return ld.optimizer_rows()


@pytest.mark.parametrize(("label", "kind", "kwargs"), [
    ("SGD, momentum 0.9", "momentum", {}),
    ("SGD, Nesterov momentum 0.9", "momentum", {"nesterov": True}),
    ("Adagrad, eps 1e-10, accumulator from 0", "adagrad", {"eps": 1e-10, "acc0": 0.0}),
    ("RMSprop, decay 0.99, eps 1e-8", "rmsprop", {"eps": 1e-8, "rho": 0.99}),
    ("Adam, betas 0.9 and 0.999, eps 1e-8", "adam", {"eps": 1e-8}),
])
def test_equal_hyper_parameters_rules_reproduce_both_libraries(opt_rows, label, kind, kwargs):
    """With equal hyper-parameters, torch's rule gives torch's row and Keras's rule Keras's
    row (Keras's learning rate 2**-6 is exact in its float32 storage)."""
    t, k = opt_rows[label]
    np.testing.assert_allclose(t, torch_rule(kind, ETA3, **kwargs), **REL64)
    np.testing.assert_allclose(k, keras_rule(kind, ETA3, **kwargs), **REL64)


def test_momentum_forms_agree_until_the_rate_changes(opt_rows):
    """Both momentum forms give identical steps at a constant rate; after a change of rate
    Keras's velocity still carries the old rate, so the two part (the halved row)."""
    t, k = opt_rows["SGD, momentum 0.9"]
    np.testing.assert_allclose(k, t, **REL64)
    t, k = opt_rows["SGD, momentum 0.9, rate halved after step 0"]
    np.testing.assert_allclose(t, torch_rule("momentum", HALVED), **REL64)
    np.testing.assert_allclose(k, keras_rule("momentum", HALVED), **REL64)
    assert np.all(np.abs(k) > 1.2 * np.abs(t))


def test_eps_placement_is_what_separates_adaptive_optimizers(opt_rows):
    """Equal hyper-parameters: Adagrad, RMSprop and Adam agree on the gradient of size 1
    and differ most on the gradient of size 1e-7, where eps is comparable to the root."""
    for label in ("Adagrad, eps 1e-10, accumulator from 0", "RMSprop, decay 0.99, eps 1e-8",
                  "Adam, betas 0.9 and 0.999, eps 1e-8"):
        t, k = opt_rows[label]
        ratio = k / t
        assert ratio[0] == pytest.approx(1, rel=1e-6)
        assert ratio[2] < 0.5


@pytest.mark.parametrize(("name", "kind", "torch_kw", "keras_kw"), [
    ("SGD", "momentum", {"mu": 0.0}, {"mu": 0.0}),
    ("Adagrad", "adagrad", {"eps": 1e-10, "acc0": 0.0}, {}),
    ("RMSprop", "rmsprop", {}, {}),
    ("Adam", "adam", {}, {}),
])
def test_defaults_rows_are_the_rules_with_each_librarys_defaults(opt_rows, name, kind,
                                                                 torch_kw, keras_kw):
    """The defaults rows equal the rules run with each library's own defaults (Keras's
    float32 learning rate makes its row exact only to about 1e-7 relative)."""
    t, k = opt_rows[f"{name}, each library's defaults"]
    lr_t = {"SGD": 1e-3, "Adagrad": 1e-2, "RMSprop": 1e-2, "Adam": 1e-3}[name]
    lr_k = float(np.float32({"SGD": 1e-2, "Adagrad": 1e-3, "RMSprop": 1e-3,
                             "Adam": 1e-3}[name]))
    np.testing.assert_allclose(t, torch_rule(kind, [lr_t] * 3, **torch_kw), **REL64)
    np.testing.assert_allclose(k, keras_rule(kind, [lr_k] * 3, **keras_kw), **REL64)


def test_defaults_table_matches_the_libraries():
    """Each default in the table is what a freshly built optimizer of that library holds
    (Keras keeps its learning rate in a float32 variable)."""
    param = [torch.zeros(1, requires_grad=True)]
    for name, t_name, t_value, k_name, k_value in ld.default_rows():
        torch_cls, keras_cls = ld.DEFAULTS[name]
        held = torch_cls(param).defaults[t_name]
        if t_name == "betas":
            held = held[0] if k_name == "beta_1" else held[1]
        assert held == t_value
        keras_opt = keras_cls()
        if k_name == "learning_rate":
            assert keras_opt.learning_rate.value.item() == float(np.float32(k_value))
        else:
            assert getattr(keras_opt, k_name) == k_value
    rows = ld.default_rows()
    assert ("Adagrad", "initial_accumulator_value", 0, "initial_accumulator_value",
            pytest.approx(0.1)) in rows


def test_torch_defaults_are_read_from_signatures():
    """The table's torch column comes from the constructors' signatures."""
    assert inspect.signature(torch.optim.RMSprop).parameters["alpha"].default == 0.99
    assert ("RMSprop", "alpha", 0.99, "rho", 0.9) in ld.default_rows()


def test_optimizer_table_has_every_row(opt_rows):
    """One Markdown row per case, four cells each."""
    lines = ld.optimizer_table(opt_rows).splitlines()
    assert len(lines) == 2 + len(opt_rows)
    assert all(line.count("|") == 5 for line in lines)


# --- claims added in review ----------------------------------------------------------------

def test_every_gap_is_float32_rounding_or_a_real_difference(tables, floors):
    """Each table's gap column is either under 2e-8 (float32 rounding of rates up to 0.1)
    or at least 1e-3, as the page says."""
    for rows in [r for r, _ in tables.values()] + [floors]:
        first = next(iter(rows.values()))
        for lrs in rows.values():
            gap = np.abs(lrs[: T + 1] - first[: T + 1]).max()
            assert gap < 2e-8 or gap >= 1e-3


def test_torch_linear_lr_refuses_a_start_factor_of_zero():
    """The page says LinearLR cannot start at 0 (hence its rows start at 1% of the peak)."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR)
    with pytest.raises(ValueError, match="greater than 0"):
        torch.optim.lr_scheduler.LinearLR(optimizer, 0.0, 1.0, total_iters=W)


def test_only_keras_cosine_decay_has_a_warm_up():
    """Of Keras's schedules, only CosineDecay takes warmup_steps."""
    ks = ld.keras.optimizers.schedules
    with_warmup = [n for n in dir(ks) if inspect.isclass(getattr(ks, n))
                   and "warmup_steps" in inspect.signature(getattr(ks, n)).parameters]
    assert with_warmup == ["CosineDecay"]


@pytest.fixture(scope="module")
def floors():
    return ld.floor_rows()


def test_floor_rows(floors):
    """All four ways of asking give warmup_cosine with a floor of 5% of the peak on 0 .. T
    (torch with its 1% start); past T Keras holds the floor, torch and transformers climb."""
    torch_row, hf_rate, hf_fraction, keras_row = floors.values()
    n, floor = T + 1, ld.FLOOR * LR
    np.testing.assert_allclose(torch_row[:n], warmup_cosine(S[:n], LR, W, T, floor, 0.01),
                               **REL64)
    for row in (hf_rate, hf_fraction):
        np.testing.assert_allclose(row[:n], warmup_cosine(S[:n], LR, W, T, floor), **REL64)
    np.testing.assert_allclose(keras_row, warmup_cosine(S, LR, W, T, floor), **F32_SCHEDULE)
    assert np.all(keras_row[T:] == pytest.approx(floor, rel=1e-6))
    for row in (torch_row, hf_rate, hf_fraction):
        assert row[150] > 10 * floor


def test_keras_alpha_without_warm_up_is_a_fraction_of_the_initial_rate():
    """CosineDecay(0.1, 100, alpha=0.05) ends at 0.005 and holds it."""
    schedule = ld.keras.optimizers.schedules.CosineDecay(LR, T, alpha=0.05)
    np.testing.assert_allclose(ld.keras_lrs(schedule, [T, T + 50]), 0.05 * LR, rtol=1e-6)


def test_torch_adam_with_growing_eps_is_keras_adam(opt_rows):
    """torch.optim.Adam with eps set to eps / sqrt(1 - beta2^k) before update k gives
    Keras's Adam row; with eps fixed it does not."""
    t, k = opt_rows["Adam, betas 0.9 and 0.999, eps 1e-8"]
    np.testing.assert_allclose(ld.torch_adam_with_keras_eps(), k, **REL64)
    assert np.abs(t / k - 1).max() > 1


def test_keras_extra_move_after_the_cut_is_the_old_momentum(opt_rows):
    """Rate halved after step 0: Keras minus torch is exactly -(eta/2)(mu + mu^2) g_0, which
    has the sign of torch's whole move in every entry, so Keras moves further."""
    t, k = opt_rows["SGD, momentum 0.9, rate halved after step 0"]
    extra = -(ld.ETA / 2) * (0.9 + 0.81) * G[0]
    np.testing.assert_allclose(k - t, extra, **REL64)
    assert np.all(np.sign(extra) == np.sign(t))
    assert np.all(np.abs(k) > np.abs(t))
