"""Run one of our optimizers and its torch.optim counterpart side by side, step by step.

The scenario covers what torch's optimizers handle per parameter: two parameter groups with
different learning rates (torch's `param_groups`; for us, two calls of the step function), a
vector, a matrix, a 0-d and an empty parameter, a parameter whose gradient is always zero, one
whose gradient is zero on three steps in four, one that never has a gradient (`grad is None`:
torch skips it, so it must not move and, for every optimizer but Adagrad, gets no state), and
two whose gradients are tiny (1e-9, near every optimizer's eps, where its placement decides the
step) and huge (1e4). Gradients are seeded random normals, the same arrays for both sides.

torch runs with `foreach=False` unless a test asks otherwise: on CPU that is already its default
(the multi-tensor "foreach" path is the default only on accelerators), and naming it keeps the
test on the same single-tensor code whatever the machine. `foreach=True` is checked separately.
"""

from __future__ import annotations

import numpy as np
import torch

from tests.helpers import TOLERANCE

GROUP_A = {"vector": (3,), "matrix": (2, 3), "scalar": (), "empty": (0,), "zero": (4,),
           "none": (2,), "tiny": (3,)}
GROUP_B = {"sometimes": (3,), "huge": (2,)}
GRAD_SCALE = {"tiny": 1e-9, "huge": 1e4}


def _gradient(name, shape, t, rng, dtype):
    if name == "none":
        return None
    g = (rng.normal(size=shape) * GRAD_SCALE.get(name, 1.0)).astype(dtype)
    if name == "zero" or (name == "sometimes" and t % 4 != 0):
        return np.zeros(shape, dtype)
    return g


def _assert_close(ours, ref, dtype, what, scale):
    """Within the dtype's tolerance; the absolute part is scaled by `scale`, the size of the
    quantities this value is computed from (the largest |value| this tensor has had so far): a
    moving average of gradients of size 1e-9 needs an absolute tolerance near 1e-9 times the
    dtype's, and one that nearly cancels to 1e-4 still carries the rounding of its terms."""
    ref = np.asarray(ref, dtype=np.float64)
    ours = np.asarray(ours, dtype=np.float64)
    tol = TOLERANCE[np.dtype(dtype)]
    rtol, atol = tol["rtol"], tol["atol"] * scale
    error = np.abs(ours - ref)
    if ours.shape != ref.shape or not np.all(error <= atol + rtol * np.abs(ref)):
        np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, err_msg=what)  # the report
    return float(error.max(initial=0.0)) / scale if scale > 0 else 0.0


def compare(step, init_state, torch_cls, dtype, *, options=None, init_options=None,
            lrs=(0.05, 0.01), steps=20, seed=0, foreach=False):
    """Step ours and torch's optimizer `steps` times and assert they agree after every step.

    `options` go to our step function and to torch's constructor; `init_options` to our
    `init_state` and to torch's constructor. Returns the largest |ours - torch| seen, divided
    by the size of the tensor it was measured on (its largest |value| so far), as
    `(params, state)`.
    """
    options, init_options = options or {}, init_options or {}
    rng = np.random.default_rng(seed)
    names = {**GROUP_A, **GROUP_B}
    params = {n: rng.normal(size=s).astype(dtype) for n, s in names.items()}
    tparams = {n: torch.tensor(p.copy(), requires_grad=True) for n, p in params.items()}
    groups = [list(GROUP_A), list(GROUP_B)]
    param_groups = [{"params": [tparams[n] for n in g], "lr": lr}
                    for g, lr in zip(groups, lrs, strict=True)]
    opt = torch_cls(param_groups, **{**options, **init_options}, foreach=foreach)
    state = {}
    for g in groups:
        for n, s in zip(g, init_state([params[n] for n in g], **init_options), strict=True):
            state[n] = s
    initial = {n: (params[n].copy(), dict(state[n])) for n in ("none",)}
    err_p = err_s = 0.0
    sizes = {}  # (parameter, "param" or state key) -> largest |value| torch has had so far
    for t in range(steps):
        grads = {n: _gradient(n, s, t, rng, dtype) for n, s in names.items()}
        for n, g in grads.items():
            tparams[n].grad = None if g is None else torch.tensor(g)
        opt.step()
        for g, lr in zip(groups, lrs, strict=True):
            new_p, new_s = step([params[n] for n in g], [grads[n] for n in g],
                                [state[n] for n in g], lr=lr, **options)
            params.update(zip(g, new_p, strict=True))
            state.update(zip(g, new_s, strict=True))
        for n in names:
            for key, value in [("param", tparams[n].detach()), *opt.state[tparams[n]].items()]:
                size = float(value.abs().max()) if value.numel() else 0.0
                sizes[n, key] = max(sizes.get((n, key), 0.0), size)
        for n in names:
            ours, ref = params[n], tparams[n].detach().numpy()
            assert np.asarray(ours).dtype == dtype, n
            assert np.shape(ours) == ref.shape, n
            err_p = max(err_p, _assert_close(ours, ref, dtype, f"step {t + 1}: param {n}",
                                             sizes[n, "param"]))
            tstate = opt.state[tparams[n]]
            if n == "none" and torch_cls is not torch.optim.Adagrad:
                assert len(tstate) == 0, "torch gives a parameter without gradient no state"
                continue
            made = {k for k, v in state[n].items() if v is not None}  # None: not made yet
            assert set(tstate) == made, (n, set(tstate), made)
            for key, value in tstate.items():
                what = f"step {t + 1}: state {key!r} of {n}"
                err_s = max(err_s, _assert_close(state[n][key], value.numpy(), dtype, what,
                                                 sizes[n, key]))
    p0, s0 = initial["none"]
    assert np.array_equal(params["none"], p0)
    assert np.array_equal(tparams["none"].detach(), p0)
    assert state["none"].keys() == s0.keys()
    assert all(np.array_equal(state["none"][k], s0[k]) for k in s0 if s0[k] is not None)
    return err_p, err_s
