"""The dense block, transition layer and DenseNet-121 of snippets/blocks/dense.py: channel
growth, gradient flow, parameter counts from first principles, and the published count."""

from __future__ import annotations

import pytest
import torch

from snippets.blocks.dense import DenseBlock, DenseLayer, DenseNet121, transition
from tests.blocks._checks import assert_gradient_reaches_everything, n_params


def expected_layer_parameters(c_in, k, bn_size=4):
    """BN(c_in), 1x1 conv c_in -> bn_size k, BN(bn_size k), 3x3 conv bn_size k -> k."""
    wide = bn_size * k
    return 2 * c_in + c_in * wide + 2 * wide + 9 * wide * k


@pytest.mark.parametrize(("c0", "layers", "k"), [(4, 1, 2), (16, 3, 8), (64, 6, 32), (5, 0, 3)])
def test_block_grows_by_k_per_layer(c0, layers, k):
    """The output has C_0 + L k channels, starts with the input unchanged, and layer i sees
    C_0 + i k channels; parameters as counted by hand."""
    block = DenseBlock(c0, layers, k)
    x = torch.randn(2, c0, 5, 6)
    out = block(x)
    assert out.shape == (2, c0 + layers * k, 5, 6)
    assert torch.equal(out[:, :c0], x)  # concatenation keeps the input itself
    assert [layer.layers[0].num_features for layer in block.layers] == \
        [c0 + i * k for i in range(layers)]
    assert n_params(block) == sum(expected_layer_parameters(c0 + i * k, k) for i in range(layers))


def test_layer_outputs_only_the_new_features():
    """A dense layer maps (N, C, H, W) to (N, k, H, W)."""
    assert DenseLayer(12, 4)(torch.randn(3, 12, 4, 4)).shape == (3, 4, 4, 4)


@pytest.mark.parametrize(("size", "half"), [(8, 4), (7, 3), (2, 1)])
def test_transition_halves_size_and_sets_channels(size, half):
    """BN, ReLU, 1x1 conv and 2x2 average pooling: (N, C, H, W) -> (N, C', floor(H/2), ...)."""
    t = transition(10, 5)
    assert t(torch.randn(2, 10, size, size)).shape == (2, 5, half, half)
    assert n_params(t) == 2 * 10 + 10 * 5


def test_gradient_reaches_every_parameter_and_the_input():
    """Every weight of a block and the input receive a finite, non-zero gradient."""
    block = DenseBlock(6, 3, 4).double()
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64)
    assert_gradient_reaches_everything(block, x)


def test_densenet121_published_count_and_logits():
    """DenseNet-121 has 7,978,856 parameters, 58 dense layers (121 = 58 x 2 convolutions + the
    stem, 3 transitions and the head) and maps (1, 3, 224, 224) to (1, 1000) logits."""
    with torch.device("meta"):
        model = DenseNet121()
        logits = model(torch.empty(1, 3, 224, 224))
    assert n_params(model) == 7_978_856
    assert logits.shape == (1, 1000)
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    assert convs + 1 == 121  # weighted layers: convolutions plus the linear head


def test_keras_densenet121_count_adds_the_moving_statistics():
    """Keras's DenseNet121 has the same 7,978,856 trainable parameters, but its count_params()
    adds batch norm's moving mean and variance (two per channel) and reports 8,062,504."""
    with torch.device("meta"):
        model = DenseNet121()
    stats = sum(2 * m.num_features for m in model.modules()
                if isinstance(m, torch.nn.BatchNorm2d))
    assert stats == 83_648
    assert n_params(model) + stats == 8_062_504


def test_densenet121_runs_on_real_numbers():
    """On a real input the network gives finite logits and gradients."""
    torch.manual_seed(0)
    model = DenseNet121(num_classes=3)
    logits = model(torch.randn(1, 3, 64, 64))
    assert logits.shape == (1, 3)
    logits.sum().backward()
    assert torch.isfinite(model.features[0].weight.grad).all()
    assert model.features[0].weight.grad.abs().sum() > 0
