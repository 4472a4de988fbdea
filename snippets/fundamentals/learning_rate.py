r"""The learning rate of gradient descent on a quadratic: the stability bound $2/L$, the best
constant rate $2/(L + \mu)$ and its rate of convergence $(\kappa - 1)/(\kappa + 1)$.

Checked against `torch.optim.SGD` (the iterates) and autograd (the gradient).
"""

# --8<-- [start:impl]
# --8<-- [start:quadratic]
import numpy as np


def make_quadratic(eigenvalues, seed=0):
    r"""A symmetric positive definite matrix with the given eigenvalues, in random axes.

    $$A = Q \operatorname{diag}(\lambda) Q^\top, \qquad f(x) = \tfrac12 x^\top A x$$

    Args:
        eigenvalues: the eigenvalues $\lambda_i > 0$.
        seed: random seed of the orthogonal matrix $Q$.

    Returns:
        `(A, Q)`: the matrix and its eigenvectors (the columns of `Q`).
    """
    lam = np.asarray(eigenvalues, dtype=float)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(lam), len(lam))))
    return Q @ np.diag(lam) @ Q.T, Q


def run_gd(A, x0, lr, steps):
    r"""Gradient descent on $f(x) = \frac12 x^\top A x$, whose gradient is $A x$.

    $$x_{t+1} = x_t - \eta A x_t = (I - \eta A)\, x_t$$

    Returns:
        The iterates $x_0, \dots, x_{\text{steps}}$, shape (steps + 1, d).
    """
    path = [np.asarray(x0)]
    for _ in range(steps):
        path.append(path[-1] - lr * (A @ path[-1]))
    return np.array(path)
# --8<-- [end:quadratic]


# --8<-- [start:rate]
def contraction(lr, mu, L):
    r"""The factor by which a step shrinks the slowest-shrinking eigen-direction.

    $$\rho(\eta) = \max\big(|1 - \eta\mu|, |1 - \eta L|\big)$$

    The iterates converge for every start if and only if $\rho < 1$, i.e. $0 < \eta < 2/L$.
    """
    return max(abs(1 - lr * mu), abs(1 - lr * L))


def best_constant_rate(mu, L):
    r"""The rate that minimises $\rho$, and that smallest $\rho$.

    $$\eta^\star = \frac{2}{L + \mu}, \qquad
    \rho(\eta^\star) = \frac{L - \mu}{L + \mu} = \frac{\kappa - 1}{\kappa + 1}$$
    """
    return 2 / (L + mu), (L - mu) / (L + mu)
# --8<-- [end:rate]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:demo]
    mu, L = 1.0, 10.0  # condition number 10
    A, Q = make_quadratic([mu, L])
    x0 = Q @ np.array([1.0, 1.0])  # one unit along each eigenvector: |x0| = sqrt(2)
    best, rho_best = best_constant_rate(mu, L)
    rates = {"0.1/L": 0.1 / L, "1/L": 1 / L, "2/(L+mu)": best,
             "0.99*2/L": 0.99 * 2 / L, "2/L": 2 / L, "1.01*2/L": 1.01 * 2 / L}
    print("lr           rho    |x_100|/|x_0|   x_100 along the top eigenvector")
    for name, lr in rates.items():
        x = run_gd(A, x0, lr, 100)[-1]
        shrink = np.linalg.norm(x) / np.sqrt(2)  # |x_0| = sqrt(2)
        print(f"{name:9s} {contraction(lr, mu, L):6.3f} {shrink:14.2e} {Q[:, 1] @ x:14.2e}")
    # --8<-- [end:demo]

    # --8<-- [start:edge]
    path = run_gd(A, x0, 2 / L, 6)
    print("along the top eigenvector:   ", np.round(path @ Q[:, 1], 12))
    print("along the bottom eigenvector:", np.round(path @ Q[:, 0], 4))
    # --8<-- [end:edge]

    # --8<-- [start:best]
    print(f"best rate 2/(L+mu) = {best:.4f}, rho = (kappa-1)/(kappa+1) = {rho_best:.4f}")
    for kappa in (10, 100, 1000):
        rho = best_constant_rate(1.0, kappa)[1]
        print(f"kappa {kappa:5d}: rho {rho:.4f}, steps to shrink the error 1e6-fold"
              f" {np.ceil(np.log(1e-6) / np.log(rho)):6.0f}")
    # --8<-- [end:best]

    # --8<-- [start:check]
    import torch

    print("checked against torch.optim.SGD")
    for dtype in (torch.float64, torch.float32):
        At = torch.tensor(A, dtype=dtype)
        Ad, xd = At.numpy(), x0.astype(At.numpy().dtype)  # the same numbers in NumPy
        ours = run_gd(Ad, xd, best, 20)
        x = torch.tensor(xd, requires_grad=True)
        opt = torch.optim.SGD([x], lr=best)
        value_err = grad_err = 0.0
        for t in range(20):
            opt.zero_grad()
            (0.5 * x @ At @ x).backward()
            grad_err = max(grad_err, np.abs(Ad @ ours[t] - x.grad.numpy()).max())
            opt.step()
            value_err = max(value_err, np.abs(ours[t + 1] - x.detach().numpy()).max())
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value_err:.1e}, grad {grad_err:.1e}")
    # --8<-- [end:check]
