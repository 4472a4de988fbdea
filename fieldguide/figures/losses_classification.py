"""Figures for the classification-loss pages, drawn from the snippets' own functions."""

import numpy as np

from fieldguide.plotting import curves
from snippets.losses.bce import binary_cross_entropy
from snippets.losses.cross_entropy import (
    sparse_categorical_cross_entropy,
    sparse_categorical_cross_entropy_grad,
)
from snippets.losses.kl_div import kl_div as kl_div_fn
from snippets.losses.label_smoothing import cross_entropy_label_smoothing
from snippets.losses.loss_questions import sigmoid_ce_grad, sigmoid_mse_grad

P = np.linspace(0, 1, 401)
Z = np.linspace(-8, 8, 401)


def bce() -> str:
    none = {"reduction": "none"}
    return curves(
        "fig-bce", P,
        [("label y = 1", binary_cross_entropy(P, np.ones_like(P), **none)),
         ("label y = 0", binary_cross_entropy(P, np.zeros_like(P), **none)),
         ("soft label y = 0.3", binary_cross_entropy(P, np.full_like(P, 0.3), **none))],
        "Binary cross-entropy against the predicted probability: it grows without bound "
        "(up to torch's clamp at 100) as the prediction approaches the wrong certainty.",
        xlabel="predicted probability p", ylabel="loss (nats)", ylim=(0, 6),
    )


def cross_entropy() -> str:
    # three classes, logits (z, 0, 0), label 0
    logits = np.stack([Z, 0 * Z, 0 * Z], axis=1)
    labels = np.zeros(Z.size, dtype=int)
    loss = sparse_categorical_cross_entropy(logits, labels, reduction="none")
    grad = sparse_categorical_cross_entropy_grad(logits, labels, reduction="none")[:, 0]
    return curves(
        "fig-cross-entropy", Z,
        [("cross-entropy", loss), ("∂loss/∂z (true class)", grad)],
        "Cross-entropy of three classes with logits (z, 0, 0) and label 0: the loss falls "
        "linearly while z is wrong and flattens once it is right; the gradient is p − 1.",
        xlabel="logit z of the true class", ylim=(-1.2, 6),
    )


def kl_div() -> str:
    # Bernoulli distributions: p = (0.3, 0.7) fixed, q = (r, 1 - r)
    r = np.linspace(0.005, 0.995, 397)
    q = np.stack([r, 1 - r], axis=1)
    p = np.tile([0.3, 0.7], (r.size, 1))
    forward = kl_div_fn(np.log(q), p, reduction="none").sum(axis=1)
    reverse = kl_div_fn(np.log(p), q, reduction="none").sum(axis=1)
    return curves(
        "fig-kl-div", r,
        [("KL(p ‖ q)", forward), ("KL(q ‖ p)", reverse)],
        "KL divergence between p = (0.3, 0.7) and q = (r, 1 − r): zero only at r = 0.3, "
        "and not symmetric in its two arguments.",
        xlabel="r = q(first outcome)", ylabel="nats", ylim=(0, 2),
    )


def label_smoothing() -> str:
    # four classes, logits (z, 0, 0, 0), label 0
    z = np.linspace(-2, 12, 401)
    logits = np.stack([z, 0 * z, 0 * z, 0 * z], axis=1)
    labels = np.zeros(z.size, dtype=int)
    series = [
        (f"ε = {eps}", cross_entropy_label_smoothing(logits, labels, reduction="none",
                                                     label_smoothing=eps))
        for eps in (0.0, 0.1, 0.3)
    ]
    return curves(
        "fig-label-smoothing", z, series,
        "Loss against the true class's logit gap z (four classes): without smoothing it keeps "
        "falling as z grows; with smoothing it has a minimum at a finite gap.",
        xlabel="logit gap z", ylabel="loss (nats)", ylim=(0, 3),
    )


def mse_vs_ce_gradient() -> str:
    return curves(
        "fig-mse-vs-ce", Z,
        [("cross-entropy: σ(z) − 1", sigmoid_ce_grad(Z, 1.0)),
         ("squared error: 2(σ(z) − 1)σ(z)(1 − σ(z))", sigmoid_mse_grad(Z, 1.0))],
        "Gradient with respect to the logit z when the label is 1. Far to the left the "
        "prediction is confidently wrong: cross-entropy pushes with slope near −1, squared "
        "error hardly at all.",
        xlabel="logit z (label y = 1)", ylabel="∂loss/∂z", ylim=(-1.1, 0.1),
    )
