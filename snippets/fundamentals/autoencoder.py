r"""A linear autoencoder trained with squared error spans the principal subspace of its data
(Baldi and Hornik, 1989), checked against the right singular vectors of `numpy.linalg.svd`
through principal angles.

Reference: P. Baldi and K. Hornik, "Neural networks and principal component analysis: learning
from examples without local minima", Neural Networks 2, 1989.
"""

# --8<-- [start:impl]
# --8<-- [start:data]
import numpy as np
import torch


def low_rank_data(n=200, d=8, seed=0):
    r"""Centred data whose variance falls off across $d$ directions.

    Args:
        n: number of examples.
        d: dimension.
        seed: NumPy seed.

    Returns:
        An (n, d) float64 array with zero column means.
    """
    rng = np.random.default_rng(seed)
    scales = 2.0 ** -np.arange(d)  # standard deviations 1, 1/2, 1/4, ...
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))  # a random rotation
    X = rng.normal(size=(n, d)) * scales @ Q.T  # (n, d)
    return X - X.mean(axis=0)
# --8<-- [end:data]


# --8<-- [start:autoencoder]
def train_linear_autoencoder(X, k, steps=600, lr=0.05, seed=0):
    r"""Train $\hat x = D E x$ on the rows of X by full-batch Adam on the squared error.

    $$L(E, D) = \sum_n \lVert x_n - D E x_n \rVert^2$$

    Args:
        X: (n, d) float data.
        k: width of the code, $k < d$.
        steps: Adam steps.
        lr: learning rate.
        seed: torch seed for the initial weights.

    Returns:
        E (k, d) and D (d, k) as NumPy arrays.
    """
    torch.manual_seed(seed)
    n, d = X.shape
    Xt = torch.as_tensor(X)  # float64 or float32: the weights follow
    E = torch.nn.Parameter(torch.randn(k, d).to(Xt.dtype) / d**0.5)  # encoder
    D = torch.nn.Parameter(torch.randn(d, k).to(Xt.dtype) / k**0.5)  # decoder
    opt = torch.optim.Adam([E, D], lr=lr)
    for _ in range(steps):
        codes = Xt @ E.T  # (n, k): the latent codes
        loss = ((Xt - codes @ D.T) ** 2).sum() / n  # mean squared error per example
        opt.zero_grad()
        loss.backward()
        opt.step()
    return E.detach().numpy(), D.detach().numpy()
# --8<-- [end:autoencoder]


# --8<-- [start:angles]
def principal_angles(A, B):
    r"""Principal angles between the column spaces of A and B, in radians, ascending.

    $$\cos\theta_i = \sigma_i(Q_A^\top Q_B)$$

    Args:
        A: (d, k) matrix of full column rank.
        B: (d, k) matrix of full column rank.

    Returns:
        A (k,) array of angles in $[0, \pi/2]$.
    """
    QA, _ = np.linalg.qr(A)  # orthonormal bases of the two spaces
    QB, _ = np.linalg.qr(B)
    cosines = np.linalg.svd(QA.T @ QB, compute_uv=False)
    return np.arccos(np.clip(cosines[::-1], -1.0, 1.0))
# --8<-- [end:angles]


# --8<-- [start:reconstruction_error]
def reconstruction_error(X, E, D):
    r"""Sum over examples of the squared reconstruction error.

    $$\sum_n \lVert x_n - D E x_n \rVert^2$$
    """
    return float(((X - X @ E.T @ D.T) ** 2).sum())
# --8<-- [end:reconstruction_error]
# --8<-- [end:impl]


if __name__ == "__main__":
    # --8<-- [start:demo]
    X = low_rank_data()
    k = 2
    E, D = train_linear_autoencoder(X, k)
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    theta = principal_angles(D, Vt[:k].T)  # decoder columns vs top-k right singular vectors
    print("singular values of X      ", np.round(s, 3))
    print("principal angles (radians)", theta)
    print(f"autoencoder error {reconstruction_error(X, E, D):.6f}")
    print(f"sum of discarded s_i^2 {np.sum(s[k:] ** 2):.6f}")
    print("D^T D (not the identity: D is a basis, not the PCA one)\n", np.round(D.T @ D, 3))
    # --8<-- [end:demo]

    # --8<-- [start:check]
    print("checked against numpy.linalg.svd (largest principal angle, radians)")
    for dtype in (np.float64, np.float32):
        E, D = train_linear_autoencoder(X.astype(dtype), k)
        # angles in float64: arccos near 1 in float32 cannot resolve angles below ~3e-4
        angle = principal_angles(D.astype(np.float64), Vt[:k].T).max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - reference| value {angle:.1e}")
    # --8<-- [end:check]
