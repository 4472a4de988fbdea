"""The inverted residual block and MobileNetV2 of snippets/blocks/inverted_residual.py: shapes,
when the shortcut is used, gradient flow, parameter counts and the published count."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.blocks.inverted_residual import InvertedResidual, MobileNetV2
from tests.blocks._checks import assert_gradient_reaches_everything, n_params

CASES = [  # (in, out, stride, expand_ratio)
    (8, 8, 1, 6),  # shortcut
    (8, 12, 1, 6),  # channels change: no shortcut
    (8, 8, 2, 6),  # size changes: no shortcut
    (8, 8, 1, 1),  # no expansion layer, shortcut
    (4, 6, 2, 3),
    (1, 1, 3, 6),  # one channel, odd stride
    (4, 4, 1, 2.5),  # fractional expansion: round(10.0) = 10 hidden channels
]


def expected_parameters(c_in, c_out, stride, t):
    """Expansion 1x1 conv + BN (if t != 1), depthwise 3x3 + BN, projection 1x1 + BN."""
    hidden = round(c_in * t)
    n = 0 if t == 1 else c_in * hidden + 2 * hidden
    return n + 9 * hidden + 2 * hidden + hidden * c_out + 2 * c_out


@pytest.mark.parametrize(("c_in", "c_out", "stride", "t"), CASES)
def test_block_shape_shortcut_and_count(c_in, c_out, stride, t):
    """Output (N, C_out, ceil(H/s), ceil(W/s)); shortcut exactly when stride is 1 and channels
    match; parameters as counted by hand (a depthwise filter has 9 weights)."""
    block = InvertedResidual(c_in, c_out, stride, t)
    out = block(torch.randn(2, c_in, 7, 6))
    assert out.shape == (2, c_out, -(-7 // stride), -(-6 // stride))
    assert block.use_shortcut == (stride == 1 and c_in == c_out)
    assert n_params(block) == expected_parameters(c_in, c_out, stride, t)


def test_bottleneck_is_linear():
    """The projection ends with batch norm, no ReLU6: negative outputs survive."""
    torch.manual_seed(0)
    block = InvertedResidual(4, 6, 2, 6).eval()
    assert not isinstance(block.layers[-1][-1], nn.ReLU6)
    assert (block(torch.randn(2, 4, 8, 8)) < 0).any()


def test_identity_when_the_residual_branch_is_silenced():
    """With the projection's batch norm at scale 0 and shift 0 the block returns x exactly, for
    any sign (no nonlinearity after the sum)."""
    block = InvertedResidual(6, 6, 1, 6).eval()
    nn.init.zeros_(block.layers[-1][1].weight)
    x = torch.randn(2, 6, 5, 5)
    assert torch.equal(block(x), x)


@pytest.mark.parametrize(("c_in", "c_out", "stride", "t"), CASES)
def test_gradient_reaches_every_parameter_and_the_input(c_in, c_out, stride, t):
    """Every weight and the input receive a finite, non-zero gradient."""
    torch.manual_seed(1)
    block = InvertedResidual(c_in, c_out, stride, t).double()
    x = torch.randn(4, c_in, 6, 6, dtype=torch.float64)
    assert_gradient_reaches_everything(block, x)


@pytest.mark.parametrize("t", [0, 0.1, -1])
def test_expansion_that_leaves_no_channels_is_refused(t):
    """An expansion ratio giving fewer than one hidden channel raises a ValueError."""
    with pytest.raises(ValueError, match="expand_ratio"):
        InvertedResidual(4, 4, 1, t)


@settings(max_examples=40)
@given(c_in=st.integers(1, 5), c_out=st.integers(1, 5), stride=st.integers(1, 3),
       t=st.sampled_from([1, 2, 6]), h=st.integers(1, 9), w=st.integers(1, 9))
def test_any_size_stride_and_channel_count(c_in, c_out, stride, t, h, w):
    """For tiny channel counts, strides 1 to 3 and any height and width (down to 1x1), in eval
    mode and float64: shape, shortcut rule and count as stated, and a finite output."""
    block = InvertedResidual(c_in, c_out, stride, t).double().eval()
    out = block(torch.randn(1, c_in, h, w, dtype=torch.float64))
    assert out.shape == (1, c_out, -(-h // stride), -(-w // stride))
    assert out.dtype == torch.float64
    assert torch.isfinite(out).all()
    assert block.use_shortcut == (stride == 1 and c_in == c_out)
    assert n_params(block) == expected_parameters(c_in, c_out, stride, t)


def test_mobilenet_v2_batch_norm_and_keras_counts():
    """Batch norm holds 34,112 of the 3,504,872 parameters, so even without it the count is
    3,470,760, above the paper's 3.4M (Table 4); Keras's count_params() adds the 34,112
    moving statistics and reports 3,538,984."""
    with torch.device("meta"):
        model = MobileNetV2()
    bn = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert sum(n_params(m) for m in bn) == 34_112
    assert n_params(model) - 34_112 == 3_470_760
    assert n_params(model) + sum(2 * m.num_features for m in bn) == 3_538_984


def test_mobilenet_v2_published_count_and_logits():
    """MobileNetV2 has 3,504,872 parameters, 17 inverted residual blocks of which 10 use the
    shortcut (counted from the paper's Table 2), and maps (1, 3, 224, 224) to (1, 1000)."""
    with torch.device("meta"):
        model = MobileNetV2()
        logits = model(torch.empty(1, 3, 224, 224))
    assert n_params(model) == 3_504_872
    assert logits.shape == (1, 1000)
    blocks = [m for m in model.modules() if isinstance(m, InvertedResidual)]
    assert len(blocks) == 17
    assert sum(b.use_shortcut for b in blocks) == 10


def test_mobilenet_v2_runs_on_real_numbers():
    """On a real input the network gives finite logits and gradients; eval mode drops dropout."""
    torch.manual_seed(0)
    model = MobileNetV2(num_classes=4)
    x = torch.randn(2, 3, 64, 64)
    logits = model(x)
    assert logits.shape == (2, 4)
    logits.sum().backward()
    assert torch.isfinite(model.features[0][0].weight.grad).all()
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
