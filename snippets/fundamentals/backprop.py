r"""Backpropagation by hand: a scalar reverse-mode automatic differentiation engine, and the
gradients of a two-layer MLP written as matrix formulas.

References: Rumelhart, Hinton and Williams, "Learning representations by back-propagating
errors", Nature 1986; Linnainmaa (1970) for reverse-mode differentiation. Checked against
`torch.autograd`.
"""

# --8<-- [start:impl]
# --8<-- [start:value]
import math


class Value:
    r"""A scalar that remembers how it was computed, so that gradients can flow back to it.

    Args:
        data: the number.
        parents: the `Value`s it was computed from.
        local_grads: $\partial\,\text{self} / \partial\,\text{parent}$ for each parent.
    """

    def __init__(self, data, parents=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0  # d(output)/d(self), filled in by backward()
        self.parents = parents
        self.local_grads = local_grads

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"
# --8<-- [end:value]

# --8<-- [start:ops]
def lift(x):
    """`x` itself if it is a Value, else a constant Value holding it."""
    return x if isinstance(x, Value) else Value(x)


def add(a, b):
    a, b = lift(a), lift(b)
    return Value(a.data + b.data, (a, b), (1.0, 1.0))


def mul(a, b):
    a, b = lift(a), lift(b)
    return Value(a.data * b.data, (a, b), (b.data, a.data))  # d(ab)/da = b, d/db = a


def power(a, k):  # k a plain number
    slope = k * math.pow(a.data, k - 1) if k != 0 else 0.0  # d/da a^k; 0 for k = 0
    return Value(math.pow(a.data, k), (a,), (slope,))


def exp(a):
    e = math.exp(a.data)
    return Value(e, (a,), (e,))  # d/dx e^x = e^x


def log(a):
    return Value(math.log(a.data), (a,), (1.0 / a.data,))


def tanh(a):
    t = math.tanh(a.data)
    return Value(t, (a,), (1.0 - t * t,))


def relu(a):
    slope = 0.0 if a.data <= 0 else 1.0  # 0 at 0 and 1 at NaN, as in torch
    return Value(max(a.data, 0.0), (a,), (slope,))


# Attach them to the class, so that a * b + a.tanh() builds the graph as it computes.
Value.__add__ = Value.__radd__ = add
Value.__mul__ = Value.__rmul__ = mul
Value.__pow__ = power
Value.exp, Value.log, Value.tanh, Value.relu = exp, log, tanh, relu
Value.__neg__ = lambda a: a * -1.0
Value.__sub__ = lambda a, b: a + (-lift(b))
Value.__rsub__ = lambda a, b: lift(b) + (-a)
Value.__truediv__ = lambda a, b: a * lift(b) ** -1
Value.__rtruediv__ = lambda a, b: lift(b) * a**-1
# --8<-- [end:ops]


# --8<-- [start:backward]
def backward(output):
    """Fill in `.grad` of every Value that `output` depends on (reverse mode)."""
    order, seen, stack = [], set(), [(output, False)]
    while stack:  # depth-first search without recursion: deep graphs are fine
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)  # every parent of `node` is already in `order`
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents)
    for node in order:
        node.grad = 0.0
    output.grad = 1.0  # d(output)/d(output)
    for node in reversed(order):  # outputs before inputs
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            parent.grad += local * node.grad  # chain rule; += sums over every use


Value.backward = backward
# --8<-- [end:backward]
# --8<-- [end:impl]


# --8<-- [start:forward]
import numpy as np  # noqa: E402


def mlp_forward(X, W1, b1, W2, b2):
    r"""Two-layer MLP $\hat Y = \mathrm{ReLU}(X W_1^\top + b_1) W_2^\top + b_2$, with weights
    stored as in `torch.nn.Linear`, (out, in).

    Args:
        X: (B, D) inputs.
        W1: (H, D) first-layer weights.
        b1: (H,) first-layer biases.
        W2: (K, H) second-layer weights.
        b2: (K,) second-layer biases.

    Returns:
        `(Y_hat, Z1, A1)`: the (B, K) outputs, and the (B, H) pre-activations and
        activations of the hidden layer, which the backward pass needs.
    """
    Z1 = X @ W1.T + b1  # (B, D) @ (D, H) -> (B, H)
    A1 = np.maximum(Z1, 0)  # (B, H)
    Y_hat = A1 @ W2.T + b2  # (B, H) @ (H, K) -> (B, K)
    return Y_hat, Z1, A1
# --8<-- [end:forward]


