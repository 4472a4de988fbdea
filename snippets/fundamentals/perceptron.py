r"""The artificial neuron $f(w \cdot x + b)$, what its weights and its bias do, and the
perceptron learning rule.

References: Rosenblatt, "The perceptron: a probabilistic model for information storage and
organization in the brain", Psychological Review 1958; Novikoff, "On convergence proofs on
perceptrons", 1962. Checked against `torch.nn.Linear` followed by `torch.sigmoid`.
"""

# --8<-- [start:impl]
# --8<-- [start:neuron]
import numpy as np


def sigmoid(z):
    r"""The logistic function $\sigma(z) = 1 / (1 + e^{-z})$, without overflow.

    Args:
        z: float array of any shape.

    Returns:
        An array with the shape and dtype of `z`, in $[0, 1]$.
    """
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def neuron(x, w, b):
    r"""One neuron with a sigmoid activation, $\sigma(w \cdot x + b)$.

    Args:
        x: (..., D) inputs: one example of D numbers, or any batch of them.
        w: (D,) weights.
        b: the bias, a number.

    Returns:
        The (...) outputs, one per example.
    """
    z = x @ w + b  # (..., D) @ (D,) -> (...): weighted sum, shifted by the bias
    return sigmoid(z)
# --8<-- [end:neuron]


# --8<-- [start:neuron_backward]
def neuron_backward(x, w, b, g):
    r"""Gradients of $\sum g \cdot \sigma(w \cdot x + b)$ with respect to $w$, $b$ and $x$.

    Args:
        x: (..., D) inputs.
        w: (D,) weights.
        b: the bias.
        g: (...) gradient arriving at each output.

    Returns:
        `(dw, db, dx)` with the shapes of `w`, `b` (0-d) and `x`.
    """
    z = x @ w + b  # (...)
    dz = g * sigmoid(z) * sigmoid(-z)  # sigma'(z), without the cancelling 1 - sigma(z)
    dw = np.tensordot(dz, x, axes=dz.ndim)  # sum over the batch of dz * x -> (D,)
    db = dz.sum()  # the bias's input is a constant 1
    dx = dz[..., None] * w  # (..., 1) * (D,) -> (..., D)
    return dw, db, dx
# --8<-- [end:neuron_backward]
# --8<-- [end:impl]


# --8<-- [start:train]
def train_perceptron(X, y, max_epochs=100):
    r"""Rosenblatt's rule: for each misclassified example, $w \leftarrow w + y x$,
    $b \leftarrow b + y$.

    Args:
        X: (N, D) inputs.
        y: (N,) labels, each -1 or +1.
        max_epochs: passes over the data before giving up.

    Returns:
        `(w, b, mistakes)`: the (D,) weights, the bias, and the number of updates made
        in each epoch. It has converged if the last count is 0.

    Raises:
        ValueError: if a label is not -1 or +1, or an input is not finite.
    """
    if not np.all((y == 1) | (y == -1)):
        raise ValueError("train_perceptron: labels must be -1 or +1")
    if not np.all(np.isfinite(X)):  # NaN would make every test below False: no update
        raise ValueError("train_perceptron: inputs must be finite")
    Xa = np.hstack([X, np.ones((len(X), 1))])  # (N, D + 1): b is the weight of a 1
    wa = np.zeros(Xa.shape[1])  # (D + 1,): start at w = 0, b = 0
    mistakes = []
    for _ in range(max_epochs):
        count = 0
        for xi, yi in zip(Xa, y, strict=True):
            if yi * (wa @ xi) <= 0:  # wrong side of the boundary, or on it
                wa = wa + yi * xi
                count += 1
        mistakes.append(count)
        if count == 0:  # a clean pass: every example is classified correctly
            break
    return wa[:-1], wa[-1], mistakes
# --8<-- [end:train]


# --8<-- [start:data]
def separable_data(n, seed, margin=0.1):
    r"""Points in $[-1, 1]^2$ labelled by a random line that need not pass through 0,
    keeping only those at least `margin` away from it (measured as $u \cdot (x, 1)$ for
    the unit vector $u$ of the line).

    Args:
        n: number of points drawn before the ones too close to the line are dropped.
        seed: seed of the random generator.
        margin: the smallest $|u \cdot (x, 1)|$ kept.

    Returns:
        `(X, y, u)`: (M, 2) points, (M,) labels in {-1, +1}, and the unit (3,) vector $u$.
    """
    rng = np.random.default_rng(seed)
    u = rng.normal(size=3)
    u /= np.linalg.norm(u)
    X = rng.uniform(-1, 1, size=(n, 2))
    s = np.hstack([X, np.ones((n, 1))]) @ u  # (n,): signed score of the true line
    keep = np.abs(s) >= margin
    return X[keep], np.sign(s[keep]), u
