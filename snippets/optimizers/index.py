r"""Family-wide material for the optimizers: test functions, a driver, and the questions.

The trajectories compare every optimizer on an ill-conditioned quadratic and on Rosenbrock's
function (Rosenbrock, "An Automatic Method for Finding the Greatest or Least Value of a
Function", The Computer Journal, 1960). The adaptive methods' steps are also written as explicit
weighted sums over the gradient history, checked against `torch.optim.Adagrad`, `RMSprop` and
`Adam`, to answer "Adagrad vs RMSprop", "RMSprop vs Adam" and the sparse-feature question.
"""

# --8<-- [start:impl]
# --8<-- [start:objectives]
import numpy as np

CURVATURES = np.array([1.0, 20.0])  # the quadratic's curvature along each axis


def quadratic(theta):
    r"""The ill-conditioned bowl $f(\theta) = \tfrac12 (\theta_1^2 + 20\,\theta_2^2)$.

    Args:
        theta: points, shape (..., 2).

    Returns:
        $f$, shape (...).
    """
    return 0.5 * (CURVATURES * theta**2).sum(-1)


def quadratic_grad(theta):
    r"""Gradient of `quadratic`: $(\theta_1, 20\,\theta_2)$, shape (..., 2)."""
    return CURVATURES * theta


def rosenbrock(theta, a=1.0, b=100.0):
    r"""Rosenbrock's function $f = (a - x)^2 + b\,(y - x^2)^2$, minimum 0 at $(a, a^2)$.

    Args:
        theta: points $(x, y)$, shape (..., 2).
        a: position of the minimum.
        b: steepness of the curved valley's walls.

    Returns:
        $f$, shape (...).
    """
    x, y = theta[..., 0], theta[..., 1]
    return (a - x) ** 2 + b * (y - x**2) ** 2


def rosenbrock_grad(theta, a=1.0, b=100.0):
    r"""Gradient of `rosenbrock`: $(-2(a - x) - 4bx(y - x^2),\; 2b(y - x^2))$."""
    x, y = theta[..., 0], theta[..., 1]
    r = y - x**2  # the valley floor is r = 0
    return np.stack([-2 * (a - x) - 4 * b * x * r, 2 * b * r], axis=-1)
# --8<-- [end:objectives]


# --8<-- [start:trajectory]
def trajectory(step, state, theta0, grad_fn, steps, **options):
    r"""Run one optimizer from $\theta_0$ and record every iterate.

    Args:
        step: an optimizer's step function, e.g. `adam_step`.
        state: its initial state for the single parameter `[theta0]`.
        theta0: starting point, shape (2,).
        grad_fn: the objective's gradient, e.g. `rosenbrock_grad`.
        steps: number of steps.
        **options: the optimizer's hyperparameters (`lr=...`, ...).

    Returns:
        The iterates $\theta_0, \dots, \theta_{\text{steps}}$, shape (steps + 1, 2).
    """
    params = [np.asarray(theta0, dtype=float)]
    path = [params[0]]
    for _ in range(steps):
        params, state = step(params, [grad_fn(params[0])], state, **options)
        path.append(params[0])
    return np.array(path)
# --8<-- [end:trajectory]
# --8<-- [end:impl]


# --8<-- [start:history]
def history_weights(T, beta=None):
    r"""$W_{tk}$: the weight of step $k$'s value in step $t$'s running statistic.

    A running sum (Adagrad) weighs every past value by 1; a moving average with decay
    $\beta$ started at zero (RMSprop, Adam) weighs it by $(1 - \beta)\beta^{t-k}$:

    $$W_{tk} = [k \le t] \quad\text{or}\quad W_{tk} = [k \le t]\,(1 - \beta)\,\beta^{t-k}$$

    Args:
        T: number of steps.
        beta: the decay $\beta$, or `None` for a running sum.

    Returns:
        A (T, T) lower-triangular matrix.
    """
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]  # t - k
    if beta is None:
        return (lag >= 0).astype(float)
    return np.where(lag >= 0, (1 - beta) * beta ** np.maximum(lag, 0), 0.0)


def updates(grads, method, lr, alpha=0.99, betas=(0.9, 0.999), eps=None):
    r"""The step $\theta_t - \theta_{t-1}$ each method takes, given the gradient history.

    Args:
        grads: gradients $g_1, \dots, g_T$, shape (T, n).
        method: "sgd", "adagrad", "rmsprop" or "adam" (torch's defaults otherwise).
        lr: learning rate $\eta$.
        alpha: RMSprop's $\alpha$.
        betas: Adam's $(\beta_1, \beta_2)$.
        eps: $\epsilon$; `None` for torch's default of the method.

    Returns:
        The steps, shape (T, n).
    """
    T = len(grads)
    if method == "sgd":
        return -lr * grads
    if method == "adagrad":
        eps = 1e-10 if eps is None else eps
        return -lr * grads / (np.sqrt(history_weights(T) @ grads**2) + eps)
    eps = 1e-8 if eps is None else eps
    if method == "rmsprop":
        return -lr * grads / (np.sqrt(history_weights(T, alpha) @ grads**2) + eps)
    t = np.arange(1, T + 1)[:, None]
    m_hat = history_weights(T, betas[0]) @ grads / (1 - betas[0] ** t)
    v_hat = history_weights(T, betas[1]) @ grads**2 / (1 - betas[1] ** t)
    return -lr * m_hat / (np.sqrt(v_hat) + eps)
