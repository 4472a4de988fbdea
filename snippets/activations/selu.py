r"""SELU, the scaled exponential linear unit: its constants, derivative and self-normalization.

Reference: Klambauer, Unterthiner, Mayr and Hochreiter, "Self-Normalizing Neural
Networks", NeurIPS 2017, arXiv:1706.02515.
Checked against `torch.nn.functional.selu`.
"""

# --8<-- [start:impl]
# --8<-- [start:selu]
import numpy as np

# PyTorch's constants, to the 32 digits its documentation gives
ALPHA = 1.6732632423543772848170429916717  # α
SCALE = 1.0507009873554804934193349852946  # λ


def selu(input):
    r"""Scaled exponential linear unit, elementwise, with PyTorch's $\alpha$ and $\lambda$.

    $$\operatorname{SELU}(x) = \lambda \begin{cases} x & x > 0 \\
    \alpha\,(e^{x} - 1) & x \le 0 \end{cases}$$

    Args:
        input: array of any shape.

    Returns:
        An array with the shape and dtype of `input`, above $-\lambda\alpha \approx -1.7581$.
        NaN stays NaN; zeros keep their sign.
    """
    x = np.asarray(input)
    # λα(e^x - 1) with expm1 (no cancellation near 0) of min(x, 0) (no overflow)
    negative = np.expm1(np.minimum(x, 0)) * (SCALE * ALPHA)
    return np.where(x >= 0, x * SCALE, negative)
# --8<-- [end:selu]


# --8<-- [start:selu_grad]
def selu_grad(input):
    r"""Derivative of SELU: $\lambda$ where $x > 0$, else $\lambda\alpha e^{x}$.

    $$\operatorname{SELU}'(x) = \begin{cases} \lambda & x > 0 \\
    \lambda\alpha\,e^{x} & x \le 0 \end{cases}$$

    At the kink $x = 0$ this returns the left slope $\lambda\alpha$, as torch does.

    Args:
        input: array of any shape.

    Returns:
        An array with the shape and dtype of `input`.
    """
    x = np.asarray(input)
    negative = np.exp(np.minimum(x, 0)) * (SCALE * ALPHA)
    return np.where(x > 0, np.ones_like(x) * SCALE, negative)
# --8<-- [end:selu_grad]
# --8<-- [end:impl]


# --8<-- [start:constants]
def selu_constants():
    r"""$\alpha$ and $\lambda$ that make (mean 0, variance 1) a fixed point for $z \sim N(0, 1)$.

    $$\alpha = \frac{1/\sqrt{2\pi}}{\tfrac12 - \sqrt{e}\,\Phi(-1)}, \qquad
    \lambda = \Big(\tfrac12 + \alpha^2\big(e^2\,\Phi(-2) - 2\sqrt{e}\,\Phi(-1)
    + \tfrac12\big)\Big)^{-1/2}$$

    Returns:
        The pair `(alpha, scale)` as Python floats.
    """
    from math import e, erfc, pi, sqrt

    def cdf(t):  # Φ, the standard normal distribution function
        return erfc(-t / sqrt(2)) / 2

    # E[SELU(z)] = 0: the positive part's mean 1/sqrt(2π) cancels the negative part's
    alpha = (1 / sqrt(2 * pi)) / (0.5 - sqrt(e) * cdf(-1))
    # E[SELU(z)^2] = 1 fixes the scale
    second = 0.5 + alpha**2 * (e**2 * cdf(-2) - 2 * sqrt(e) * cdf(-1) + 0.5)
    return alpha, 1 / sqrt(second)
# --8<-- [end:constants]


# --8<-- [start:stack]
def stack_moments(activation, weight_var, depth=64, width=64, batch=256, seed=0):
    r"""Mean and variance after each layer of a deep bias-free MLP fed standardized inputs.

    Layer $l$ computes $h_l = f(h_{l-1} W_l)$ with $W_l \sim N(0, c/n)$ entrywise.

    Args:
        activation: the elementwise function $f$.
        weight_var: $c$, the weight variance times the fan-in $n$ (1: LeCun normal, 2: He).
        depth: number of layers.
        width: units per layer $n$, the width of the input too.
        batch: number of input rows.
        seed: seed of the inputs and weights (the same draws for every `activation`).

    Returns:
        Two arrays of length `depth`: the mean and the variance over all units and rows.
    """
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((batch, width))  # (B, n): mean 0, variance 1
    means, variances = np.zeros(depth), np.zeros(depth)
    for layer in range(depth):
        w = rng.standard_normal((width, width)) * np.sqrt(weight_var / width)
        h = activation(h @ w)  # (B, n)
        means[layer], variances[layer] = h.mean(), h.var()
    return means, variances
