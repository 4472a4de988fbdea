r"""Back-propagation through time by hand (NumPy), truncated BPTT, gradients through time, clipping.

References: Werbos, "Backpropagation Through Time: What It Does and How to Do It", Proc. IEEE
1990; Williams and Peng, "An Efficient Gradient-Based Algorithm for On-Line Training of
Recurrent Network Trajectories", Neural Computation 1990; Pascanu, Mikolov and Bengio, "On the
difficulty of training recurrent neural networks", ICML 2013. Checked against `torch.autograd`
and `torch.nn.utils.clip_grad_norm_`.
"""

# --8<-- [start:impl]
# --8<-- [start:forward]
import numpy as np


def rnn_forward(x, h0, W_ih, W_hh, b):
    r"""Run the tanh cell over a sequence and keep every state for the backward pass.

    $$a_t = W_{ih} x_t + W_{hh} h_{t-1} + b, \qquad h_t = \tanh(a_t)$$

    Args:
        x: inputs, shape (T, B, C).
        h0: initial state, shape (B, H).
        W_ih: input weights, shape (H, C).
        W_hh: recurrent weights, shape (H, H).
        b: bias, shape (H,) (PyTorch's b_ih + b_hh).

    Returns:
        `hs`, shape (T + 1, B, H), with `hs[0] = h0` and `hs[t]` the state after step t.
    """
    T, B, _ = x.shape
    H = W_hh.shape[0]
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    hs[0] = h0
    for t in range(1, T + 1):
        a = x[t - 1] @ W_ih.T + hs[t - 1] @ W_hh.T + b  # (B, C)@(C, H) + (B, H)@(H, H)
        hs[t] = np.tanh(a)  # (B, H)
    return hs
# --8<-- [end:forward]


# --8<-- [start:backward]
def rnn_backward(x, hs, W_ih, W_hh, g, k=None):
    r"""Back-propagation through time, given each step's direct loss gradient.

    $$\delta_t = \bigl(g_t + W_{hh}^\top \delta_{t+1}\bigr) \odot (1 - h_t^2)$$

    Args:
        x: inputs, shape (T, B, C).
        hs: states from `rnn_forward`, shape (T + 1, B, H).
        W_ih: input weights, shape (H, C).
        W_hh: recurrent weights, shape (H, H).
        g: $\partial \ell / \partial h_t$ through the loss terms of step t alone, (T, B, H).
        k: truncation length, an integer at least 1: if given, no gradient crosses the
            states h_k, h_2k, ... (as if they were detached), otherwise full BPTT.

    Returns:
        `(dx, dh0, dW_ih, dW_hh, db)`, shaped like `x`, `hs[0]`, `W_ih`, `W_hh`, and (H,).
    """
    if k is not None and k < 1:
        raise ValueError(f"the truncation length k must be at least 1, got {k}")
    T = x.shape[0]
    dx, dW_ih, dW_hh = np.zeros_like(x), np.zeros_like(W_ih), np.zeros_like(W_hh)
    db = np.zeros(W_hh.shape[0], dtype=x.dtype)
    carry = np.zeros_like(hs[0])  # W_hh^T delta_{t+1}: what step t+1 sends back, (B, H)
    for t in range(T, 0, -1):
        delta = (g[t - 1] + carry) * (1 - hs[t] ** 2)  # dL/da_t, (B, H)
        dW_hh += delta.T @ hs[t - 1]  # (H, B) @ (B, H) -> (H, H)
        dW_ih += delta.T @ x[t - 1]  # (H, B) @ (B, C) -> (H, C)
        db += delta.sum(axis=0)  # (H,)
        dx[t - 1] = delta @ W_ih  # (B, H) @ (H, C) -> (B, C)
        carry = delta @ W_hh  # (B, H) @ (H, H) -> (B, H): dL/dh_{t-1} from step t
        if k is not None and (t - 1) % k == 0 and t > 1:
            carry = np.zeros_like(carry)  # h_{t-1} was detached: nothing flows back
    return dx, carry, dW_ih, dW_hh, db
