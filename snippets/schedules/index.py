r"""Demonstrations for the questions about learning rates, warm-up and batch size.

1. Why a warm-up prevents divergence: Adam at a high learning rate on a small ReLU network,
   with and without a linear warm-up, and Adam's step measured in units of the learning rate.
2. How to choose a learning rate: the stability bound $\eta < 2/L$ of gradient descent on a
   quadratic, and the learning-rate range test.
3. Batch size: the memory it costs, what the loss reduction (sum or mean) does to the
   gradient, and the linear scaling rule.

References: Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017 (the
range test); Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
2017 (linear scaling and gradual warm-up); Kingma and Ba, "Adam", ICLR 2015. Checked
against `torch.optim.Adam`'s own parameter updates.
"""

# --8<-- [start:warmup_setup]
# --8<-- [start:regression_problem]
import contextlib

import numpy as np
import torch


def regression_problem(seed, n=128, d=8):
    r"""A smooth non-linear task: inputs $X$ of shape (n, d), targets $\sin(X w_\star)$.

    Args:
        seed: random seed.
        n: number of examples.
        d: number of input features.

    Returns:
        `(X, y)`, float64 tensors of shapes (n, d) and (n, 1).
    """
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    w_star = torch.randn(d, 1, generator=g, dtype=torch.float64)
    return X, torch.sin(X @ w_star)
# --8<-- [end:regression_problem]


# --8<-- [start:relu_mlp]
def relu_mlp(seed, d=8, width=64, depth=3):
    r"""A float64 ReLU network with `depth` hidden layers, PyTorch's default initialisation.

    Args:
        seed: seed of the initial weights (the global generator is left as it was).
        d: input features.
        width: units per hidden layer.
        depth: number of hidden layers.

    Returns:
        A `torch.nn.Sequential` mapping (n, d) to (n, 1).
    """
    with torch.random.fork_rng():  # seed the weights without touching the global state
        torch.manual_seed(seed)
        layers, fan_in = [], d
        for _ in range(depth):
            layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
            fan_in = width
        return torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 1)).double()
# --8<-- [end:relu_mlp]


# --8<-- [start:adam_ratios]
def adam_ratios(optimizer):
    r"""Per parameter, $\hat m / (\sqrt{\hat v} + \epsilon)$ from Adam's state after a step.

    `torch.optim.Adam` moves each parameter by minus the learning rate times this ratio,
    so it is Adam's step measured in learning rates.

    Args:
        optimizer: a `torch.optim.Adam` that has taken at least one step.

    Returns:
        A list of tensors, one per parameter, each of that parameter's shape.
    """
    beta1, beta2 = optimizer.param_groups[0]["betas"]
    eps = optimizer.param_groups[0]["eps"]
    ratios = []
    for p in optimizer.param_groups[0]["params"]:
        state = optimizer.state[p]
        k = float(state["step"])  # updates so far
        m_hat = state["exp_avg"] / (1 - beta1**k)  # bias-corrected first moment
        v_hat = state["exp_avg_sq"] / (1 - beta2**k)  # ... and second moment
        ratios.append(m_hat / (v_hat.sqrt() + eps))
    return ratios


def adam_step_in_lr_units(optimizer):
    r"""The mean of $|\hat m| / (\sqrt{\hat v} + \epsilon)$ over all parameters."""
    ratios = torch.cat([r.abs().flatten() for r in adam_ratios(optimizer)])
    return ratios.mean().item()
# --8<-- [end:adam_ratios]


# --8<-- [start:one_thread]
@contextlib.contextmanager
def one_thread():
    r"""Run torch on one thread: for tensors this small, more threads only wait."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
# --8<-- [end:one_thread]


# --8<-- [start:train_adam]
def train_adam(seed, lr, warmup_steps, steps=150):
    r"""Full-batch Adam on `regression_problem`, with a linear warm-up if `warmup_steps`.

    The warm-up is $\eta_t = \eta \min(1, t / W)$, so step 0 runs with rate 0.

    Args:
        seed: seed of the data and of the initial weights.
        lr: peak learning rate $\eta$.
        warmup_steps: $W$; 0 for none.
        steps: number of optimizer steps.

    Returns:
        `(losses, ratios, net)`: the mean squared error before each step,
        `adam_step_in_lr_units` after each step, and the trained network.
    """
    X, y = regression_problem(seed)
    net = relu_mlp(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)

    def factor(t):
        return min(1.0, t / warmup_steps) if warmup_steps else 1.0

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    losses, ratios = [], []
    with one_thread():
        for _ in range(steps):
            loss = torch.mean((net(X) - y) ** 2)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            ratios.append(adam_step_in_lr_units(optimizer))
    return np.array(losses), np.array(ratios), net
# --8<-- [end:train_adam]


# --8<-- [start:dead_units]
def dead_units(net, X):
    r"""Per hidden layer, the ReLU units that output 0 for every row of `X`.

    Such a unit passes no gradient to the weights feeding it, so no step on this data
    can revive it.

    Args:
        net: a network built by `relu_mlp`.
        X: inputs, shape (n, d).

    Returns:
        A list with one count per hidden layer.
    """
    counts, h = [], X
    with torch.no_grad():
        for layer in net:
            h = layer(h)
            if isinstance(layer, torch.nn.ReLU):
                counts.append(int((h == 0).all(dim=0).sum()))  # (width,) -> count
    return counts
# --8<-- [end:dead_units]
# --8<-- [end:warmup_setup]


# --8<-- [start:lr_setup]
# --8<-- [start:least_squares]
def least_squares(seed=0, n=1024, d=20):
    r"""Linear regression data $y = X w_\star + \epsilon$, features on different scales.

    Args:
        seed: random seed.
        n: number of examples.
        d: number of features.

    Returns:
        `(X, y)`, float64 arrays of shapes (n, d) and (n,).
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.linspace(0.5, 2.0, d)  # (n, d)
    y = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)  # (n,)
    return X, y


