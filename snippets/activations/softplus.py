r"""Softplus, a smooth ReLU, with torch's `beta` and `threshold`, and its derivative.

References: Dugas, Bengio, Bélisle, Nadeau and Garcia, "Incorporating Second-Order
Functional Knowledge for Better Option Pricing", NeurIPS 2000; Glorot, Bordes and
Bengio, "Deep Sparse Rectifier Neural Networks", AISTATS 2011.
Checked against `torch.nn.functional.softplus`.
"""

# --8<-- [start:impl]
# --8<-- [start:prepare]
import numpy as np


def _prepare(input, beta):
    r"""The input as an array, and $\beta$ in its precision; $\beta = 0$ is refused.

    Args:
        input: float array of any shape.
        beta: the sharpness $\beta$, any real number but 0.

    Returns:
        `(x, b)`: `input` as an array and `beta` as a scalar of its dtype.

    Raises:
        ValueError: if `beta` is 0 (torch returns infinity everywhere then).
    """
    if beta == 0:
        raise ValueError("beta must be nonzero: softplus divides by it")
    x = np.asarray(input)
    return x, x.dtype.type(beta)  # float32 stays float32, as in torch
# --8<-- [end:prepare]


# --8<-- [start:softplus]
def softplus(input, beta=1.0, threshold=20.0):
    r"""Softplus, elementwise, as in torch: linear once $\beta x$ exceeds `threshold`.

    $$\operatorname{softplus}(x) = \begin{cases}
    \frac{1}{\beta}\log\left(1 + e^{\beta x}\right) & \beta x \le \text{threshold} \\
    x & \beta x > \text{threshold} \end{cases}$$

    The log term is evaluated as $\max(z, 0) + \log(1 + e^{-|z|})$ with $z = \beta x$,
    which never overflows, whatever the threshold.

    Args:
        input: float array of any shape.
        beta: sharpness $\beta \ne 0$. For $\beta > 0$ this is a smooth ReLU that
            approaches ReLU as $\beta$ grows; a negative $\beta$ gives
            $-\operatorname{softplus}_{|\beta|}(-x)$, a smooth $\min(0, x)$, as in
            torch.
        threshold: any real number; where $\beta x$ exceeds it, the function returns
            $x$ itself.

    Returns:
        An array with the shape and dtype of `input`. NaN stays NaN.
    """
    x, b = _prepare(input, beta)
    z = x * b
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): the exponent is never positive
    smooth = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / b
    return np.where(z > threshold, x, smooth)
# --8<-- [end:softplus]


# --8<-- [start:softplus_grad]
def softplus_grad(input, beta=1.0, threshold=20.0):
    r"""Derivative of softplus: the sigmoid of $\beta x$, or 1 in the linear part.

    $$\operatorname{softplus}'(x) = \begin{cases} \sigma(\beta x) & \beta x \le
    \text{threshold} \\ 1 & \beta x > \text{threshold} \end{cases}$$

    Args:
        input: float array of any shape.
        beta: sharpness $\beta \ne 0$.
        threshold: where $\beta x$ exceeds it, the derivative is 1.

    Returns:
        An array with the shape and dtype of `input`, in $[0, 1]$.
    """
    x, b = _prepare(input, beta)
    z = x * b
    e = np.exp(-np.abs(z))  # stable sigmoid of z, as on the sigmoid page
    sig = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return np.where(z > threshold, np.ones_like(x), sig)
# --8<-- [end:softplus_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-1e4, -1.0, 0.0, 1.0, 1e4])
    print("x              ", x)
    print("softplus(x)    ", softplus(x))
    print("softplus'(x)   ", softplus_grad(x))
    print("beta=10        ", softplus(x, beta=10.0))  # closer to max(0, x)

    betas, thresholds = (-1.0, 0.5, 1.0, 2.0, 10.0), (-1.0, 1.0, 20.0)
    grid = [(beta, threshold) for beta in betas for threshold in thresholds]
    print("checked against torch.nn.functional.softplus")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 10
        value_err = grad_err = 0.0
        for beta, threshold in grid:  # worst case over the whole grid
            xt = torch.tensor(xs, requires_grad=True)
            yt = torch.nn.functional.softplus(xt, beta=beta, threshold=threshold)
            yt.sum().backward()  # d(sum)/dx_i = softplus'(x_i)
            ours = softplus(xs, beta, threshold)
            value_err = max(value_err, np.abs(ours - yt.detach().numpy()).max())
            ours_grad = softplus_grad(xs, beta, threshold)
            grad_err = max(grad_err, np.abs(ours_grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:overflow]
    big = np.array([10.0, 100.0, 1000.0])
    with np.errstate(over="ignore"):  # the naive formula overflows on purpose here
        print("naive log(1 + e^x)     ", np.log(1 + np.exp(big)))
    # a threshold too high to catch the overflow before it happens:
    huge = torch.nn.functional.softplus(torch.tensor(big), threshold=1e6)
    print("torch, threshold=1e6   ", huge.numpy())
    print("ours,  threshold=1e6   ", softplus(big, threshold=1e6))
    # --8<-- [end:overflow]