# --8<-- [end:data]


if __name__ == "__main__":
    # --8<-- [start:demo]
    x = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 0.0]])  # (3, 2): three examples
    w = np.array([0.8, -0.4])
    for b in (0.0, 1.5):
        print(f"b = {b}: outputs {neuron(x, w, b).round(4)}")
    # --8<-- [end:demo]

    # --8<-- [start:origin]
    rng = np.random.default_rng(0)
    origin = np.zeros(2)
    for _ in range(3):
        w = rng.normal(size=2)
        y0 = neuron(origin, w, 0.0)
        print(f"w = {w.round(3)}: w.0 = {w @ origin}, neuron(0) = {y0}")
    # A 1-D task whose boundary is at x = 2: no weight alone can do it.
    x1 = np.array([[1.0], [1.5], [2.5], [3.0]])  # (4, 1)
    y1 = np.array([-1, -1, 1, 1])
    def accuracy(w, b):
        return np.mean(np.where(x1 @ [w] + b > 0, 1, -1) == y1)

    best = max(accuracy(w, 0.0) for w in np.linspace(-9, 9, 1801))  # 1801 weights
    print("best accuracy without a bias:", best)
    print("accuracy with w = 1, b = -2: ", accuracy(1.0, -2.0))
    # --8<-- [end:origin]

    # --8<-- [start:converge]
    X, y, u = separable_data(200, seed=1)
    w, b, mistakes = train_perceptron(X, y)
    Xa = np.hstack([X, np.ones((len(X), 1))])
    R = np.linalg.norm(Xa, axis=1).max()  # radius of the data, bias input included
    gamma = (y * (Xa @ u)).min()  # margin of the line that made the labels
    print(f"{len(X)} points, R = {R:.3f}, gamma = {gamma:.3f}")
    print(f"updates per epoch: {mistakes}")
    print(f"total {sum(mistakes)} <= (R/gamma)^2 = {(R / gamma) ** 2:.0f}")
    print("all classified correctly:", bool(np.all(np.sign(X @ w + b) == y)))
    # --8<-- [end:converge]

    # --8<-- [start:xor]
    X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y_xor = np.array([-1, 1, 1, -1])
    wa = np.zeros(3)  # (w1, w2, b), as in train_perceptron
    for epoch in range(2):
        for xi, yi in zip(np.hstack([X_xor, np.ones((4, 1))]), y_xor, strict=True):
            if yi * (wa @ xi) <= 0:
                wa = wa + yi * xi
                print(f"epoch {epoch}: mistake on {xi[:2]}, (w1, w2, b) -> {wa}")
    w, b, mistakes = train_perceptron(X_xor, y_xor, max_epochs=1000)
    print("updates in each of the first 5 of 1000 epochs:", mistakes[:5])
    print("epochs without a mistake:", mistakes.count(0))
    # --8<-- [end:xor]

    # --8<-- [start:check]
    import torch

    print("checked against torch.nn.Linear + torch.sigmoid")
    rng = np.random.default_rng(0)
    D = 5
    x64, w64, b64 = rng.normal(size=(3, 4, D)), rng.normal(size=D), rng.normal()
    g64 = rng.normal(size=(3, 4))  # gradient arriving at the outputs
    for dtype in (np.float64, np.float32):
        x, w, b, g = x64.astype(dtype), w64.astype(dtype), dtype(b64), g64.astype(dtype)
        layer = torch.nn.Linear(D, 1, dtype=torch.from_numpy(x).dtype)  # weight (1, D)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w)[None, :])  # torch stores (out, in)
            layer.bias.fill_(float(b))
        xt = torch.tensor(x, requires_grad=True)
        out = torch.sigmoid(layer(xt)).squeeze(-1)  # (3, 4, 1) -> (3, 4)
        out.backward(torch.from_numpy(g))
        dw, db, dx = neuron_backward(x, w, b, g)
        value = np.abs(neuron(x, w, b) - out.detach().numpy()).max()
        grad = max(np.abs(dw - layer.weight.grad[0].numpy()).max(),
                   abs(db - layer.bias.grad[0].item()),
                   np.abs(dx - xt.grad.numpy()).max())
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value:.1e}, grad {grad:.1e}")
    # --8<-- [end:check]
