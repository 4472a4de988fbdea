r"""A neural network as a function approximator: one hidden layer of ReLUs fitted to sin on
[-pi, pi], its linear pieces and their kinks, and a hand-built network that interpolates.

References: Cybenko, "Approximation by superpositions of a sigmoidal function", 1989;
Leshno, Lin, Pinkus and Schocken, "Multilayer feedforward networks with a nonpolynomial
activation function can approximate any function", Neural Networks 1993. Checked against
`torch.nn.Sequential(Linear(1, H), ReLU(), Linear(H, 1))` with the same weights.
"""

# --8<-- [start:impl]
# --8<-- [start:net]
import numpy as np


def net(x, w, b, v, c):
    r"""One input, one hidden layer of ReLUs, one output:
    $f(x) = c + \sum_i v_i \max(0, w_i x + b_i)$.

    Args:
        x: (N,) inputs.
        w: (H,) input weights of the hidden units.
        b: (H,) their biases.
        v: (H,) output weights.
        c: the output bias.

    Returns:
        `(f, z)`: the (N,) outputs and the (N, H) hidden pre-activations.
    """
    z = np.outer(x, w) + b  # (N, H): unit i's pre-activation at every x
    return np.maximum(z, 0) @ v + c, z  # (N, H) @ (H,) -> (N,)
# --8<-- [end:net]


# --8<-- [start:fit]
def fit(f, hidden=16, steps=2000, lr=0.01, n=100, seed=0):
    r"""Fit `net` to `f` on $[-\pi, \pi]$ by full-batch Adam on the mean squared error.

    Args:
        f: the function to approximate, applied to an (n,) array.
        hidden: number of hidden units H.
        steps: number of Adam steps.
        lr: Adam's learning rate.
        n: number of evenly spaced training points.
        seed: seed of the random initial weights.

    Returns:
        `((w, b, v, c), losses)`: the fitted parameters and the loss before each step.
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(-np.pi, np.pi, n)
    y = f(x)
    H = hidden
    theta = np.concatenate([rng.uniform(-1, 1, 2 * H),  # w, b
                            rng.uniform(-1, 1, H) / np.sqrt(H), [0.0]])  # v, c
    w, b, v = theta[:H], theta[H:2 * H], theta[2 * H:3 * H]  # views into theta
    m, s = np.zeros_like(theta), np.zeros_like(theta)  # Adam's moment estimates
    losses = []
    for t in range(1, steps + 1):
        out, z = net(x, w, b, v, theta[-1])
        r = out - y  # (n,) residuals
        losses.append(r @ r / n)
        g = 2 * r / n  # d(loss)/d(out)
        gz = np.outer(g, v) * (z > 0)  # (n, H): back through the output layer and ReLU
        grad = np.concatenate([x @ gz, gz.sum(axis=0), g @ np.maximum(z, 0), [g.sum()]])
        m = 0.9 * m + 0.1 * grad
        s = 0.999 * s + 0.001 * grad**2
        theta -= lr * (m / (1 - 0.9**t)) / (np.sqrt(s / (1 - 0.999**t)) + 1e-8)
    return (w.copy(), b.copy(), v.copy(), theta[-1]), losses
# --8<-- [end:fit]


# --8<-- [start:kinks]
def kinks(w, b, lo=-np.pi, hi=np.pi):
    r"""Where the hidden units switch on or off: $x = -b_i / w_i$, inside $[lo, hi]$.

    Args:
        w: (H,) input weights.
        b: (H,) biases.
        lo: left end of the interval.
        hi: right end of the interval.

    Returns:
        The sorted kink positions that lie inside the interval.
    """
    on = w != 0  # a unit with w = 0 is constant: it has no kink
    x = -b[on] / w[on]
    return np.sort(x[(x > lo) & (x < hi)])
# --8<-- [end:kinks]


# --8<-- [start:interpolate]
def interpolating_net(f, lo, hi, hidden):
    r"""Weights, set by hand, of a network that joins the points $(t_k, f(t_k))$ of `hidden`
    + 1 evenly spaced knots by straight lines.

    Args:
        f: the function to interpolate.
        lo: left end of the interval.
        hi: right end of the interval.
        hidden: number of hidden units H, one per linear piece.

    Returns:
        `(w, b, v, c)` for `net`.
    """
    t = np.linspace(lo, hi, hidden + 1)  # knots t_0 < ... < t_H
    slopes = np.diff(f(t)) / np.diff(t)  # (H,): slope of each piece
    w = np.ones(hidden)
    b = -t[:-1]  # unit k switches on at t_k
    v = np.diff(slopes, prepend=0.0)  # each unit adds the change of slope at its knot
    return w, b, v, f(t[0])
# --8<-- [end:interpolate]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:demo]
    params, losses = fit(np.sin, hidden=16)
    for step in (0, 100, 500, 1000, 1999):
        print(f"step {step:4d}: mean squared error {losses[step]:.2e}")
    print("kinks inside [-pi, pi]:", kinks(params[0], params[1]).round(2))
    # --8<-- [end:demo]

    # --8<-- [start:interpolate_demo]
    xs = np.linspace(-np.pi, np.pi, 10_001)
    for H in (4, 8, 16, 32):
        out, _ = net(xs, *interpolating_net(np.sin, -np.pi, np.pi, H))
        h = 2 * np.pi / H
        print(f"H = {H:2d}: max |f - sin| = {np.abs(out - np.sin(xs)).max():.2e}"
              f"  <= h^2/8 = {h**2 / 8:.2e}")
    # --8<-- [end:interpolate_demo]

    # --8<-- [start:check]
    import torch

    print("checked against torch.nn.Sequential(Linear(1, 16), ReLU(), Linear(16, 1))")
    for dtype in (np.float64, np.float32):
        w, b, v, c = (np.asarray(p, dtype=dtype) for p in params)
        xs_d = xs.astype(dtype)
        H = len(w)
        model = torch.nn.Sequential(torch.nn.Linear(1, H), torch.nn.ReLU(),
                                    torch.nn.Linear(H, 1)).to(torch.from_numpy(w).dtype)
        with torch.no_grad():  # torch stores (out, in): (H, 1) and (1, H)
            model[0].weight.copy_(torch.from_numpy(w)[:, None])
            model[0].bias.copy_(torch.from_numpy(b))
            model[2].weight.copy_(torch.from_numpy(v)[None, :])
            model[2].bias.fill_(float(c))
        xt = torch.tensor(xs_d[:, None], requires_grad=True)
        yt = model(xt)[:, 0]
        yt.sum().backward()  # d/dx of each output: the slope of the piece x is on
        ours, z = net(xs_d, w, b, v, c)
        slope = (z > 0) @ (w * v)  # sum of w_i v_i over the units that are on
        value = np.abs(ours - yt.detach().numpy()).max()
        grad = np.abs(slope - xt.grad[:, 0].numpy()).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {value:.1e}, grad {grad:.1e}")
    # --8<-- [end:check]
