"""The bottleneck block and ResNet-50 of snippets/blocks/bottleneck.py: shapes, gradient flow,
parameter counts from first principles, and the published count of ResNet-50."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from snippets.blocks.bottleneck import Bottleneck, ResNet50
from tests.blocks._checks import assert_gradient_reaches_everything, n_params

CASES = [  # (in_channels, width, stride)
    (32, 8, 1),  # identity shortcut: 32 = 4 x 8
    (16, 8, 1),  # projection: channels change
    (32, 8, 2),  # projection: size changes
    (8, 4, 2),  # both
    (3, 1, 3),  # tiny width, odd stride
]


def expected_parameters(c_in, width, stride):
    """1x1, 3x3 and 1x1 convolutions with a batch norm each, plus the projection if needed."""
    c_out = 4 * width
    n = c_in * width + 9 * width * width + width * c_out + 2 * (width + width + c_out)
    if stride != 1 or c_in != c_out:
        n += c_in * c_out + 2 * c_out
    return n


@pytest.mark.parametrize(("c_in", "width", "stride"), CASES)
def test_block_shape_shortcut_and_count(c_in, width, stride):
    """Output (N, 4 width, ceil(H/s), ceil(W/s)); identity shortcut exactly when the shape is
    kept; parameters as counted by hand."""
    block = Bottleneck(c_in, width, stride)
    out = block(torch.randn(2, c_in, 7, 8))
    assert out.shape == (2, 4 * width, -(-7 // stride), -(-8 // stride))
    assert isinstance(block.shortcut, nn.Identity) == (stride == 1 and c_in == 4 * width)
    assert n_params(block) == expected_parameters(c_in, width, stride)


@pytest.mark.parametrize(("c_in", "width", "stride"), CASES)
def test_gradient_reaches_every_parameter_and_the_input(c_in, width, stride):
    """Every weight and the input receive a finite, non-zero gradient."""
    block = Bottleneck(c_in, width, stride).double()
    x = torch.randn(2, c_in, 6, 6, dtype=torch.float64)
    assert_gradient_reaches_everything(block, x)


def test_identity_when_the_residual_branch_is_silenced():
    """With the last batch norm's scale at 0 the block passes a non-negative input through."""
    block = Bottleneck(16, 4).eval()
    nn.init.zeros_(block.bn3.weight)
    x = torch.rand(1, 16, 5, 5)
    assert torch.equal(block(x), x)


def test_fewer_weights_than_a_basic_block_of_the_same_width():
    """On 256 channels a bottleneck (width 64) has fewer convolution weights than two 3x3
    convolutions on 64 channels, and 17 times fewer than two on 256 channels."""
    convs = sum(m.weight.numel() for m in Bottleneck(256, 64).modules()
                if isinstance(m, nn.Conv2d))
    assert convs == 256 * 64 + 9 * 64 * 64 + 64 * 256 == 69_632
    assert convs < 2 * 9 * 64 * 64
    assert 2 * 9 * 256 * 256 / convs > 16.9


def test_resnet50_published_count_and_logits():
    """ResNet-50 has 25,557,032 parameters and maps (1, 3, 224, 224) to (1, 1000) logits, with
    16 bottleneck blocks in stages of 3, 4, 6 and 3."""
    with torch.device("meta"):
        model = ResNet50()
        logits = model(torch.empty(1, 3, 224, 224))
    assert n_params(model) == 25_557_032
    assert logits.shape == (1, 1000)
    assert sum(isinstance(m, Bottleneck) for m in model.modules()) == 16


def test_stride_is_in_the_3x3_convolution():
    """ResNet v1.5, as on the page: the stride sits in the 3x3 convolution (and the projection),
    never in the 1x1 reduction; moving it there would not change the parameter count."""
    block = Bottleneck(16, 8, stride=2)
    assert block.conv.stride == (2, 2)
    assert block.reduce.stride == (1, 1)
    assert block.expand.stride == (1, 1)
    assert block.shortcut[0].stride == (2, 2)
    v1 = Bottleneck(16, 8, stride=2)
    v1.reduce.stride, v1.conv.stride = (2, 2), (1, 1)  # the original placement
    x = torch.randn(2, 16, 7, 7)
    assert v1(x).shape == block(x).shape == (2, 32, 4, 4)
    assert n_params(v1) == n_params(block)


def test_keras_resnet50_counts_follow_from_ours():
    """Keras's ResNet50 (biases on every convolution, moving statistics counted) reports
    25,636,712 with 25,583,592 trainable: ours plus one bias per convolution output channel,
    plus two moving statistics per batch-norm channel."""
    with torch.device("meta"):
        model = ResNet50()
    biases = sum(m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d))
    stats = sum(2 * m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert (biases, stats) == (26_560, 53_120)
    assert n_params(model) + biases == 25_583_592
    assert n_params(model) + biases + stats == 25_636_712


def test_resnet50_runs_on_real_numbers():
    """On a real input the network gives finite logits and gradients."""
    torch.manual_seed(0)
    model = ResNet50(num_classes=5)
    logits = model(torch.randn(2, 3, 64, 64))
    assert logits.shape == (2, 5)
    logits.sum().backward()
    assert torch.isfinite(model.stem[0].weight.grad).all()
    assert model.stem[0].weight.grad.abs().sum() > 0