def mse(w, X, y):
    r"""Mean squared error $\frac1n \lVert X w - y \rVert^2$."""
    return np.mean((X @ w - y) ** 2)


def mse_grad(w, X, y, reduction="mean"):
    r"""Gradient of the squared error summed over the batch, or of its mean.

    Args:
        w: weights, shape (d,).
        X: inputs, shape (B, d).
        y: targets, shape (B,).
        reduction: "sum" or "mean", as in PyTorch's losses.

    Returns:
        The gradient, shape (d,).
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    g = 2 * X.T @ (X @ w - y)  # gradient of the sum over the B examples
    return g / len(y) if reduction == "mean" else g
# --8<-- [end:least_squares]


# --8<-- [start:smoothness]
def smoothness(X):
    r"""$L$, the largest eigenvalue of the Hessian $\frac{2}{n} X^\top X$ of `mse`."""
    return np.linalg.eigvalsh(2 * X.T @ X / len(X)).max()


def gradient_descent(X, y, lr, steps):
    r"""Full-batch gradient descent on `mse` from $w = 0$; returns the final loss."""
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        w = w - lr * mse_grad(w, X, y)
    return mse(w, X, y)
# --8<-- [end:smoothness]
# --8<-- [end:lr_setup]


# --8<-- [start:lr_range_test]
def lr_range_test(X, y, lr_min=1e-4, lr_max=10.0, steps=200, batch=32, seed=0):
    r"""Learning-rate range test: one short SGD run whose rate grows geometrically.

    $$\eta_k = \eta_{\min} (\eta_{\max} / \eta_{\min})^{k / (K - 1)}, \quad k = 0, \dots, K-1$$

    The run stops early once the loss is 100 times its first value.

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        lr_min: first rate $\eta_{\min}$.
        lr_max: last rate $\eta_{\max}$.
        steps: number of steps $K$.
        batch: minibatch size.
        seed: seed of the minibatch draws.

    Returns:
        `(lrs, losses)`: the rates tried and the minibatch loss before each step.
    """
    if steps < 2 or not 0 < lr_min < lr_max:
        raise ValueError("need steps >= 2 and 0 < lr_min < lr_max")
    rng = np.random.default_rng(seed)
    lrs = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    w, losses = np.zeros(X.shape[1]), []
    for lr in lrs:
        idx = rng.integers(0, len(y), batch)
        losses.append(mse(w, X[idx], y[idx]))
        if losses[-1] > 100 * losses[0]:  # diverged: nothing more to learn
            break
        w = w - lr * mse_grad(w, X[idx], y[idx])
    return lrs[: len(losses)], np.array(losses)
# --8<-- [end:lr_range_test]


# --8<-- [start:smoothed_minimum]
def smoothed_minimum(lrs, losses, beta=0.8):
    r"""The rate at the minimum of the loss smoothed by a moving average (weight `beta`).

    Args:
        lrs: the rates of `lr_range_test`.
        losses: its losses.
        beta: weight of the past in the moving average.

    Returns:
        `(lr_at_minimum, smoothed_losses)`.
    """
    smoothed = np.empty(len(losses))
    avg = losses[0]
    for k, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        smoothed[k] = avg
    return lrs[smoothed.argmin()], smoothed
# --8<-- [end:smoothed_minimum]


# --8<-- [start:saved_activation_bytes]
def saved_activation_bytes(net, batch_size, d=8):
    r"""Bytes autograd keeps for the backward pass of one forward pass, weights excluded.

    A tensor that several operations save (a ReLU's output is also the next layer's
    input) is counted once.

    Args:
        net: a torch module taking inputs of shape (batch_size, d).
        batch_size: $B$.
        d: input features.

    Returns:
        The bytes of the saved tensors that are not the parameters themselves.
    """
    params = {p.untyped_storage().data_ptr() for p in net.parameters()}
    saved = {}  # storage address -> bytes; a tensor saved twice is stored once

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:  # activations, not weights
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(torch.zeros(batch_size, d, dtype=torch.float64))
    return sum(saved.values())
# --8<-- [end:saved_activation_bytes]


# --8<-- [start:gradient_spread]
def gradient_spread(X, y, w, batch, reduction, draws=200, seed=0):
    r"""Mean norm of minibatch gradients, and their mean distance from the full gradient.

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        w: the weights at which the gradients are taken.
        batch: minibatch size $B$.
        reduction: "sum" or "mean".
        draws: number of minibatches drawn.
        seed: random seed.

    Returns:
        `(mean_norm, mean_distance)`; for "sum" the full gradient is scaled by $B / n$.
    """
    rng = np.random.default_rng(seed)
    full = mse_grad(w, X, y, "mean") * (batch if reduction == "sum" else 1)
    grads = np.array([mse_grad(w, X[i], y[i], reduction)
                      for i in (rng.integers(0, len(y), batch) for _ in range(draws))])
    return (np.linalg.norm(grads, axis=1).mean(),
            np.linalg.norm(grads - full, axis=1).mean())
# --8<-- [end:gradient_spread]


# --8<-- [start:small_vs_large_batch]
def small_vs_large_batch(X, y, lr, k=8, batch=32, seed=0):
    r"""$k$ SGD steps on batches of $B$ against one step on their union (batch $kB$).

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        lr: the small-batch learning rate $\eta$.
        k: how many small batches make the large one.
        batch: small batch size $B$.
        seed: random seed.

    Returns:
        `(dist_scaled, dist_same)`: the distance from the $k$-step result of one large
        step with rate $k\eta$ and of one with rate $\eta$, both relative to the length
        of the $k$-step move.
    """
    rng = np.random.default_rng(seed)
    batches = [rng.integers(0, len(y), batch) for _ in range(k)]
    w0 = np.zeros(X.shape[1])
    w = w0
    for idx in batches:
        w = w - lr * mse_grad(w, X[idx], y[idx])  # mean reduction
    union = np.concatenate(batches)
    g = mse_grad(w0, X[union], y[union])
    moved = np.linalg.norm(w - w0)
    return (np.linalg.norm(w - (w0 - k * lr * g)) / moved,
            np.linalg.norm(w - (w0 - lr * g)) / moved)
# --8<-- [end:small_vs_large_batch]


# --8<-- [start:adam_on_least_squares]
def adam_on_least_squares(X, y, reduction, lr=0.01, steps=20, batch=32, seed=0):
    r"""Weights after `steps` minibatch steps of `torch.optim.Adam` on the squared error.

    Args:
        X: inputs, shape (n, d).
        y: targets, shape (n,).
        reduction: "sum" or "mean", passed to `torch.nn.functional.mse_loss`.
        lr: learning rate.
        steps: number of steps.
        batch: minibatch size.
        seed: seed of the minibatch draws.

    Returns:
        The weights, a float64 array of shape (d,).
    """
    rng = np.random.default_rng(seed)
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([w], lr=lr)
    for _ in range(steps):
        idx = rng.integers(0, len(y), batch)
        pred = torch.from_numpy(X[idx]) @ w
        loss = torch.nn.functional.mse_loss(pred, torch.from_numpy(y[idx]),
                                            reduction=reduction)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return w.detach().numpy()
# --8<-- [end:adam_on_least_squares]


if __name__ == "__main__":
    # --8<-- [start:warmup_demo]
    lr, W = 0.1, 50
    runs = {"no warm-up": train_adam(0, lr, 0), f"warm-up {W}": train_adam(0, lr, W)}
    size = torch.cat([p.abs().flatten() for p in relu_mlp(0).parameters()]).mean()
    print(f"Adam, peak lr {lr}, 150 full-batch steps, seed 0; "
          f"mean |parameter| at the start {size:.3f}")
    for name, (losses, _, _) in runs.items():
        peak = losses.argmax()
        print(f"{name:>12}: loss at start {losses[0]:.3f}, highest {losses[peak]:.3g} "
              f"(step {peak}), mean of last 10 {losses[-10:].mean():.2g}")
    X, y = regression_problem(0)
    print(f"the best constant prediction has loss {y.var(unbiased=False):.3f}")
    start = dead_units(relu_mlp(0), X)
    print(f"dead units of the 64 per hidden layer: {start} at the start")
    for name, (_, _, net) in runs.items():
        print(f"{name:>12}: {dead_units(net, X)} at the end")
    # --8<-- [end:warmup_demo]

    # --8<-- [start:warmup_ratios]
    head = f"{'rate':>6}  {'ratio':>5}  {'rate*ratio':>10}"
    print(f"{'':4}  {'no warm-up':^25}   |   {'warm-up':^25}")
    print(f"{'t':>4}  {head}   |   {head}")
    for t in (0, 1, 2, 5, 10, 25, 50, 100, 149):
        cells = []
        for w in (0, W):
            rate = lr * (min(1.0, t / w) if w else 1.0)
            ratio = runs["no warm-up" if w == 0 else f"warm-up {W}"][1][t]
            cells.append(f"{rate:6.4f}  {ratio:5.3f}  {rate * ratio:10.4f}")
        print(f"{t:4d}  " + "   |   ".join(cells))
    # --8<-- [end:warmup_ratios]

    # --8<-- [start:check_adam]
    net, (X, y) = relu_mlp(1), regression_problem(1)
    opt = torch.optim.Adam(net.parameters(), lr=0.1)
    worst = 0.0
    for _ in range(5):
        before = [p.detach().clone() for p in net.parameters()]
        opt.zero_grad()
        torch.mean((net(X) - y) ** 2).backward()
        opt.step()
        for p, p0, ratio in zip(net.parameters(), before, adam_ratios(opt), strict=True):
            moved = p0 - p.detach()  # what Adam did to this parameter
            worst = max(worst, (moved - 0.1 * ratio).abs().max().item())
    print("checked against torch.optim.Adam (the change it makes to each parameter)")
    print(f"float64: max |ours - torch| value {worst:.1e}")
    # --8<-- [end:check_adam]

    # --8<-- [start:bound_demo]
    X, y = least_squares()
    L = smoothness(X)
    print(f"L = {L:.3f}, 2/L = {2 / L:.4f}; loss at w = 0: {mse(np.zeros(20), X, y):.1f}")
    print("lr / (2/L)   loss after 10 steps   after 300 steps")
    for c in (0.1, 0.5, 0.9, 0.99, 1.01, 1.1):
        a, b = (gradient_descent(X, y, c * 2 / L, k) for k in (10, 300))
        print(f"{c:10}   {a:19.4g}   {b:15.4g}")
    # --8<-- [end:bound_demo]

    # --8<-- [start:range_demo]
    lrs, losses = lr_range_test(X, y)
    best, smoothed = smoothed_minimum(lrs, losses)
    print(f"{len(lrs)} steps, from lr {lrs[0]:.0e} to {lrs[-1]:.3g} (stopped: loss x100)")
    print(f"lowest smoothed loss at lr {best:.3f} = {best * L / 2:.2f} x 2/L")
    print(f"suggested lr, a tenth of it: {best / 10:.4f}")
    # --8<-- [end:range_demo]

    # --8<-- [start:memory_demo]
    net = relu_mlp(0)
    weights = sum(p.numel() * p.element_size() for p in net.parameters())
    print(f"weights: {weights} bytes, whatever the batch size")
    for B in (32, 64, 128, 256):
        saved = saved_activation_bytes(net, B)
        print(f"B = {B:3d}: activations saved for backward {saved} bytes")
    # --8<-- [end:memory_demo]

    # --8<-- [start:reduction_demo]
    w = np.zeros(20)
    print("   B   |g| sum   |g| mean   |g_mean - full gradient|")
    for B in (16, 64, 256):
        norm_sum, _ = gradient_spread(X, y, w, B, "sum")
        norm_mean, noise = gradient_spread(X, y, w, B, "mean")
        print(f"{B:4d} {norm_sum:9.1f} {norm_mean:9.2f} {noise:12.2f}")
    # --8<-- [end:reduction_demo]

    # --8<-- [start:scaling_demo]
    print("lr      8 lr / (2/L)   one B=256 step at 8 lr: off by   at lr: off by")
    for lr in (0.001, 0.01, 0.05):
        scaled, same = small_vs_large_batch(X, y, lr)
        print(f"{lr:<6}  {8 * lr * L / 2:12.2f}   {scaled:30.2f}   {same:13.2f}")
    # --8<-- [end:scaling_demo]

    # --8<-- [start:adam_demo]
    w_sum = adam_on_least_squares(X, y, "sum")
    w_mean = adam_on_least_squares(X, y, "mean")
    gap = np.abs(w_sum - w_mean).max()
    print(f"Adam, 20 steps, B = 32: largest |w_sum - w_mean| = {gap:.1e} "
          f"(the weights moved by up to {np.abs(w_mean).max():.2f})")
    # --8<-- [end:adam_demo]