# --8<-- [end:backward]


# --8<-- [start:jacobian]
def jacobian_through_time(hs, W_hh, linear=False):
    r"""The Jacobian of the last state with respect to the first, one batch element.

    $$\frac{\partial h_T}{\partial h_0}
      = \prod_{t=T}^{1} \operatorname{diag}(1 - h_t^2)\, W_{hh}$$

    Args:
        hs: states of one sequence, shape (T + 1, H) (from `rnn_forward`, batch index
            dropped); unused if `linear`.
        W_hh: recurrent weights, shape (H, H).
        linear: the cell is $h_t = W_{hh} h_{t-1} + \dots$ with no tanh.

    Returns:
        The (H, H) matrix $\partial h_T / \partial h_0$.
    """
    J = np.eye(W_hh.shape[0], dtype=W_hh.dtype)  # dh_0/dh_0
    for t in range(1, hs.shape[0]):
        step = W_hh if linear else (1 - hs[t] ** 2)[:, None] * W_hh  # dh_t/dh_{t-1}
        J = step @ J  # (H, H) @ (H, H): dh_t/dh_0
    return J
# --8<-- [end:jacobian]


# --8<-- [start:clip]
def clip_grad_norm(grads, max_norm, eps=1e-6):
    r"""Scale gradients so that their joint Euclidean norm is at most `max_norm`.

    $$G \leftarrow G \cdot \min\Bigl(1, \frac{c}{\lVert G \rVert_2 + \epsilon}\Bigr)$$

    Args:
        grads: list of arrays.
        max_norm: the largest norm $c$ allowed.
        eps: added to the norm before dividing, as in PyTorch.

    Returns:
        `(clipped, total_norm)`: the scaled arrays and the norm before scaling.
    """
    total = np.sqrt(sum(float(np.sum(gi.astype(np.float64) ** 2)) for gi in grads))
    scale = np.minimum(1.0, max_norm / (total + eps))  # NaN stays NaN, as in torch
    return [gi * gi.dtype.type(scale) for gi in grads], total
# --8<-- [end:clip]
# --8<-- [end:impl]


# --8<-- [start:orthogonal]
def scaled_orthogonal(H, rho, seed=0):
    r"""A random (H, H) matrix $\rho Q$ with $Q$ orthogonal.

    All its eigenvalues have modulus $\rho$ and all its singular values equal $\rho$, so
    its spectral radius and its spectral norm are both $\rho$.

    Args:
        H: size.
        rho: the scale.
        seed: random seed.

    Returns:
        A float64 array of shape (H, H).
    """
    A = np.random.default_rng(seed).normal(size=(H, H))
    Q, R = np.linalg.qr(A)  # (H, H), Q orthogonal
    return rho * Q * np.sign(np.diag(R))  # fix the signs: Q is then Haar-distributed
# --8<-- [end:orthogonal]


# --8<-- [start:gradient_norms]
def gradient_norms(rho, T_max=100, H=32, seed=0):
    r"""$\lVert \partial h_T / \partial h_0 \rVert_2$ for $T = 1, \dots, T_{max}$.

    Args:
        rho: spectral radius (and spectral norm) of $W_{hh} = \rho Q$.
        T_max: longest horizon.
        H: hidden size; the input size is H as well.
        seed: random seed of the weights and inputs.

    Returns:
        `(linear, tanh)`: two arrays of length `T_max`, the spectral norms of the
        Jacobian for a linear cell and for the tanh cell on the same weights and inputs.
    """
    rng = np.random.default_rng(seed)
    W_hh = scaled_orthogonal(H, rho, seed)
    W_ih = rng.normal(size=(H, H)) / np.sqrt(H)  # inputs of unit size per unit
    x = rng.normal(size=(T_max, 1, H))  # (T, B=1, C=H)
    hs = rnn_forward(x, np.zeros((1, H)), W_ih, W_hh, np.zeros(H))[:, 0]  # (T+1, H)
    linear, tanh = np.empty(T_max), np.empty(T_max)
    J_lin, J_tanh = np.eye(H), np.eye(H)
    for T in range(1, T_max + 1):  # extend the product by one step at a time
        J_lin = W_hh @ J_lin  # (H, H) @ (H, H): dh_T/dh_0 of the linear cell
        J_tanh = ((1 - hs[T] ** 2)[:, None] * W_hh) @ J_tanh  # (H, H) @ (H, H)
        linear[T - 1] = np.linalg.norm(J_lin, 2)
        tanh[T - 1] = np.linalg.norm(J_tanh, 2)
    return linear, tanh
