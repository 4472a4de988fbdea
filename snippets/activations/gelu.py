r"""GELU, the Gaussian error linear unit, exact and tanh-approximated, with derivatives.

References: Hendrycks and Gimpel, "Gaussian Error Linear Units (GELUs)", arXiv:1606.08415.
Checked against `torch.nn.functional.gelu` with `approximate="none"` and `approximate="tanh"`.
"""

# --8<-- [start:impl]
# --8<-- [start:gaussian]
import math

import numpy as np

# libm's complementary error function, applied elementwise (float64 in, float64 out)
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def normal_cdf(x):
    r"""Standard normal CDF through erfc, accurate far into the left tail.

    $$\Phi(x) = \tfrac{1}{2}\operatorname{erfc}\left(-x/\sqrt{2}\right)$$

    Args:
        x: array of any shape.

    Returns:
        A float64 array with the shape of `x`, in $[0, 1]$.
    """
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * _erfc(-x / math.sqrt(2))  # no 1 + erf(...): nothing cancels for x < 0


def normal_pdf(x):
    r"""Standard normal density.

    $$\varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}}$$

    Args:
        x: array of any shape.

    Returns:
        A float64 array with the shape of `x`.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
# --8<-- [end:gaussian]


# --8<-- [start:gelu]
def gelu(x):
    r"""Exact GELU, elementwise: x times the standard normal CDF at x.

    $$\operatorname{GELU}(x) = x\,\Phi(x)$$

    Evaluated in float64 and rounded once to the dtype of `x`.

    Args:
        x: floating-point array of any shape (integers are computed in float64).

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    dtype = np.result_type(x, 0.0)  # x's dtype; float64 if x holds integers
    return (x * normal_cdf(x)).astype(dtype)
# --8<-- [end:gelu]


# --8<-- [start:gelu_grad]
def gelu_grad(x):
    r"""Derivative of the exact GELU.

    $$\operatorname{GELU}'(x) = \Phi(x) + x\,\varphi(x)$$

    Args:
        x: floating-point array of any shape (integers are computed in float64).

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    dtype = np.result_type(x, 0.0)  # x's dtype; float64 if x holds integers
    return (normal_cdf(x) + x * normal_pdf(x)).astype(dtype)
# --8<-- [end:gelu_grad]


# --8<-- [start:sigmoid]
def _sigmoid(z):
    r"""Logistic sigmoid that never overflows: $\sigma(z) = 1 / (1 + e^{-z})$."""
    e = np.exp(-np.abs(z))  # in (0, 1]: no overflow for any z
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
# --8<-- [end:sigmoid]


# --8<-- [start:gelu_tanh]
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
KAPPA = 0.044715


def gelu_tanh(x):
    r"""GELU with the tanh approximation of $\Phi$ (torch's `approximate="tanh"`).

    $$\operatorname{GELU}_{\tanh}(x) = \tfrac{1}{2}x\,(1 + \tanh u) = x\,\sigma(2u),
      \quad u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)$$

    Args:
        x: floating-point array of any shape; computed in its dtype.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    u = SQRT_2_OVER_PI * (x + KAPPA * x * x * x)
    return x * _sigmoid(2 * u)  # (1 + tanh u) / 2 = σ(2u): nothing cancels for u < 0
# --8<-- [end:gelu_tanh]


