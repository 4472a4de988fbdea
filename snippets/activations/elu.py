r"""ELU, the exponential linear unit, and CELU, its continuously differentiable form.

References: Clevert, Unterthiner and Hochreiter, "Fast and Accurate Deep Network Learning
by Exponential Linear Units (ELUs)", ICLR 2016, arXiv:1511.07289; Barron, "Continuously
Differentiable Exponential Linear Units", arXiv:1704.07483, 2017.
Checked against `torch.nn.functional.elu` and `torch.nn.functional.celu`.
"""

# --8<-- [start:impl]
# --8<-- [start:elu]
import numpy as np


def elu(input, alpha=1.0):
    r"""Exponential linear unit, elementwise.

    $$\operatorname{ELU}_\alpha(x) =
    \begin{cases} x & x > 0 \\ \alpha\,(e^{x} - 1) & x \le 0 \end{cases}$$

    Args:
        input: array of any shape.
        alpha: the value $-\alpha$ that the negative side tends to (torch's default, 1.0).
            Any real number is accepted, as in torch: 0 gives ReLU, a negative value
            flips the negative side above the axis.

    Returns:
        An array with the shape and dtype of `input`. NaN stays NaN; zeros keep their sign.
    """
    x = np.asarray(input)
    # expm1 keeps full precision for tiny |x|, where exp(x) - 1 cancels;
    # min(x, 0): the unused branch never overflows for large positive x
    negative = alpha * np.expm1(np.minimum(x, 0))
    return np.where(x >= 0, x, negative)  # x = ±0 is returned as it is, as in torch
# --8<-- [end:elu]


