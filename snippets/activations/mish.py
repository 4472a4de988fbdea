r"""Mish, x times tanh(softplus(x)), and its derivative, stable for inputs of any size.

References: Misra, "Mish: A Self Regularized Non-Monotonic Activation Function",
arXiv:1908.08681. Checked against `torch.nn.functional.mish`.
"""

# --8<-- [start:impl]
# --8<-- [start:gate]
import numpy as np


def tanh_softplus(x):
    r"""The gate $t = \tanh(\operatorname{softplus}(x))$ and its complement $1 - t$.

    With $E = e^{x}$, $t = \frac{E^2 + 2E}{E^2 + 2E + 2}$; for $x > 0$ numerator and
    denominator are divided by $E^2$, so only $e^{-|x|} \le 1$ is ever computed.

    Args:
        x: array of any shape.

    Returns:
        `(t, 1 - t)`, two arrays with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: no overflow for any x
    pos = x > 0
    num = np.where(pos, 1 + 2 * e, e * (e + 2))  # x > 0: divided through by e^(2x)
    den = num + np.where(pos, 2 * e * e, 2)
    rest = np.where(pos, 2 * e * e, 2) / den  # 1 - t, with no cancellation
    return num / den, rest
# --8<-- [end:gate]


# --8<-- [start:mish]
def mish(x):
    r"""Mish, elementwise.

    $$\operatorname{Mish}(x) = x \tanh(\operatorname{softplus}(x)),
      \quad \operatorname{softplus}(x) = \log(1 + e^{x})$$

    Args:
        x: floating-point array of any shape.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    t, _ = tanh_softplus(x)
    return x * t
# --8<-- [end:mish]


# --8<-- [start:mish_grad]
def mish_grad(x):
    r"""Derivative of Mish.

    $$\operatorname{Mish}'(x) = t + x\,\sigma(x)\,(1 - t^2),
      \quad t = \tanh(\operatorname{softplus}(x))$$

    Args:
        x: floating-point array of any shape.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    t, rest = tanh_softplus(x)
    e = np.exp(-np.abs(x))
    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))  # σ(x) = softplus'(x)
    return t + x * sig * rest * (1 + t)  # 1 - t² = (1 - t)(1 + t)
# --8<-- [end:mish_grad]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    print("x          ", x)
    print("Mish(x)    ", mish(x).round(5))
    print("Mish'(x)   ", mish_grad(x).round(5))

    print("checked against torch.nn.functional.mish")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 5
        xs[:6] = [-1e4, -100.0, -20.0, 20.0, 100.0, 1e4]  # extremes: no overflow, no NaN
        xt = torch.tensor(xs, requires_grad=True)
        y = torch.nn.functional.mish(xt)
        y.sum().backward()  # d(sum)/dx_i = Mish'(x_i)
        value_err = np.abs(mish(xs) - y.detach().numpy()).max()
        grad_err = np.abs(mish_grad(xs) - xt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:minimum]
    # Mish dips below zero; its minimum is where the derivative vanishes.
    grid = np.linspace(-3, 0, 300_001)
    i = np.argmin(mish(grid))
    print(f"minimum Mish({grid[i]:.4f}) = {mish(grid[i]):.4f}")
    print(f"Mish'(there) = {mish_grad(grid[i]):.1e}")
    # --8<-- [end:minimum]

    # --8<-- [start:large]
    # Where does tanh round to exactly 1? Above that, tanh(softplus(x)) = 1 and Mish(x) = x.
    for dtype in (torch.float32, torch.float64):
        grid = torch.arange(5.0, 25.0, 1e-4, dtype=dtype)
        first = grid[torch.tanh(grid) == 1][0].item()
        print(f"{dtype!s:13}: torch.tanh(x) == 1 from x = {first:.4f}")

    big = torch.tensor([20.0, 88.0, 89.0, 1e4], requires_grad=True)  # float32
    y = torch.nn.functional.mish(big)
    y.sum().backward()
    print("x          ", big.detach().numpy())
    print("exp(x)     ", torch.exp(big.detach()).numpy())  # overflows past 88.7
    print("torch mish ", y.detach().numpy(), " grad", big.grad.numpy())
    ours = big.detach().numpy()
    print("ours       ", mish(ours), " grad", mish_grad(ours))
    # --8<-- [end:large]

    # --8<-- [start:float32_grad]
    # float32 derivatives against the float64 derivative
    xs = np.arange(4, 10, 1e-3).astype(np.float32)
    xt = torch.tensor(xs, requires_grad=True)
    torch.nn.functional.mish(xt).sum().backward()
    truth = mish_grad(xs.astype(np.float64))
    for name, g in [("torch", xt.grad.numpy()), ("ours", mish_grad(xs))]:
        i = np.argmax(np.abs(g - truth))
        print(f"{name:5}: worst at x = {xs[i]:.3f}: {g[i]:.7f} "
              f"(float64: {truth[i]:.7f}), error {abs(g[i] - truth[i]):.1e}")
    # --8<-- [end:float32_grad]