# --8<-- [start:gelu_tanh_grad]
def gelu_tanh_grad(x):
    r"""Derivative of the tanh-approximated GELU.

    $$\operatorname{GELU}_{\tanh}'(x) = s + 2x\,s\,(1 - s)\,u',
      \quad s = \sigma(2u),\ u' = \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^2)$$

    Args:
        x: floating-point array of any shape; computed in its dtype.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    u = SQRT_2_OVER_PI * (x + KAPPA * x * x * x)
    du = SQRT_2_OVER_PI * (1 + 3 * KAPPA * x * x)
    s, s_rest = _sigmoid(2 * u), _sigmoid(-2 * u)  # σ(2u) and 1 - σ(2u)
    return s + 2 * x * s * s_rest * du
# --8<-- [end:gelu_tanh_grad]


# --8<-- [start:quick_gelu]
def quick_gelu(x):
    r"""The sigmoid approximation of GELU: swish with slope 1.702.

    $$\operatorname{GELU}(x) \approx x\,\sigma(1.702\,x)$$

    Args:
        x: floating-point array of any shape; computed in its dtype.

    Returns:
        An array with the shape and dtype of `x`.
    """
    x = np.asarray(x)
    return x * _sigmoid(1.702 * x)
# --8<-- [end:quick_gelu]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0])
    print("x               ", x)
    print("GELU(x)         ", gelu(x).round(5))
    print("GELU'(x)        ", gelu_grad(x).round(5))
    print("GELU_tanh(x)    ", gelu_tanh(x).round(5))
    print("GELU_tanh'(x)   ", gelu_tanh_grad(x).round(5))

    cases = [("none", gelu, gelu_grad), ("tanh", gelu_tanh, gelu_tanh_grad)]
    for approximate, f, f_grad in cases:
        print(f'checked against torch.nn.functional.gelu(approximate="{approximate}")')
        for dtype in (np.float64, np.float32):
            xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 5
            xs[:5] = [-1e4, -40.0, -10.0, 10.0, 1e4]  # extremes: no overflow, no NaN
            xt = torch.tensor(xs, requires_grad=True)
            y = torch.nn.functional.gelu(xt, approximate=approximate)
            y.sum().backward()  # d(sum)/dx_i = GELU'(x_i)
            value_err = np.abs(f(xs) - y.detach().numpy()).max()
            grad_err = np.abs(f_grad(xs) - xt.grad.numpy()).max()
            name = np.dtype(dtype).name
            print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:tail]
    import mpmath  # arbitrary precision; installed with torch (through sympy)

    mpmath.mp.dps = 50  # 50 significant digits: a reference far beyond float64

    def reference(v):
        """x Φ(x) and Φ(x) + x φ(x) at 50 digits, rounded to float64."""
        v = mpmath.mpf(float(v))
        return float(v * mpmath.ncdf(v)), float(mpmath.ncdf(v) + v * mpmath.npdf(v))

    erf = np.vectorize(math.erf, otypes=[np.float64])
    print("relative error of GELU(x) in float64")
    for v in [-5.0, -8.0, -10.0, -20.0, -37.0]:
        ref = reference(v)[0]
        naive = v * 0.5 * (1 + erf(v / math.sqrt(2)))  # 1 + erf(...) cancels
        theirs = torch.nn.functional.gelu(torch.tensor(v, dtype=torch.float64)).item()
        ours, naive, theirs = (abs(y - ref) / abs(ref) for y in (gelu(v), naive, theirs))
        print(f"x = {v:5}: GELU {ref:10.3e}   ours {ours:.0e}   "
              f"1 + erf form {naive:.0e}   torch {theirs:.0e}")
    print(f"x = -40.0: reference {reference(-40.0)[0]}, ours {gelu(-40.0)}")

    xs = np.arange(-37, 10.01, 0.25)  # down to where x Φ(x) leaves the normal range
    ref = np.array([reference(v) for v in xs])
    value_err = np.max(np.abs(gelu(xs) - ref[:, 0]) / np.abs(ref[:, 0]).clip(1e-300))
    grad_err = np.max(np.abs(gelu_grad(xs) - ref[:, 1]) / np.abs(ref[:, 1]).clip(1e-300))
    print("checked against mpmath at 50 digits, x in [-37, 10]")
    print(f"float64: max |ours - reference| relative value {value_err:.1e}, "
          f"relative grad {grad_err:.1e}")
    # --8<-- [end:tail]

    # --8<-- [start:approximations]
    grid = np.linspace(-10, 10, 20_001)
    exact, exact_grad = gelu(grid), gelu_grad(grid)
    for name, approx, approx_grad in [
        ("tanh", gelu_tanh(grid), gelu_tanh_grad(grid)),
        ("σ(1.702x)", quick_gelu(grid), None),
    ]:
        err = np.abs(approx - exact)
        i = np.argmax(err)
        line = f"{name:10} max |approx - exact| {err[i]:.2e} at |x| = {abs(grid[i]):.2f}"
        if approx_grad is not None:
            line += f", derivative {np.abs(approx_grad - exact_grad).max():.2e}"
        print(line)
    # --8<-- [end:approximations]

    # --8<-- [start:same_formula]
    # The tanh formula written out with torch operations (Hugging Face's "gelu_new")
    # against torch's own kernel (its "gelu_pytorch_tanh"), in float32
    xt = torch.tensor(grid, dtype=torch.float32)
    c = math.sqrt(2.0 / math.pi)
    written_out = 0.5 * xt * (1.0 + torch.tanh(c * (xt + 0.044715 * torch.pow(xt, 3.0))))
    fused = torch.nn.functional.gelu(xt, approximate="tanh")
    diff = (written_out - fused).abs()
    print(f"max |written out - fused| {diff.max().item():.1e}, "
          f"on {(diff > 0).float().mean().item():.1%} of the inputs")
    # --8<-- [end:same_formula]

    # --8<-- [start:float32_grad]
    # float32 derivatives against the float64 derivative of the same formula
    xs = np.arange(3, 9, 1e-3).astype(np.float32)
    xt = torch.tensor(xs, requires_grad=True)
    torch.nn.functional.gelu(xt, approximate="tanh").sum().backward()
    truth = gelu_tanh_grad(xs.astype(np.float64))
    for name, g in [("torch", xt.grad.numpy()), ("ours", gelu_tanh_grad(xs))]:
        i = np.argmax(np.abs(g - truth))
        print(f"{name:5}: worst at x = {xs[i]:.3f}: {g[i]:.7f} "
              f"(float64: {truth[i]:.7f}), error {abs(g[i] - truth[i]):.1e}")
    # --8<-- [end:float32_grad]