# --8<-- [start:elu_grad]
def elu_grad(input, alpha=1.0):
    r"""Derivative of ELU: 1 where $x > 0$, else $\alpha e^{x}$ ($\alpha$ at $x = 0$, as in torch).

    $$\operatorname{ELU}_\alpha'(x) =
    \begin{cases} 1 & x > 0 \\ \alpha\,e^{x} & x \le 0 \end{cases}$$

    Args:
        input: array of any shape.
        alpha: as in `elu`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    # alpha * e^x directly: the shortcut y + alpha cancels for very negative x
    negative = alpha * np.exp(np.minimum(x, 0))
    return np.where(x > 0, np.ones_like(x), negative)
# --8<-- [end:elu_grad]


# --8<-- [start:celu]
def celu(input, alpha=1.0):
    r"""Continuously differentiable ELU, elementwise: ELU with the input scaled by $1/\alpha$.

    $$\operatorname{CELU}_\alpha(x) =
    \begin{cases} x & x > 0 \\ \alpha\,(e^{x/\alpha} - 1) & x \le 0 \end{cases}$$

    Args:
        input: array of any shape.
        alpha: any non-zero real number (torch's default, 1.0); 0 raises ValueError.

    Returns:
        An array with the shape and dtype of `input`.
    """
    if alpha == 0:
        raise ValueError("alpha cannot be 0 for CELU")
    x = np.asarray(input)
    # tiny |alpha|: x/alpha overflows; alpha < 0: e^(x/alpha) does
    with np.errstate(over="ignore"):
        z = np.minimum(x, 0) * (1 / alpha)  # times 1/alpha, not x/alpha, as torch
        negative = alpha * np.expm1(z)
    return np.where(x >= 0, x, negative)
# --8<-- [end:celu]


# --8<-- [start:celu_grad]
def celu_grad(input, alpha=1.0):
    r"""Derivative of CELU: 1 where $x > 0$, else $e^{x/\alpha}$ (1 at $x = 0$ from both sides).

    $$\operatorname{CELU}_\alpha'(x) =
    \begin{cases} 1 & x > 0 \\ e^{x/\alpha} & x \le 0 \end{cases}$$

    Args:
        input: array of any shape.
        alpha: as in `celu`.

    Returns:
        An array with the shape and dtype of `input`.
    """
    if alpha == 0:
        raise ValueError("alpha cannot be 0 for CELU")
    x = np.asarray(input)
    with np.errstate(over="ignore"):
        negative = np.exp(np.minimum(x, 0) * (1 / alpha))
    return np.where(x > 0, np.ones_like(x), negative)
# --8<-- [end:celu_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-10.0, -1.0, -1e-10, 0.0, 1.0])
    columns = {  # name -> values at x
        "elu": elu(x), "elu'": elu_grad(x),
        "elu a=2": elu(x, 2.0), "elu' a=2": elu_grad(x, 2.0),
        "celu a=2": celu(x, 2.0), "celu' a=2": celu_grad(x, 2.0),
    }
    print(f"{'x':>7}" + "".join(f"{name:>11}" for name in columns))
    for i, xi in enumerate(x):
        print(f"{xi:>7.2g}" + "".join(f"{v[i]:>11.5g}" for v in columns.values()))

    def compare(ours, ours_grad, reference, alphas):
        """Worst |ours - torch| of value and gradient over `alphas`, per dtype."""
        print(f"checked against {reference.__module__}.{reference.__name__}")
        for dtype in (np.float64, np.float32):
            xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 5
            value_err = grad_err = 0.0
            for alpha in alphas:
                xt = torch.tensor(xs, requires_grad=True)
                yt = reference(xt, alpha=alpha)
                yt.sum().backward()  # d(sum)/dx_i = f'(x_i)
                diff = np.abs(ours(xs, alpha) - yt.detach().numpy()).max()
                value_err = max(value_err, diff)
                diff = np.abs(ours_grad(xs, alpha) - xt.grad.numpy()).max()
                grad_err = max(grad_err, diff)
            name = np.dtype(dtype).name
            print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")

    F = torch.nn.functional
    compare(elu, elu_grad, F.elu, alphas=(1.0, 0.5, 2.0, 0.0, -1.0))
    compare(celu, celu_grad, F.celu, alphas=(1.0, 0.5, 2.0))
    # --8<-- [end:check]

    # --8<-- [start:expm1]
    tiny = np.array([-1e-8, -1e-12])
    print("exp(x) - 1  ", np.exp(tiny) - 1)  # cancels: only the first digits are right
    print("ours        ", elu(tiny))
    print("torch       ", torch.nn.functional.elu(torch.tensor(tiny)).numpy())
    # --8<-- [end:expm1]

    # --8<-- [start:inplace]
    far = np.array([-1.0, -20.0, -30.0, -40.0])
    xt = torch.tensor(far, requires_grad=True)
    # in place, torch's backward only has the output y, so it uses y + alpha
    torch.nn.functional.elu(xt.clone(), inplace=True).sum().backward()
    print("torch, in place    ", xt.grad.numpy())
    print("ours, alpha * e^x  ", elu_grad(far))
    # --8<-- [end:inplace]

    # --8<-- [start:nan]
    # torch's ELU' at each NaN of full((n,), nan)[::step]
    def torch_grad_at_nan(n, step=1):
        xt = torch.full((n,), float("nan"), dtype=torch.float64, requires_grad=True)
        F.elu(xt[::step]).sum().backward()
        return xt.grad[::step].numpy()

    print("CPU code used by torch      ", torch.backends.cpu.get_cpu_capability())
    print("torch, 9 NaNs in a row      ", torch_grad_at_nan(9))  # last one: scalar tail
    print("torch, every other one of 18", torch_grad_at_nan(18, step=2))  # all scalar
    print("ours                        ", elu_grad(np.full(9, np.nan)))
    # --8<-- [end:nan]

    # --8<-- [start:celu_alpha]
    x = np.array([-5.0, -1.0, 0.0])
    xt = torch.tensor(x, requires_grad=True)  # float64
    F.celu(xt, alpha=0.3).sum().backward()
    exact = np.exp(x / 0.3)  # CELU'(x) for x <= 0
    print("torch, relative error", np.abs(xt.grad.numpy() / exact - 1))
    print("ours,  relative error", np.abs(celu_grad(x, 0.3) / exact - 1))
    # --8<-- [end:celu_alpha]
