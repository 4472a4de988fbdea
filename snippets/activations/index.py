r"""Vanishing gradients: how much gradient reaches the first layer of a deep stack.

A plain stack of fully connected layers, forward and backward written by hand, run twice
with the same weights: once with sigmoid, once with ReLU. The sigmoid's derivative is at
most 1/4, so each layer scales the backward signal down; ReLU's is exactly 1 on active
units. References: Hochreiter et al., "Gradient Flow in Recurrent Nets: the Difficulty
of Learning Long-Term Dependencies" (2001); Glorot and Bengio, "Understanding the
difficulty of training deep feedforward neural networks", AISTATS 2010. Checked against
`torch.autograd`.
"""

# --8<-- [start:impl]
# --8<-- [start:activations]
import numpy as np


def sigmoid(z):
    e = np.exp(-np.abs(z))  # stable for any z
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


ACTIVATIONS = {  # name -> (f, f') with f' written in terms of the pre-activation z
    # sigma' = sigma (1 - sigma), written sigma(z) sigma(-z): no cancellation; <= 1/4
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * sigmoid(-z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),  # 0 or 1
}
# --8<-- [end:activations]


# --8<-- [start:init_stack]
def init_stack(depth, width, seed=0, dtype=np.float64):
    r"""He-initialised weights and zero biases for a stack of equal-width layers.

    $$W_l \sim \mathcal{N}(0, 2/n), \quad b_l = 0$$

    (He et al., 2015: the scale that keeps ReLU activations from shrinking or growing.)

    Args:
        depth: number of layers d.
        width: units per layer n (input width too).
        seed: random seed.
        dtype: float dtype of the parameters.

    Returns:
        A list of d pairs `(W, b)`, W of shape (n, n), b of shape (n,).
    """
    rng = np.random.default_rng(seed)
    std = np.sqrt(2 / width)
    return [
        ((rng.normal(size=(width, width)) * std).astype(dtype), np.zeros(width, dtype))
        for _ in range(depth)
    ]
# --8<-- [end:init_stack]


# --8<-- [start:forward]
def forward(x, params, activation):
    r"""Forward pass $h_l = f(z_l)$, $z_l = h_{l-1} W_l^\top + b_l$, $h_0 = x$.

    Args:
        x: inputs, shape (B, n).
        params: the list from `init_stack`.
        activation: "sigmoid" or "relu".

    Returns:
        `(zs, hs)`: the d pre-activations and the d + 1 activations (hs[0] is x),
        each of shape (B, n).
    """
    f, _ = ACTIVATIONS[activation]
    zs, hs = [], [x]
    for W, b in params:
        zs.append(hs[-1] @ W.T + b)  # (B, n) x (n, n) -> (B, n)
        hs.append(f(zs[-1]))
    return zs, hs
# --8<-- [end:forward]


# --8<-- [start:loss_and_grads]
def loss_and_grads(x, params, activation):
    r"""Loss $L = \frac{1}{2B}\sum_i \lVert h_d^{(i)} \rVert^2$ and its gradients.

    With $\delta_l = \partial L / \partial z_l$:

    $$\delta_l = \frac{\partial L}{\partial h_l} \odot f'(z_l), \quad
      \frac{\partial L}{\partial W_l} = \delta_l^\top h_{l-1}, \quad
      \frac{\partial L}{\partial h_{l-1}} = \delta_l W_l$$

    Args:
        x: inputs, shape (B, n).
        params: the list from `init_stack`.
        activation: "sigmoid" or "relu".

    Returns:
        `(loss, grads)`: a float and a list of d pairs `(dW, db)` shaped like `params`.
    """
    _, f_prime = ACTIVATIONS[activation]
    zs, hs = forward(x, params, activation)
    B = x.shape[0]
    loss = 0.5 * (hs[-1] ** 2).sum() / B
    dh = hs[-1] / B  # dL/dh_d, shape (B, n)
    grads = []
    for (W, _), z, h_prev in zip(params[::-1], zs[::-1], hs[-2::-1], strict=True):
        dz = dh * f_prime(z)  # (B, n): each unit scales the signal by f'(z)
        grads.append((dz.T @ h_prev, dz.sum(axis=0)))  # (n, B) x (B, n) -> (n, n)
        dh = dz @ W  # (B, n) x (n, n) -> (B, n): passed to the layer below
    return loss, grads[::-1]
# --8<-- [end:loss_and_grads]


# --8<-- [start:weight_grad_norms]
def weight_grad_norms(x, params, activation):
    r"""Size of the weight gradient that reaches each layer, first layer first.

    $$\lVert \partial L / \partial W_l \rVert_F, \quad l = 1, \dots, d$$

    Args:
        x: inputs, shape (B, n).
        params: the list from `init_stack`.
        activation: "sigmoid" or "relu".

    Returns:
        An array of d norms.
    """
    _, grads = loss_and_grads(x, params, activation)
    return np.array([np.linalg.norm(dW) for dW, _ in grads])
# --8<-- [end:weight_grad_norms]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:demo]
    depth, width, batch = 20, 64, 128
    params = init_stack(depth, width)  # the same weights for both activations
    x = np.random.default_rng(1).normal(size=(batch, width))
    norms = {a: weight_grad_norms(x, params, a) for a in ("sigmoid", "relu")}
    print("layer   |dL/dW| sigmoid   |dL/dW| relu")
    for layer in (1, 2, 5, 10, 15, 20):
        s, r = norms["sigmoid"][layer - 1], norms["relu"][layer - 1]
        print(f"{layer:5d}   {s:16.2e}   {r:13.2e}")
    for a, n in norms.items():
        print(f"{a}: first layer / last layer = {n[0] / n[-1]:.1e}")
    s_max = [np.linalg.norm(W, 2) for W, _ in params]  # largest singular values
    print(f"largest singular value of each W_l: {min(s_max):.2f} to {max(s_max):.2f}")
    # --8<-- [end:demo]

    # --8<-- [start:check]
    import torch

    def torch_grads(x, params, activation):
        """The same network and loss in torch; (loss, [(dW, db), ...]) by autograd."""
        f = torch.sigmoid if activation == "sigmoid" else torch.relu
        ws = [
            (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
            for W, b in params
        ]
        h = torch.tensor(x)
        for W, b in ws:
            h = f(torch.nn.functional.linear(h, W, b))  # h W^T + b
        loss = 0.5 * (h**2).sum() / x.shape[0]
        loss.backward()
        return loss.item(), [(W.grad.numpy(), b.grad.numpy()) for W, b in ws]

    for a in ("sigmoid", "relu"):
        print(f"checked against torch.autograd, {a} stack")
        for dtype in (np.float64, np.float32):
            p = init_stack(depth, width, dtype=dtype)
            xs = x.astype(dtype)
            loss, grads = loss_and_grads(xs, p, a)
            t_loss, t_grads = torch_grads(xs, p, a)
            # each layer's gradient error relative to that layer's largest entry
            rel = max(np.abs(g - tg).max() / np.abs(tg).max()
                      for pair, t_pair in zip(grads, t_grads, strict=True)
                      for g, tg in zip(pair, t_pair, strict=True))
            name = np.dtype(dtype).name
            print(f"{name}: max |ours - torch| value {abs(loss - t_loss):.1e}, "
                  f"relative grad {rel:.1e}")
    # --8<-- [end:check]
