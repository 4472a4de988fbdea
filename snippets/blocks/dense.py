r"""The dense block, the transition layer between dense blocks, and DenseNet-121 built from them.

Reference: Huang, Liu, van der Maaten and Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017. Checked against the published parameter count of DenseNet-121 (7,978,856
with a 1000-class head, the figure torchvision's documentation lists for its `densenet121`).
"""

# --8<-- [start:impl]
# --8<-- [start:layer]
import torch
import torch.nn as nn


class DenseLayer(nn.Module):
    r"""BN-ReLU-1x1 conv to `bn_size * growth_rate` channels, then BN-ReLU-3x3 conv to $k$.

    Args:
        in_channels: channels of the input (all earlier feature maps of the block).
        growth_rate: $k$, the channels this layer adds.
        bn_size: width of the 1x1 bottleneck, in multiples of $k$ (4 in DenseNet-BC).
    """

    def __init__(self, in_channels, growth_rate, bn_size=4):
        super().__init__()
        wide = bn_size * growth_rate  # 4k channels between the two convolutions
        self.layers = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.ReLU(),
            nn.Conv2d(in_channels, wide, 1, bias=False),  # (N, 4k, H, W)
            nn.BatchNorm2d(wide),
            nn.ReLU(),
            nn.Conv2d(wide, growth_rate, 3, padding=1, bias=False),  # (N, k, H, W)
        )

    def forward(self, x):  # x: (N, C, H, W)
        return self.layers(x)  # (N, k, H, W): only the new features
# --8<-- [end:layer]


# --8<-- [start:block]
class DenseBlock(nn.Module):
    r"""Each layer reads the block's input and every earlier layer's output, concatenated.

    Args:
        in_channels: $C_0$, channels of the block's input.
        num_layers: $L$, layers in the block; the output has $C_0 + L k$ channels.
        growth_rate: $k$.
        bn_size: width of each layer's 1x1 bottleneck, in multiples of $k$.
    """

    def __init__(self, in_channels, num_layers, growth_rate, bn_size=4):
        super().__init__()
        self.layers = nn.ModuleList(
            DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size)
            for i in range(num_layers)
        )

    def forward(self, x):  # x: (N, C_0, H, W)
        features = [x]
        for layer in self.layers:
            new = layer(torch.cat(features, dim=1))  # input (N, C_0 + i k, H, W)
            features.append(new)  # (N, k, H, W)
        return torch.cat(features, dim=1)  # (N, C_0 + L k, H, W)
# --8<-- [end:block]


# --8<-- [start:transition]
def transition(in_channels, out_channels):
    r"""Between dense blocks: BN-ReLU-1x1 conv to fewer channels, 2x2 average pooling.

    Args:
        in_channels: channels of the dense block's output.
        out_channels: channels after the 1x1 convolution (half of `in_channels` in
            DenseNet-BC, compression 0.5).

    Returns:
        A module mapping (N, in_channels, H, W) to (N, out_channels, H/2, W/2).
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, 1, bias=False),  # (N, C_out, H, W)
        nn.AvgPool2d(2, stride=2),  # (N, C_out, H/2, W/2)
    )
# --8<-- [end:transition]


# --8<-- [start:densenet]
class DenseNet121(nn.Module):
    r"""DenseNet-121: a 7x7 stem, dense blocks of 6, 12, 24 and 16 layers, a linear head.

    The blocks ($k = 32$) are joined by transitions that halve the channels; a final
    batch norm and ReLU come before global pooling.

    Args:
        num_classes: outputs of the final linear layer.
    """

    def __init__(self, num_classes=1000, growth_rate=32, layers=(6, 12, 24, 16)):
        super().__init__()
        parts, channels = [
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),  # (N, 64, 112, 112)
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),  # (N, 64, 56, 56)
        ], 64
        for i, num_layers in enumerate(layers):
            parts.append(DenseBlock(channels, num_layers, growth_rate))
            channels += num_layers * growth_rate
            if i < len(layers) - 1:  # no transition after the last block
                parts.append(transition(channels, channels // 2))
                channels //= 2
        parts += [nn.BatchNorm2d(channels), nn.ReLU()]  # (N, 1024, 7, 7) for 224x224
        self.features = nn.Sequential(*parts)
        self.head = nn.Linear(channels, num_classes)

    def forward(self, x):  # x: (N, 3, H, W)
        x = self.features(x)  # (N, 1024, H/32, W/32)
        return self.head(x.mean(dim=(2, 3)))  # (N, num_classes)
# --8<-- [end:densenet]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:block_demo]
    block = DenseBlock(64, num_layers=6, growth_rate=32)
    x = torch.randn(2, 64, 8, 8)  # (N, C_0, H, W)
    print("dense block output", tuple(block(x).shape), " (64 + 6 x 32 = 256 channels)")
    widths = [layer.layers[0].num_features for layer in block.layers]
    print("inputs of its layers:", widths)
    print("transition output ", tuple(transition(256, 128)(block(x)).shape))
    # --8<-- [end:block_demo]

    # --8<-- [start:check]
    with torch.device("meta"):  # shapes only: no memory, no init, no arithmetic
        model = DenseNet121()
        logits = model(torch.empty(1, 3, 224, 224))
    counted = sum(p.numel() for p in model.parameters())
    print("DenseNet-121 logits", tuple(logits.shape))
    print(f"parameters {counted:,}, published 7,978,856")
    print("checked against the published parameter count of DenseNet-121")
    print(f"exact: max |ours - reference| value {abs(counted - 7_978_856)}")
    # --8<-- [end:check]
