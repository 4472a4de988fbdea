r"""The multilayer perceptron: layers of neurons, ReLU between them, and the forward pass, with
weights stored as `torch.nn.Linear` stores them, (out, in).

Reference: Rumelhart, Hinton and Williams, "Learning representations by back-propagating
errors", Nature 1986. Checked against `torch.nn.Sequential(Linear, ReLU, ..., Linear)` with the
same weights.
"""

# --8<-- [start:impl]
# --8<-- [start:init]
from itertools import pairwise

import numpy as np


def init_mlp(sizes, seed=0):
    r"""Random weights for layers of the given widths, scaled by $1/\sqrt{\text{in}}$.

    Args:
        sizes: the widths `[D, H1, ..., K]`: input, hidden layers, output.
        seed: seed of the random generator.

    Returns:
        A list of `(W, b)`, one per layer, with `W` of shape (out, in) and `b` of
        shape (out,).
    """
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in pairwise(sizes):
        W = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)  # (out, in), as torch
        b = rng.normal(size=n_out) * 0.1  # (out,)
        layers.append((W, b))
    return layers
# --8<-- [end:init]


# --8<-- [start:forward]
def mlp_forward(x, layers):
    r"""The forward pass: $a_0 = x$, $a_\ell = \mathrm{ReLU}(a_{\ell-1} W_\ell^\top + b_\ell)$,
    and no ReLU after the last layer.

    Args:
        x: (..., D) inputs: one example of shape (D,), or any batch of them.
        layers: list of `(W, b)`, `W` of shape (out, in), `b` of shape (out,).

    Returns:
        `(out, acts)`: the (..., K) outputs and the input of every layer (`acts[0]`
        is `x`), which the backward pass needs.
    """
    acts = [x]
    a = x
    for i, (W, b) in enumerate(layers):
        z = a @ W.T + b  # (..., in) @ (in, out) -> (..., out)
        last = i == len(layers) - 1
        a = z if last else np.maximum(z, 0)  # ReLU on every hidden layer
        if not last:
            acts.append(a)  # (..., out): the input of the next layer
    return a, acts
# --8<-- [end:forward]


# --8<-- [start:backward]
def mlp_backward(layers, acts, g):
    r"""Gradients of $\sum g \odot \text{out}$ with respect to every weight, bias and the input.

    Args:
        layers: the `(W, b)` list given to `mlp_forward`.
        acts: the layer inputs `mlp_forward` returned.
        g: (..., K) gradient arriving at the outputs.

    Returns:
        `(grads, dx)`: a list of `(dW, db)` with the shapes of `layers`, and the
        gradient with respect to the input, with the shape of `x`.
    """
    grads = []
    for i in reversed(range(len(layers))):
        W, _ = layers[i]
        a = acts[i].reshape(-1, W.shape[1])  # (N, in): every batch dimension flattened
        g2 = g.reshape(-1, W.shape[0])  # (N, out)
        grads.append((g2.T @ a, g2.sum(axis=0)))  # (out, in) and (out,): sums over N
        g = g @ W  # (..., out) @ (out, in) -> (..., in)
        if i > 0:  # back through the ReLU that produced acts[i]: 0 where it was off
            g = np.where(acts[i] <= 0, 0, g)  # as torch (a NaN activation passes g on)
    return grads[::-1], g
# --8<-- [end:backward]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:shapes]
    layers = init_mlp([3, 16, 8, 2])  # D = 3, hidden widths 16 and 8, K = 2 outputs
    x = np.random.default_rng(1).normal(size=(5, 3))  # a batch of B = 5 examples
    out, acts = mlp_forward(x, layers)
    for i, (W, b) in enumerate(layers, 1):
        print(f"layer {i}: input {acts[i - 1].shape}, W {W.shape}, b {b.shape}")
    print("output", out.shape)
    print("parameters:", sum(W.size + b.size for W, b in layers))
    print("single example:", mlp_forward(x[0], layers)[0].shape,
          " empty batch:", mlp_forward(x[:0], layers)[0].shape)
    # --8<-- [end:shapes]

    # --8<-- [start:xor]
    W1 = np.array([[1.0, 1.0], [1.0, 1.0]])  # both hidden units compute x1 + x2 ...
    b1 = np.array([0.0, -1.0])  # ... the second one minus 1
    W2 = np.array([[1.0, -2.0]])  # output: h1 - 2 h2
    b2 = np.array([0.0])
    X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    out, acts = mlp_forward(X_xor, [(W1, b1), (W2, b2)])
    for xi, hi, yi in zip(X_xor, acts[1], out[:, 0], strict=True):
        print(f"x = {xi}  hidden = {hi}  output = {yi}")
    # --8<-- [end:xor]

    # --8<-- [start:check]
    import torch

    def torch_mlp(layers):
        """torch.nn.Sequential(Linear, ReLU, ..., Linear) holding copies of `layers`."""
        mods = []
        for W, b in layers:
            dt = torch.from_numpy(W).dtype
            lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))  # both (out, in): no transpose
                lin.bias.copy_(torch.from_numpy(b))
            mods += [lin, torch.nn.ReLU()]
        return torch.nn.Sequential(*mods[:-1])  # no ReLU after the last Linear

    print("checked against torch.nn.Sequential(Linear, ReLU, Linear, ReLU, Linear)")
    for dtype in (np.float64, np.float32):
        ls = [(W.astype(dtype), b.astype(dtype)) for W, b in init_mlp([3, 16, 8, 2])]
        xd = x.astype(dtype)
        g = np.random.default_rng(2).normal(size=(5, 2)).astype(dtype)
        ours, acts = mlp_forward(xd, ls)
        grads, dx = mlp_backward(ls, acts, g)
        net = torch_mlp(ls)
        xt = torch.tensor(xd, requires_grad=True)
        theirs = net(xt)
        theirs.backward(torch.from_numpy(g))
        value = np.abs(ours - theirs.detach().numpy()).max()
        lins = [m for m in net if isinstance(m, torch.nn.Linear)]
        errs = [np.abs(dx - xt.grad.numpy()).max()]
        for (dw, db), lin in zip(grads, lins, strict=True):
            errs += [np.abs(dw - lin.weight.grad.numpy()).max(),
                     np.abs(db - lin.bias.grad.numpy()).max()]
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value:.1e}, grad {max(errs):.1e}")
    # --8<-- [end:check]
