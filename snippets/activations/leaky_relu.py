r"""Leaky ReLU and its derivative.

Reference: Maas, Hannun and Ng, "Rectifier Nonlinearities Improve Neural Network
Acoustic Models", ICML 2013 Workshop on Deep Learning for Audio, Speech and Language
Processing.
Checked against `torch.nn.functional.leaky_relu`.
"""

# --8<-- [start:impl]
import numpy as np


def leaky_relu(input, negative_slope=0.01):
    r"""Leaky rectified linear unit, elementwise.

    $$\operatorname{LeakyReLU}(x) =
    \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}$$

    Args:
        input: array of any shape.
        negative_slope: the slope $a$ for inputs $x \le 0$ (torch's default, 0.01).

    Returns:
        An array with the shape and dtype of `input`. NaN stays NaN, as in torch.
    """
    x = np.asarray(input)
    return np.where(x > 0, x, x * negative_slope)  # x * slope keeps float32 as float32


def leaky_relu_grad(input, negative_slope=0.01):
    r"""Derivative of leaky ReLU: 1 where $x > 0$, else the negative slope $a$.

    At $x = 0$ there is a kink; like torch, this returns $a$ there.

    Args:
        input: array of any shape.
        negative_slope: the slope $a$ used for non-positive inputs.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    one = np.ones_like(x)
    return np.where(x > 0, one, one * negative_slope)
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    print("x              ", x)
    print("leaky_relu(x)  ", leaky_relu(x))
    print("leaky_relu'(x) ", leaky_relu_grad(x))

    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 100
        for slope in (0.01, 0.2):
            xt = torch.tensor(xs, requires_grad=True)
            yt = torch.nn.functional.leaky_relu(xt, negative_slope=slope)
            yt.sum().backward()  # d(sum)/dx_i = leaky_relu'(x_i)
            value_err = np.abs(leaky_relu(xs, slope) - yt.detach().numpy()).max()
            grad_err = np.abs(leaky_relu_grad(xs, slope) - xt.grad.numpy()).max()
            name = np.dtype(dtype).name
            print(f"{name}, slope {slope}: max |ours - torch| "
                  f"value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
