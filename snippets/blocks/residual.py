r"""The residual (basic) block and ResNet-18 built from it.

Reference: He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
Checked against the published parameter count of ResNet-18 (11,689,512 with a 1000-class
head, the figure torchvision's documentation lists for its `resnet18`).
"""

# --8<-- [start:impl]
# --8<-- [start:block]
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    r"""Two 3x3 convolutions with batch norm, added to a shortcut.

    $$y = \mathrm{ReLU}(F(x) + S(x))$$

    The shortcut $S$ is the identity when the shape is kept, and a strided 1x1
    convolution with batch norm (the "projection shortcut") when `stride` or the
    channel count changes.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        stride: 1 keeps the spatial size; 2 halves it (in the first convolution).
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        c_in, c_out = in_channels, out_channels
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(  # projection: match the shape of F(x)
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):  # x: (N, C_in, H, W)
        out = torch.relu(self.bn1(self.conv1(x)))  # (N, C_out, H/s, W/s)
        out = self.bn2(self.conv2(out))  # (N, C_out, H/s, W/s): the residual F(x)
        return torch.relu(out + self.shortcut(x))  # add, then the nonlinearity
# --8<-- [end:block]


# --8<-- [start:resnet]
class ResNet18(nn.Module):
    r"""ResNet-18: a 7x7 stem, four stages of two basic blocks, pooling, a linear head.

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
        stages, channels = [], 64
        for width, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            stages += [BasicBlock(channels, width, stride), BasicBlock(width, width)]
            channels = width
        self.stages = nn.Sequential(*stages)  # (N, 512, 7, 7) for a 224x224 input
        self.head = nn.Linear(512, num_classes)

    def forward(self, x):  # x: (N, 3, H, W)
        x = self.stages(self.stem(x))  # (N, 512, H/32, W/32)
        x = x.mean(dim=(2, 3))  # (N, 512): global average pooling
        return self.head(x)  # (N, num_classes)
# --8<-- [end:resnet]
# --8<-- [end:impl]


# --8<-- [start:count]
def count_parameters(model):
    """Number of parameters (batch norm's running statistics are buffers, not counted).

    Args:
        model: a `torch.nn.Module`.

    Returns:
        The total number of elements of its parameters.
    """
    return sum(p.numel() for p in model.parameters())
# --8<-- [end:count]


if __name__ == "__main__":
    # --8<-- [start:block_demo]
    block = BasicBlock(64, 128, stride=2)
    x = torch.randn(2, 64, 32, 32)  # (N, C, H, W)
    print("input ", tuple(x.shape))
    print("output", tuple(block(x).shape), " (stride 2 halves H and W; 1x1 projection)")
    print("identity shortcut when shapes match:", BasicBlock(64, 64).shortcut)
    # --8<-- [end:block_demo]

    # --8<-- [start:check]
    with torch.device("meta"):  # shapes only: no memory, no init, no arithmetic
        model = ResNet18()
        logits = model(torch.empty(1, 3, 224, 224))
    counted = count_parameters(model)
    print("ResNet-18 logits", tuple(logits.shape))
    print(f"parameters {counted:,}, published 11,689,512")
    print("checked against the published parameter count of ResNet-18")
    print(f"exact: max |ours - reference| value {abs(counted - 11_689_512)}")
    # --8<-- [end:check]
