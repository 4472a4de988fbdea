r"""Leaky ReLU and its derivative, for any real negative slope.

Reference: Maas, Hannun and Ng, "Rectifier Nonlinearities Improve Neural Network
Acoustic Models", ICML 2013 Workshop on Deep Learning for Audio, Speech and Language
Processing.
Checked against `torch.nn.functional.leaky_relu`.
"""

# --8<-- [start:impl]
# --8<-- [start:leaky_relu]
import numpy as np


def leaky_relu(input, negative_slope=0.01):
    r"""Leaky rectified linear unit, elementwise.

    $$\operatorname{LeakyReLU}(x) =
    \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}$$

    Args:
        input: float array of any shape.
        negative_slope: the slope $a$ for inputs $x \le 0$, any real number
            (torch's default, 0.01).

    Returns:
        An array with the shape and dtype of `input`. NaN stays NaN, as in torch.
    """
    x = np.asarray(input)
    a = x.dtype.type(negative_slope)  # the slope in x's precision, as torch does
    return np.where(x > 0, x, a * x)
# --8<-- [end:leaky_relu]


# --8<-- [start:leaky_relu_grad]
def leaky_relu_grad(input, negative_slope=0.01):
    r"""Derivative of leaky ReLU: 1 where $x > 0$, else the negative slope $a$.

    At the kink $x = 0$, and at NaN, torch returns $a$; so does this function.

    Args:
        input: float array of any shape.
        negative_slope: the slope $a$ used for non-positive inputs.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    a = x.dtype.type(negative_slope)
    return np.where(x > 0, 1, a).astype(x.dtype)  # NaN > 0 is False: a
# --8<-- [end:leaky_relu_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    print("x                   ", x)
    print("leaky_relu(x)       ", leaky_relu(x))
    print("leaky_relu'(x)      ", leaky_relu_grad(x))
    print("slope -0.5 (V shape)", leaky_relu(x, -0.5))

    print("checked against torch.nn.functional.leaky_relu")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 100
        xs[:2] = [0.0, -0.0]
        value_err = grad_err = 0.0
        for slope in (0.01, 0.2, -0.5, 3.0):  # worst case over the slopes
            xt = torch.tensor(xs, requires_grad=True)
            yt = torch.nn.functional.leaky_relu(xt, negative_slope=slope)
            yt.sum().backward()  # d(sum)/dx_i = leaky_relu'(x_i)
            ours = leaky_relu(xs, slope)
            value_err = max(value_err, np.abs(ours - yt.detach().numpy()).max())
            ours_grad = leaky_relu_grad(xs, slope)
            grad_err = max(grad_err, np.abs(ours_grad - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
