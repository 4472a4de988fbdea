r"""Swish / SiLU, the sigmoid linear unit, and its derivative.

References: Hendrycks and Gimpel, "Gaussian Error Linear Units (GELUs)",
arXiv:1606.08415 (where the name SiLU first appears); Elfwing, Uchibe and Doya,
"Sigmoid-Weighted Linear Units for Neural Network Function Approximation in
Reinforcement Learning", arXiv:1702.03118; Ramachandran, Zoph and Le, "Searching for
Activation Functions", arXiv:1710.05941 (swish, with a slope beta).
Checked against `torch.nn.functional.silu`.
"""

# --8<-- [start:impl]
# --8<-- [start:sigmoid]
import numpy as np


def _sigmoid(x):
    r"""Logistic sigmoid that never overflows: $\sigma(x) = 1 / (1 + e^{-x})$."""
    z = np.exp(-np.abs(x))  # in (0, 1]: no overflow for any x
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
# --8<-- [end:sigmoid]


# --8<-- [start:silu]
def silu(x):
    r"""SiLU (swish with $\beta = 1$), elementwise.

    $$\operatorname{SiLU}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}$$

    Args:
        x: array of any shape.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    return x * _sigmoid(x)
# --8<-- [end:silu]


# --8<-- [start:silu_grad]
def silu_grad(x):
    r"""Derivative of SiLU, with $1 - \sigma(x)$ computed as $\sigma(-x)$.

    $$\operatorname{SiLU}'(x) = \sigma(x)\,(1 + x\,\sigma(-x))$$

    Writing $1 - \sigma(x)$ as a subtraction would cancel for large $x$, where
    $\sigma(x)$ is close to 1; $\sigma(-x)$ is computed to full relative precision.

    Args:
        x: array of any shape.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    return _sigmoid(x) * (1 + x * _sigmoid(-x))  # sigmoid(-x) = 1 - sigmoid(x)
# --8<-- [end:silu_grad]


# --8<-- [start:swish]
def swish(x, beta=1.0):
    r"""Swish with a slope parameter $\beta$ (Ramachandran et al., 2017).

    $$\operatorname{swish}_\beta(x) = x\,\sigma(\beta x)$$

    $\beta = 1$ is SiLU, $\beta = 0$ is $x/2$, and $\beta \to \infty$ tends to ReLU.

    Args:
        x: array of any shape.
        beta: slope of the gate, any real number; fixed here (the paper also
            learns it).

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    return x * _sigmoid(x * x.dtype.type(beta))  # beta in x's precision
# --8<-- [end:swish]


# --8<-- [start:swish_grad]
def swish_grad(x, beta=1.0):
    r"""Derivative of swish with respect to $x$.

    $$\operatorname{swish}_\beta'(x)
      = \sigma(\beta x)\,(1 + \beta x\,\sigma(-\beta x))$$

    Args:
        x: array of any shape.
        beta: slope of the gate.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    bx = x * x.dtype.type(beta)
    return _sigmoid(bx) * (1 + bx * _sigmoid(-bx))
# --8<-- [end:swish_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-4.0, -2.0, 0.0, 1.0, 4.0])
    print("x         ", x)
    print("silu(x)   ", silu(x).round(4))
    print("silu'(x)  ", silu_grad(x).round(4))

    print("checked against torch.nn.functional.silu")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 10
        xs[:4] = [-1e4, -100.0, 100.0, 1e4]  # extremes: no overflow, no NaN
        xt = torch.tensor(xs, requires_grad=True)
        y = torch.nn.functional.silu(xt)
        y.sum().backward()  # d(sum)/dx_i = silu'(x_i)
        value_err = np.abs(silu(xs) - y.detach().numpy()).max()
        grad_err = np.abs(silu_grad(xs) - xt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")

    print("checked against x * torch.sigmoid(beta * x), beta in {-1, 0, 0.5, 2, 10}")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(1).normal(size=1000).astype(dtype) * 10
        value_err = grad_err = 0.0
        for beta in (-1.0, 0.0, 0.5, 2.0, 10.0):  # worst case over beta
            xt = torch.tensor(xs, requires_grad=True)
            y = xt * torch.sigmoid(beta * xt)
            y.sum().backward()
            ours = swish(xs, beta)
            value_err = max(value_err, np.abs(ours - y.detach().numpy()).max())
            ours_grad = swish_grad(xs, beta)
            grad_err = max(grad_err, np.abs(ours_grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:minimum]
    # SiLU dips below zero; its minimum is where the derivative vanishes.
    grid = np.linspace(-3, 0, 300_001)
    i = np.argmin(silu(grid))
    print(f"minimum SiLU({grid[i]:.4f}) = {silu(grid[i]):.4f}")
    print(f"SiLU'(there) = {silu_grad(grid[i]):.1e}")
    # --8<-- [end:minimum]