# --8<-- [end:gradient_norms]


if __name__ == "__main__":
    # --8<-- [start:check]
    import torch

    def torch_rnn(x, h0, W_ih, W_hh, b, k=None):
        """The same cell in torch; with k, the state is detached every k steps."""
        h, hs = h0, []
        for t in range(x.shape[0]):
            if k is not None and t > 0 and t % k == 0:
                h = h.detach()  # truncated BPTT: cut the graph here
            h = torch.tanh(x[t] @ W_ih.T + h @ W_hh.T + b)  # (B, H)
            hs.append(h)
        return torch.stack(hs)  # (T, B, H)

    T, B, C, H = 12, 3, 4, 5
    cases = [(None, ""), (4, " with h.detach() every 4 steps (truncated BPTT)")]
    for k, label in cases:
        print(f"checked against torch.autograd{label}")
        for dtype in (np.float64, np.float32):
            rng = np.random.default_rng(0)
            args = [rng.normal(size=s).astype(dtype) for s in
                    [(T, B, C), (B, H), (H, C), (H, H), (H,)]]  # x, h0, W_ih, W_hh, b
            g = rng.normal(size=(T, B, H)).astype(dtype)  # dl/dh_t from a readout
            hs = rnn_forward(*args)
            grads = rnn_backward(args[0], hs, args[2], args[3], g, k=k)
            leaves = [torch.tensor(a, requires_grad=True) for a in args]
            hs_t = torch_rnn(*leaves, k=k)
            (hs_t * torch.tensor(g)).sum().backward()  # loss with dl/dh_t = g_t
            v = np.abs(hs[1:] - hs_t.detach().numpy()).max()
            e = max(np.abs(a - lt.grad.numpy()).max()
                    for a, lt in zip(grads, leaves, strict=True))
            name = np.dtype(dtype).name
            print(f"{name}: max |ours - torch| value {v:.1e}, grad {e:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:numbers]
    print(" rho    T   rho^T      linear     tanh")
    for rho in (0.9, 1.0, 1.1):
        linear, tanh = gradient_norms(rho)
        for T in (10, 50, 100):
            print(f"{rho:4.1f} {T:4d}  {rho**T:9.3e}  {linear[T - 1]:9.3e}  "
                  f"{tanh[T - 1]:9.3e}")
    # --8<-- [end:numbers]

    # --8<-- [start:check_clip]
    rng = np.random.default_rng(1)
    print("checked against torch.nn.utils.clip_grad_norm_")
    for dtype in (np.float64, np.float32):
        grads = [rng.normal(size=s).astype(dtype) * 10 for s in [(5, 4), (5, 5), (5,)]]
        params = [torch.zeros(gi.shape, dtype=torch.tensor(gi).dtype) for gi in grads]
        for p, gi in zip(params, grads, strict=True):
            p.grad = torch.tensor(gi)
        total_t = torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)  # the one line
        ours, total = clip_grad_norm(grads, 1.0)
        v = max(np.abs(o - p.grad.numpy()).max()
                for o, p in zip(ours, params, strict=True))
        name = np.dtype(dtype).name
        print(f"norm before clipping: ours {total:.4f}, torch {total_t.item():.4f}")
        print(f"{name}: max |ours - torch| value {v:.1e}")
    # --8<-- [end:check_clip]
