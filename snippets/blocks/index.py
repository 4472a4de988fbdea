r"""Why depth needs skip connections: gradient norms at initialisation, and the degradation problem.

Small fully connected stands-ins for the convolutional networks of He et al., "Deep Residual
Learning for Image Recognition" (CVPR 2016): the same depth with and without identity shortcuts,
on a two-spirals classification task that trains in seconds.
"""

# --8<-- [start:impl]
# --8<-- [start:data]
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def two_spirals(n=256, seed=0):
    r"""Two interleaved spirals in the plane, one per class.

    Args:
        n: number of points (classes alternate, so they are balanced).
        seed: seeds the angles and the noise.

    Returns:
        `(x, y)`: (n, 2) float32 points and (n,) labels 0 or 1.
    """
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g) * 3 * math.pi + 0.5  # (n,) angle = radius
    y = torch.arange(n) % 2  # (n,)
    angle = t + math.pi * y  # the second spiral is the first turned by 180 degrees
    x = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], dim=1) / 10  # (n, 2)
    return x + 0.02 * torch.randn(n, 2, generator=g), y
# --8<-- [end:data]


# --8<-- [start:layers]
class PlainLayer(nn.Module):
    r"""$h \mapsto \mathrm{ReLU}(\mathrm{BN}(W h + b))$, or without the batch norm.

    Args:
        width: features in and out.
        batch_norm: whether to normalise before the ReLU.
    """

    def __init__(self, width, batch_norm=True):
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.norm = nn.BatchNorm1d(width) if batch_norm else nn.Identity()

    def forward(self, h):  # h: (N, width)
        return torch.relu(self.norm(self.linear(h)))


class ResidualLayer(PlainLayer):
    r"""The same layer with an identity shortcut.

    $$h \mapsto h + \mathrm{ReLU}(\mathrm{BN}(W h + b))$$
    """

    def forward(self, h):  # h: (N, width)
        return h + super().forward(h)
# --8<-- [end:layers]


# --8<-- [start:net]
def make_net(depth, residual, batch_norm=True, width=32):
    r"""Input layer, `depth` plain or residual hidden layers, output layer (2 classes).

    Args:
        depth: number of hidden layers (0 or more).
        residual: whether the hidden layers have identity shortcuts.
        batch_norm: whether the hidden layers normalise.
        width: units per hidden layer.

    Returns:
        A `torch.nn.Sequential` mapping (N, 2) points to (N, 2) logits.
    """
    layer = ResidualLayer if residual else PlainLayer
    hidden = [layer(width, batch_norm) for _ in range(depth)]
    return nn.Sequential(nn.Linear(2, width), *hidden, nn.Linear(width, 2))
# --8<-- [end:net]


# --8<-- [start:grad_norm]
def first_layer_grad_norm(net, x, y):
    r"""Norm of the loss gradient with respect to the first layer's weights.

    Args:
        net: a network from `make_net`, in training mode.
        x: (N, 2) inputs.
        y: (N,) labels.

    Returns:
        $\lVert \partial L / \partial W_1 \rVert$ as a float.
    """
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    return net[0].weight.grad.norm().item()
# --8<-- [end:grad_norm]


# --8<-- [start:train]
def training_loss(net, x, y, steps=150, lr=0.1):
    r"""Train with SGD (momentum 0.9) on the whole set; return the loss it minimised.

    Args:
        net: a network from `make_net`.
        x: (N, 2) inputs.
        y: (N,) labels.
        steps: full-batch steps.
        lr: learning rate.

    Returns:
        The cross-entropy on the training set after training, as a float, with batch norm
        normalising by the batch's statistics as in training (the objective the optimiser
        saw; the running averages of eval mode would add their own error).
    """
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    net.train()
    for _ in range(steps):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return F.cross_entropy(net(x), y).item()  # (x, y) is the whole batch
# --8<-- [end:train]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:grad_demo]
    x, y = two_spirals()
    print("depth   plain   plain+BN  residual+BN   |dL/dW_1| at initialisation")
    for depth in (2, 8, 32, 64):
        norms = []
        for residual, bn in [(False, False), (False, True), (True, True)]:
            torch.manual_seed(0)
            norms.append(first_layer_grad_norm(make_net(depth, residual, bn), x, y))
        print(f"{depth:5d}  " + "  ".join(f"{n:9.1e}" for n in norms))
    # --8<-- [end:grad_demo]

    # --8<-- [start:degradation]
    print("training loss after 150 steps (same data, same seed, same optimizer)")
    for depth in (4, 40):
        losses = []
        for residual in (False, True):
            torch.manual_seed(0)
            losses.append(training_loss(make_net(depth, residual), x, y))
        print(f"depth {depth:2d}: plain {losses[0]:.4f}   residual {losses[1]:.4f}")
    # --8<-- [end:degradation]