# --8<-- [start:backward_matrix]
def mlp_backward(X, Y, W1, W2, Z1, A1, Y_hat):
    r"""Gradients of the mean squared error $\frac{1}{BK}\sum (\hat Y - Y)^2$, by the chain
    rule in matrix form.

    Args:
        X: (B, D) inputs.
        Y: (B, K) targets.
        W1: (H, D) first-layer weights.
        W2: (K, H) second-layer weights.
        Z1: (B, H) hidden pre-activations from `mlp_forward`.
        A1: (B, H) hidden activations from `mlp_forward`.
        Y_hat: (B, K) outputs from `mlp_forward`.

    Returns:
        `(dW1, db1, dW2, db2, dX)`, with the shapes of `W1, b1, W2, b2, X`.
    """
    B, K = Y.shape
    d_out = 2 * (Y_hat - Y) / (B * K)  # (B, K): dL/dY_hat
    dW2 = d_out.T @ A1  # (K, B) @ (B, H) -> (K, H)
    db2 = d_out.sum(axis=0)  # (K,): a bias gets the sum over the batch
    d_A1 = d_out @ W2  # (B, K) @ (K, H) -> (B, H): back through W2
    d_Z1 = d_A1 * (Z1 > 0)  # (B, H): back through ReLU
    dW1 = d_Z1.T @ X  # (H, B) @ (B, D) -> (H, D)
    db1 = d_Z1.sum(axis=0)  # (H,)
    dX = d_Z1 @ W1  # (B, H) @ (H, D) -> (B, D)
    return dW1, db1, dW2, db2, dX
# --8<-- [end:backward_matrix]


if __name__ == "__main__":
    # --8<-- [start:demo]
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a  # `a` is used twice: its gradient is the sum of two paths
    d = (c.tanh() + c**2).log()
    d.backward()
    print("d    ", d)
    print("dd/da", a.grad, " dd/db", b.grad)
    # --8<-- [end:demo]

    # --8<-- [start:deep]
    x = Value(0.5)
    y = x
    for _ in range(10_000):  # a chain ten times deeper than Python's recursion limit
        y = y * 1.0001
    y.backward()
    print("dy/dx", x.grad, " expected", 1.0001**10_000)
    # --8<-- [end:deep]

    # --8<-- [start:mlp_demo]
    rng = np.random.default_rng(0)
    B, D, H, K = 8, 3, 5, 2
    X, Y = rng.normal(size=(B, D)), rng.normal(size=(B, K))
    W1, b1 = rng.normal(size=(H, D)), rng.normal(size=H)
    W2, b2 = rng.normal(size=(K, H)), rng.normal(size=K)
    Y_hat, Z1, A1 = mlp_forward(X, W1, b1, W2, b2)
    grads = mlp_backward(X, Y, W1, W2, Z1, A1, Y_hat)
    for name, g in zip(["dW1", "db1", "dW2", "db2", "dX"], grads, strict=True):
        print(name, g.shape)
    # --8<-- [end:mlp_demo]

    # --8<-- [start:check]
    import torch

    print("checked against torch.autograd (scalar engine, expression above)")
    at = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    ct = at * bt + at
    dt = (ct.tanh() + ct**2).log()
    dt.backward()
    value = abs(d.data - dt.item())
    grad = max(abs(a.grad - at.grad.item()), abs(b.grad - bt.grad.item()))
    print(f"float64: max |ours - torch| value {value:.1e}, grad {grad:.1e}")

    print("checked against torch.autograd (matrix formulas, two-layer MLP)")
    for dtype in (np.float64, np.float32):
        arrays = [v.astype(dtype) for v in (X, Y, W1, b1, W2, b2)]
        Xd, Yd, W1d, b1d, W2d, b2d = arrays
        Y_hat, Z1, A1 = mlp_forward(Xd, W1d, b1d, W2d, b2d)
        ours = mlp_backward(Xd, Yd, W1d, W2d, Z1, A1, Y_hat)
        tensors = [torch.tensor(v, requires_grad=True) for v in arrays]
        x_, y_, w1_, b1_, w2_, b2_ = tensors
        out = torch.relu(x_ @ w1_.T + b1_) @ w2_.T + b2_  # the same MLP in torch
        loss = torch.nn.functional.mse_loss(out, y_)
        theirs = torch.autograd.grad(loss, [w1_, b1_, w2_, b2_, x_])
        value = np.abs(Y_hat - out.detach().numpy()).max()
        pairs = zip(ours, theirs, strict=True)
        grad = max(np.abs(o - t.numpy()).max() for o, t in pairs)
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value:.1e}, grad {grad:.1e}")
    # --8<-- [end:check]
