"""Figures for the activation pages: each function and its derivative, from the snippets."""

import numpy as np

from fieldguide.plotting import curves
from snippets.activations import leaky_relu as leaky_relu_snippet
from snippets.activations import prelu as prelu_snippet
from snippets.activations import sigmoid as sigmoid_snippet
from snippets.activations import softplus as softplus_snippet
from snippets.activations import tanh as tanh_snippet
from snippets.activations.relu import relu as relu_fn
from snippets.activations.relu import relu_grad

X = np.linspace(-4, 4, 401)


def relu() -> str:
    return curves(
        "fig-relu", X, [("ReLU(x)", relu_fn(X)), ("ReLU′(x)", relu_grad(X))],
        "ReLU and its derivative: slope 1 for positive inputs, 0 for negative ones.",
    )


def leaky_relu() -> str:
    f = leaky_relu_snippet
    return curves(
        "fig-leaky-relu", X,
        [("slope 0.01 (default)", f.leaky_relu(X)),
         ("slope 0.2", f.leaky_relu(X, 0.2)),
         ("derivative, slope 0.2", f.leaky_relu_grad(X, 0.2))],
        "Leaky ReLU: the default slope 0.01 is barely visible; 0.2 shows the idea. "
        "The derivative is 1 for positive inputs and the slope for the rest.",
    )


def prelu() -> str:
    f = prelu_snippet
    series = [(f"a = {a:g}", f.prelu(X, np.array([a]))) for a in (0.25, 0.5, -0.25)]
    grad_input, _ = f.prelu_grad(X, np.array([0.25]))
    return curves(
        "fig-prelu", X, [*series, ("derivative, a = 0.25", grad_input)],
        "PReLU for a few values of the learned slope a (0.25 is torch's initial value), "
        "and its derivative with respect to the input.",
    )


def sigmoid() -> str:
    f = sigmoid_snippet
    x = np.linspace(-8, 8, 401)
    return curves(
        "fig-sigmoid", x, [("σ(x)", f.sigmoid(x)), ("σ′(x)", f.sigmoid_grad(x))],
        "The sigmoid and its derivative: the slope peaks at 1/4 at x = 0 and is close to 0 "
        "once |x| passes about 5 (saturation).",
    )


def tanh() -> str:
    x = np.linspace(-5, 5, 401)
    return curves(
        "fig-tanh", x,
        [("tanh(x)", tanh_snippet.tanh(x)), ("tanh′(x)", tanh_snippet.tanh_grad(x)),
         ("σ(x), for comparison", sigmoid_snippet.sigmoid(x))],
        "tanh is a sigmoid stretched to (−1, 1) and centred on 0; its slope peaks at 1, "
        "four times the sigmoid's.",
    )


def softplus() -> str:
    f = softplus_snippet
    return curves(
        "fig-softplus", X,
        [("β = 1", f.softplus(X)), ("β = 4", f.softplus(X, beta=4.0)),
         ("ReLU", relu_fn(X)), ("derivative, β = 1", f.softplus_grad(X))],
        "Softplus for two sharpness values β next to ReLU: the gap is largest at 0, where "
        "it equals log(2)/β. Its derivative is the sigmoid of βx.",
    )
