r"""The inverted residual block (expand, depthwise 3x3, linear 1x1 bottleneck) and MobileNetV2.

Reference: Sandler, Howard, Zhu, Zhmoginov and Chen, "MobileNetV2: Inverted Residuals and
Linear Bottlenecks", CVPR 2018. Checked against the published parameter count of MobileNetV2
(3,504,872 with a 1000-class head, the figure torchvision's documentation lists for its
`mobilenet_v2`).
"""

# --8<-- [start:impl]
# --8<-- [start:block]
import torch
import torch.nn as nn


def conv_bn(in_channels, out_channels, kernel, stride=1, groups=1, relu6=True):
    """A convolution without bias, batch norm, and ReLU6 unless `relu6` is false."""
    layers = [
        nn.Conv2d(in_channels, out_channels, kernel, stride, padding=kernel // 2,
                  groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    return nn.Sequential(*layers, nn.ReLU6()) if relu6 else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    r"""1x1 expansion by `expand_ratio`, depthwise 3x3, 1x1 projection without ReLU6.

    The shortcut is added only when `stride` is 1 and the channel count is kept.

    Args:
        in_channels: channels of the input (a narrow bottleneck).
        out_channels: channels of the output (a narrow bottleneck).
        stride: stride of the depthwise convolution, 1 or 2.
        expand_ratio: $t > 0$; the block works on `round(t * in_channels)` channels
            inside.
    """

    def __init__(self, in_channels, out_channels, stride, expand_ratio):
        super().__init__()
        hidden = round(in_channels * expand_ratio)  # as torchvision, for fractional t
        if hidden < 1:
            raise ValueError(f"expand_ratio {expand_ratio} leaves no channels")
        layers = []
        if expand_ratio != 1:  # t = 1: no expansion layer at all
            layers.append(conv_bn(in_channels, hidden, 1))  # (N, t C_in, H, W)
        layers += [
            conv_bn(hidden, hidden, 3, stride, groups=hidden),  # depthwise
            conv_bn(hidden, out_channels, 1, relu6=False),  # linear bottleneck
        ]
        self.layers = nn.Sequential(*layers)
        self.use_shortcut = stride == 1 and in_channels == out_channels

    def forward(self, x):  # x: (N, C_in, H, W)
        out = self.layers(x)  # (N, C_out, H/s, W/s)
        return x + out if self.use_shortcut else out  # no nonlinearity after the sum
# --8<-- [end:block]


# --8<-- [start:mobilenet]
class MobileNetV2(nn.Module):
    r"""MobileNetV2 (width 1.0): a 3x3 stem, 17 inverted residual blocks, a linear head.

    A 1x1 convolution to 1280 channels, pooling and dropout come before the head.

    Args:
        num_classes: outputs of the final linear layer.
        dropout: dropout probability before the head (0.2 as in torchvision).
    """

    # (expansion t, channels c, repeats n, first stride s): the paper's Table 2
    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        layers, channels = [conv_bn(3, 32, 3, stride=2)], 32  # (N, 32, 112, 112)
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
                channels = c
        layers.append(conv_bn(channels, 1280, 1))  # (N, 1280, 7, 7) for 224x224
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))

    def forward(self, x):  # x: (N, 3, H, W)
        x = self.features(x)  # (N, 1280, H/32, W/32)
        return self.head(x.mean(dim=(2, 3)))  # (N, num_classes)
# --8<-- [end:mobilenet]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:block_demo]
    x = torch.randn(2, 24, 28, 28)  # (N, C, H, W)
    keep = InvertedResidual(24, 24, stride=1, expand_ratio=6)  # 24 -> 144 -> 144 -> 24
    down = InvertedResidual(24, 32, stride=2, expand_ratio=6)
    print("stride 1, 24 -> 24:", tuple(keep(x).shape), "shortcut", keep.use_shortcut)
    print("stride 2, 24 -> 32:", tuple(down(x).shape), "shortcut", down.use_shortcut)
    depthwise = keep.layers[1][0]
    print("depthwise weight", tuple(depthwise.weight.shape), "(3x3 per channel)")
    # --8<-- [end:block_demo]

    # --8<-- [start:check]
    with torch.device("meta"):  # shapes only: no memory, no init, no arithmetic
        model = MobileNetV2()
        logits = model(torch.empty(1, 3, 224, 224))
    counted = sum(p.numel() for p in model.parameters())
    print("MobileNetV2 logits", tuple(logits.shape))
    print(f"parameters {counted:,}, published 3,504,872")
    print("checked against the published parameter count of MobileNetV2")
    print(f"exact: max |ours - reference| value {abs(counted - 3_504_872)}")
    # --8<-- [end:check]
