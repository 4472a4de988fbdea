"""Checks shared by the block tests."""

from __future__ import annotations

import torch


def n_params(module: torch.nn.Module) -> int:
    """Number of parameters (batch norm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in module.parameters())


def assert_gradient_reaches_everything(block: torch.nn.Module, x: torch.Tensor) -> None:
    """Every parameter of `block` and the input `x` get a finite, non-zero gradient from the
    sum of squares of the block's output."""
    x = x.detach().requires_grad_(True)
    block(x).square().sum().backward()
    for name, p in [*block.named_parameters(), ("input", x)]:
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
