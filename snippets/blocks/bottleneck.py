r"""The bottleneck residual block (1x1, 3x3, 1x1, expansion 4) and ResNet-50 built from it.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
Checked against the published parameter count of ResNet-50 (25,557,032 with a 1000-class head,
the figure torchvision's documentation lists for its `resnet50`).
"""

# --8<-- [start:impl]
# --8<-- [start:block]
import torch
import torch.nn as nn


class Bottleneck(nn.Module):
    r"""1x1 reduce, 3x3, 1x1 expand (each with batch norm), added to a shortcut.

    Args:
        in_channels: channels of the input.
        width: channels of the 3x3 convolution; the block outputs `4 * width`.
        stride: stride of the 3x3 convolution (1, or 2 to halve the spatial size).
    """

    expansion = 4

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        out_channels = width * self.expansion
        self.reduce = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv = nn.Conv2d(width, width, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.expand = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(  # projection: match the shape of F(x)
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):  # x: (N, C_in, H, W)
        out = torch.relu(self.bn1(self.reduce(x)))  # (N, width, H, W)
        out = torch.relu(self.bn2(self.conv(out)))  # (N, width, H/s, W/s)
        out = self.bn3(self.expand(out))  # (N, 4 width, H/s, W/s): the residual F(x)
        return torch.relu(out + self.shortcut(x))
# --8<-- [end:block]


# --8<-- [start:resnet]
class ResNet50(nn.Module):
    r"""ResNet-50: a 7x7 stem, stages of 3, 4, 6 and 3 bottleneck blocks, a linear head.

    Args:
        num_classes: outputs of the final linear layer.
    """

    def __init__(self, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),  # (N, 64, 112, 112)
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),  # (N, 64, 56, 56)
        )
        blocks, channels = [], 64
        # (width, blocks, stride of the first block) for each stage
        stages = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]
        for width, count, stride in stages:
            for i in range(count):  # only a stage's first block changes the shape
                blocks.append(Bottleneck(channels, width, stride if i == 0 else 1))
                channels = width * Bottleneck.expansion
        self.stages = nn.Sequential(*blocks)  # (N, 2048, 7, 7) for a 224x224 input
        self.head = nn.Linear(channels, num_classes)

    def forward(self, x):  # x: (N, 3, H, W)
        x = self.stages(self.stem(x))  # (N, 2048, H/32, W/32)
        return self.head(x.mean(dim=(2, 3)))  # (N, num_classes)
# --8<-- [end:resnet]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:block_demo]
    def count_parameters(module):
        return sum(p.numel() for p in module.parameters())

    def conv_weights(module):  # convolution weights only, batch norm left out
        convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
        return sum(m.weight.numel() for m in convs)

    def basic(channels):  # the two 3x3 convolutions of a basic block
        return nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        )

    x = torch.randn(2, 256, 14, 14)  # (N, C, H, W)
    bottleneck = Bottleneck(256, 64)  # 256 -> 64 -> 64 -> 256, identity shortcut
    print("output", tuple(bottleneck(x).shape))
    print(f"bottleneck on 256 channels   {conv_weights(bottleneck):>9,}")
    print(f"basic block on 64 channels   {conv_weights(basic(64)):>9,}")
    print(f"basic block on 256 channels  {conv_weights(basic(256)):>9,}")
    # --8<-- [end:block_demo]

    # --8<-- [start:check]
    with torch.device("meta"):  # shapes only: no memory, no init, no arithmetic
        model = ResNet50()
        logits = model(torch.empty(1, 3, 224, 224))
    counted = count_parameters(model)
    print("ResNet-50 logits", tuple(logits.shape))
    print(f"parameters {counted:,}, published 25,557,032")
    print("checked against the published parameter count of ResNet-50")
    print(f"exact: max |ours - reference| value {abs(counted - 25_557_032)}")
    # --8<-- [end:check]