# --8<-- [end:stack]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    x = np.array([-np.inf, -10.0, -1.0, 0.0, 1.0, 10.0])
    print(f"{'x':>6}{'selu(x)':>12}{'selu_grad(x)':>14}")
    for xi, yi, gi in zip(x, selu(x), selu_grad(x), strict=True):
        print(f"{xi:>6g}{yi:>12.6g}{gi:>14.6g}")

    print("checked against torch.nn.functional.selu")
    for dtype in (np.float64, np.float32):
        xs = np.random.default_rng(0).normal(size=1000).astype(dtype) * 5
        xt = torch.tensor(xs, requires_grad=True)
        yt = torch.nn.functional.selu(xt)
        yt.sum().backward()  # d(sum)/dx_i = selu'(x_i)
        value_err = np.abs(selu(xs) - yt.detach().numpy()).max()
        grad_err = np.abs(selu_grad(xs) - xt.grad.numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:torch_constants]
    one, floor = torch.nn.functional.selu(torch.tensor([1.0, -np.inf], dtype=torch.float64))
    torch_scale, torch_alpha = one.item(), -floor.item() / one.item()
    alpha, scale = selu_constants()
    print(f"lambda: torch {torch_scale!r}, ours {SCALE!r}, derived {scale!r}")
    print(f"alpha:  torch {torch_alpha!r}, ours {ALPHA!r}, derived {alpha!r}")
    print(f"derived - torch, relative: lambda {scale / torch_scale - 1:.1e}, "
          f"alpha {alpha / torch_alpha - 1:.1e}")
    # --8<-- [end:torch_constants]

    # --8<-- [start:demo]
    def relu(z):
        return np.maximum(z, 0)

    stacks = {  # name -> (activation f, c in W ~ N(0, c/n))
        "SELU, c = 1": (selu, 1.0),  # LeCun normal
        "SELU, c = 2": (selu, 2.0),  # He normal
        "ReLU, c = 2": (relu, 2.0),  # He normal, ReLU's own choice
    }
    moments = {name: stack_moments(f, c) for name, (f, c) in stacks.items()}
    print("layer" + "".join(f"{name:>20}" for name in moments))
    print(" " * 5 + "      mean  variance" * len(moments))
    for layer in (1, 2, 4, 8, 16, 32, 64):
        i = layer - 1
        row = "".join(f"{m[i]:+10.3f}{v[i]:10.3g}" for m, v in moments.values())
        print(f"{layer:5d}{row}")
    # --8<-- [end:demo]

    # --8<-- [start:torch_init]
    n = 64  # fan-in; 4096 rows make the variance estimates precise
    with torch.random.fork_rng():  # seeded here without touching the global generator
        torch.manual_seed(0)
        weights = {
            "nn.Linear default": torch.nn.Linear(n, 4096).weight,
            "kaiming_normal_, 'selu'":
                torch.nn.init.kaiming_normal_(torch.empty(4096, n), nonlinearity="selu"),
            "kaiming_normal_, 'linear'":
                torch.nn.init.kaiming_normal_(torch.empty(4096, n), nonlinearity="linear"),
        }
    print("calculate_gain('selu') =", torch.nn.init.calculate_gain("selu"))
    for name, w in weights.items():
        c = n * w.var().item()
        variance = stack_moments(selu, c)[1][-1]  # after 64 SELU layers
        print(f"{name:26s} c = {c:.3f}   variance at layer 64: {variance:.3g}")
    # --8<-- [end:torch_init]

    # --8<-- [start:alpha_dropout]
    with torch.random.fork_rng():
        torch.manual_seed(0)
        z = torch.nn.functional.selu(torch.randn(1_000_000, dtype=torch.float64))
        print(f"SELU(z), z ~ N(0, 1): mean {z.mean():+.4f}, variance {z.var():.4f}")
        for layer in (torch.nn.AlphaDropout(p=0.2), torch.nn.Dropout(p=0.2)):
            out = layer.train()(z)  # dropout is only active in training mode
            print(f"{layer!s:34s}: mean {out.mean():+.4f}, variance {out.var():.4f}")
    # --8<-- [end:alpha_dropout]