# --8<-- [end:history]


if __name__ == "__main__":
    # --8<-- [start:weights-demo]
    W_sum, W_avg = history_weights(1000), history_weights(1000, beta=0.99)
    for k in (1, 500, 990, 1000):
        print(f"weight of g_{k}^2 at t = 1000: Adagrad {W_sum[-1, k - 1]:g}, "
              f"RMSprop {W_avg[-1, k - 1]:.2e}")

    g = np.concatenate([np.full(300, 1.0), np.full(700, 0.01)])[:, None]  # (T, 1)
    for method in ("sgd", "adagrad", "rmsprop"):
        u = np.abs(updates(g, method, lr=0.01)[:, 0])
        print(f"{method:>8}: |step| at t = 300, 301, 400, 1000: "
              f"{u[299]:.1e} {u[300]:.1e} {u[399]:.1e} {u[999]:.1e}")
    # --8<-- [end:weights-demo]

    # --8<-- [start:adam-demo]
    g = np.full((5, 1), 0.5)  # a constant gradient
    for method in ("rmsprop", "adam"):
        ratio = np.abs(updates(g, method, lr=1.0)[:, 0])  # |step| / lr
        print(f"{method:>8}: |step| / lr at t = 1..5: {ratio.round(3)}")

    noisy = 0.5 + np.random.default_rng(0).normal(size=(1000, 1))  # mean 0.5, sd 1
    for method in ("rmsprop", "adam"):
        u = -updates(noisy, method, lr=1.0)[100:, 0]  # after the warm-up
        print(f"{method:>8}: mean step {u.mean():.3f}, sd of step {u.std():.3f}, "
              f"steps against the mean gradient {np.mean(u < 0):.0%}")
    # --8<-- [end:adam-demo]

    # --8<-- [start:sparse-demo]
    T, every = 1000, 10
    g = np.zeros((T, 2))
    g[:, 0] = 1.0  # a frequent feature: a gradient at every step
    g[every - 1 :: every, 1] = 1.0  # a rare feature: one step in ten
    for method in ("sgd", "adagrad", "rmsprop", "adam"):
        moved = np.abs(updates(g, method, lr=0.01)).sum(0)
        per_use = moved / [T, T // every]  # distance moved per gradient received
        print(f"{method:>8}: moved per gradient received: frequent {per_use[0]:.4f}, "
              f"rare {per_use[1]:.4f}  (rare / frequent = {per_use[1] / per_use[0]:.1f})")
    # --8<-- [end:sparse-demo]

    # --8<-- [start:maximize-demo]
    import torch

    def f(x):  # to be maximized: highest at x = (3, -1)
        return -((x - torch.tensor([3.0, -1.0])) ** 2).sum()

    for name in ("SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"):
        paths = []
        for maximize in (True, False):
            x = torch.zeros(2, requires_grad=True)
            opt = getattr(torch.optim, name)([x], lr=0.1, weight_decay=0.05,
                                             maximize=maximize)
            path = []
            for _ in range(50):
                opt.zero_grad()
                (f(x) if maximize else -f(x)).backward()  # ascend f, or descend -f
                opt.step()
                path.append(x.detach().clone())
            paths.append(torch.stack(path))
        diff = (paths[0] - paths[1]).abs().max().item()
        print(f"{name:>8}: max |maximize f - minimize (-f)| = {diff:.1e}, "
              f"x_50 = {paths[0][-1].numpy().round(3)}")
    # --8<-- [end:maximize-demo]

    # --8<-- [start:check]
    import torch

    rng = np.random.default_rng(0)
    torch_class = {"adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
                   "adam": torch.optim.Adam}
    for method, cls in torch_class.items():
        print(f"checked against torch.optim.{cls.__name__} (steps from the history)")
        for dtype in (np.float64, np.float32):
            grads = rng.normal(size=(50, 3)).astype(dtype)
            x = torch.zeros(3, dtype=torch.from_numpy(grads).dtype, requires_grad=True)
            opt, steps = cls([x], lr=0.01, foreach=False), []
            for g in grads:
                before = x.detach().clone()
                x.grad = torch.tensor(g)
                opt.step()
                steps.append((x.detach() - before).numpy())
            err = np.abs(updates(grads, method, lr=0.01) - np.array(steps)).max()
            print(f"{np.dtype(dtype).name}: max |ours - torch| value {err:.1e}")
    # --8<-- [end:check]
