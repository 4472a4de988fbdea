"""The basic residual block and ResNet-18 of snippets/blocks/residual.py: shapes, gradient flow,
parameter counts from first principles, and the published count of ResNet-18."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.blocks.residual import BasicBlock, ResNet18, count_parameters
from tests.blocks._checks import assert_gradient_reaches_everything

CASES = [  # (in_channels, out_channels, stride)
    (8, 8, 1),  # identity shortcut
    (8, 16, 2),  # projection: more channels, half the size
    (8, 16, 1),  # projection: more channels only
    (16, 16, 2),  # projection: half the size only
    (3, 5, 3),  # an odd stride
]


def expected_parameters(c_in, c_out, stride):
    """Two 3x3 convolutions and two batch norms, plus a 1x1 convolution and a batch norm when
    the shortcut must project."""
    n = 9 * c_in * c_out + 9 * c_out * c_out + 2 * (2 * c_out)
    if stride != 1 or c_in != c_out:
        n += c_in * c_out + 2 * c_out
    return n


@pytest.mark.parametrize(("c_in", "c_out", "stride"), CASES)
def test_block_shape_shortcut_and_count(c_in, c_out, stride):
    """Output (N, C_out, ceil(H/s), ceil(W/s)); identity shortcut exactly when the shape is kept;
    parameters as counted by hand."""
    block = BasicBlock(c_in, c_out, stride)
    out = block(torch.randn(2, c_in, 9, 10))
    assert out.shape == (2, c_out, -(-9 // stride), -(-10 // stride))
    assert isinstance(block.shortcut, nn.Identity) == (stride == 1 and c_in == c_out)
    assert count_parameters(block) == expected_parameters(c_in, c_out, stride)


@pytest.mark.parametrize(("c_in", "c_out", "stride"), CASES)
def test_gradient_reaches_every_parameter_and_the_input(c_in, c_out, stride):
    """Every weight and the input receive a finite, non-zero gradient."""
    block = BasicBlock(c_in, c_out, stride).double()
    x = torch.randn(2, c_in, 8, 8, dtype=torch.float64)
    assert_gradient_reaches_everything(block, x)


def test_identity_when_the_residual_branch_is_silenced():
    """With the last batch norm's scale and shift at 0, the block is ReLU(x): for x >= 0 it
    passes its input through exactly (the identity mapping a plain layer would have to learn)."""
    block = BasicBlock(4, 4).eval()
    nn.init.zeros_(block.bn2.weight)
    x = torch.rand(2, 4, 6, 6)
    assert torch.equal(block(x), x)


def test_small_weights_do_not_silence_the_residual_branch():
    """In training mode batch norm undoes any rescaling of the convolution before it (up to its
    eps, here 1e-30 since torch refuses 0), so shrinking both convolutions 100-fold leaves the
    block's output unchanged; only the last batch norm's scale can switch the branch off."""
    torch.manual_seed(0)
    block = BasicBlock(4, 4).double()
    block.bn1.eps = block.bn2.eps = 1e-30
    x = torch.rand(3, 4, 6, 6, dtype=torch.float64)
    before = block(x)
    with torch.no_grad():
        block.conv1.weight.mul_(0.01)
        block.conv2.weight.mul_(0.01)
    torch.testing.assert_close(block(x), before, rtol=1e-10, atol=1e-10)
    assert not torch.allclose(before, torch.relu(x))  # the branch was not silent


@settings(max_examples=40)
@given(c_in=st.integers(1, 5), c_out=st.integers(1, 5), stride=st.integers(1, 3),
       h=st.integers(1, 9), w=st.integers(1, 9))
def test_any_size_stride_and_channel_count(c_in, c_out, stride, h, w):
    """For tiny channel counts, strides 1 to 3 and any height and width (down to 1x1), in eval
    mode and float64: the residual branch and the shortcut agree in shape, the count follows the
    formula, and the output is finite and non-negative (ReLU after the sum)."""
    block = BasicBlock(c_in, c_out, stride).double().eval()
    out = block(torch.randn(1, c_in, h, w, dtype=torch.float64))
    assert out.shape == (1, c_out, -(-h // stride), -(-w // stride))
    assert out.dtype == torch.float64
    assert torch.isfinite(out).all()
    assert (out >= 0).all()
    assert count_parameters(block) == expected_parameters(c_in, c_out, stride)


def test_resnet18_projections_are_option_b():
    """ResNet-18 has exactly three projection shortcuts (option B), one at the first block of
    stages 2 to 4, holding 173,824 parameters: 64 x 128 + 128 x 256 + 256 x 512 weights and
    2 x (128 + 256 + 512) batch-norm parameters; without them (option A) 11,515,688 remain."""
    with torch.device("meta"):
        model = ResNet18()
    projections = [b.shortcut for b in model.stages if not isinstance(b.shortcut, nn.Identity)]
    assert len(projections) == 3
    n = sum(count_parameters(p) for p in projections)
    assert n == 64 * 128 + 128 * 256 + 256 * 512 + 2 * (128 + 256 + 512) == 173_824
    assert count_parameters(model) - n == 11_515_688  # option A: parameter-free shortcuts


def test_resnet18_published_count_and_logits():
    """ResNet-18 has 11,689,512 parameters and maps (1, 3, 224, 224) to (1, 1000) logits."""
    with torch.device("meta"):
        model = ResNet18()
        logits = model(torch.empty(1, 3, 224, 224))
    assert count_parameters(model) == 11_689_512
    assert logits.shape == (1, 1000)


def test_resnet18_runs_on_real_numbers():
    """On real inputs of another size and with 10 classes the network gives finite logits and
    gradients (global pooling makes the input size free)."""
    torch.manual_seed(0)
    model = ResNet18(num_classes=10)
    logits = model(torch.randn(2, 3, 64, 48))
    assert logits.shape == (2, 10)
    logits.sum().backward()
    assert torch.isfinite(model.stem[0].weight.grad).all()
    assert model.stem[0].weight.grad.abs().sum() > 0
