"""The family demo: each method's axes give torch's batch, layer, instance, group and RMS norm."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snippets.normalization.index import AXES, group_normalize, normalize_over
from tests.helpers import DTYPES, assert_matches, dtype_id

SHAPES = [(4, 6, 3, 3), (2, 4, 1, 5), (3, 2, 2, 2)]


def cases(x):
    """(ours, torch's) for each method, without affine parameters."""
    xt = torch.tensor(x)
    return [
        (normalize_over(x, AXES["batch"]), F.batch_norm(xt, None, None, training=True)),
        (normalize_over(x, AXES["layer"]), F.layer_norm(xt, xt.shape[1:])),
        (normalize_over(x, AXES["instance"]), F.instance_norm(xt)),
        (group_normalize(x, 2), F.group_norm(xt, 2)),
        (group_normalize(x, 1), F.group_norm(xt, 1)),
        (normalize_over(x, AXES["layer"], center=False), F.rms_norm(xt, xt.shape[1:], eps=1e-5)),
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_methods_match_torch(shape, dtype):
    """Each method's axes reproduce the torch function, in both precisions."""
    x = (np.random.default_rng(0).normal(size=shape) * 2 + 1).astype(dtype)
    for ours, ref in cases(x):
        assert_matches(ours, ref)


def test_large_mean_float64():
    """A mean of 1e8 with spread 1 still normalizes like torch (centring before squaring)."""
    x = np.random.default_rng(1).normal(size=(4, 2, 3, 3)) + 1e8
    for ours, ref in cases(x)[:5]:  # rms_norm does not centre: nothing to compare there
        assert_matches(ours, ref, atol=1e-7)  # |x| * eps64 / std ~ 1e8 * 2e-16 / 1 = 2e-8


def test_group_extremes_are_layer_and_instance_norm():
    """One group is layer normalization; C groups is instance normalization."""
    x = np.random.default_rng(2).normal(size=(3, 4, 2, 5))
    np.testing.assert_allclose(group_normalize(x, 1), normalize_over(x, AXES["layer"]),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(group_normalize(x, 4), normalize_over(x, AXES["instance"]),
                               rtol=1e-12, atol=1e-12)


def test_batch_statistics_couple_examples():
    """Only batch normalization's output for example 0 changes when example 1 changes."""
    x = np.random.default_rng(3).normal(size=(3, 4, 2, 2))
    x2 = x.copy()
    x2[1] *= 10
    for name, axes in AXES.items():
        changed = not np.allclose(normalize_over(x, axes)[0], normalize_over(x2, axes)[0])
        assert changed == (name == "batch"), name
