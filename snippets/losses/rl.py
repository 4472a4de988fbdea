r"""Reinforcement-learning losses: Bellman error, TD loss, REINFORCE and PPO's clip.

Value losses on a batch of transitions $(s, r, s')$: the mean squared Bellman error and
the (semi-gradient) temporal-difference loss (Sutton and Barto, "Reinforcement Learning:
An Introduction", 2nd ed. 2018, ch. 6, 9 and 11). Policy losses on log-probabilities:
the REINFORCE policy-gradient loss (Williams 1992, doi:10.1007/BF00992696) and the
clipped surrogate of proximal policy optimization (Schulman et al. 2017,
arXiv:1707.06347).

Checked against torch autograd of the written-out formulas
(`torch.distributions.Categorical` for REINFORCE, `mse_loss` and `huber_loss` for the
value losses) and against the closed-form value $(I - \gamma P)^{-1} r$ of a small
Markov reward process.
"""

# --8<-- [start:impl]
import numpy as np


def _reduce(loss, reduction):
    r"""Apply torch's `reduction` to elementwise losses; the mean of nothing is NaN."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean() if loss.size else np.array(np.nan, dtype=loss.dtype)
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _scale(n, reduction):
    r"""d(reduced loss) / d(elementwise loss_i): 1/n for "mean", 1 otherwise."""
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return 1.0 / max(n, 1) if reduction == "mean" else 1.0


def bellman_error(value, reward, next_value, gamma=0.99, done=None):
    r"""One-step Bellman (TD) error of each transition.

    $$\delta_i = r_i + \gamma (1 - \text{done}_i) V(s'_i) - V(s_i)$$

    Args:
        value: $V(s_i)$ (or $Q(s_i, a_i)$), any shape.
        reward: $r_i$, same shape.
        next_value: $V(s'_i)$ (or $\max_{a'} Q(s'_i, a')$), same shape.
        gamma: discount factor $\gamma \in [0, 1]$.
        done: optional boolean array, True where $s'_i$ is terminal (its value is 0).

    Returns:
        $\delta$, an array of the shape and dtype of `value`.
    """
    value, reward = np.asarray(value), np.asarray(reward)
    next_value = np.asarray(next_value)
    if done is not None:
        next_value = np.where(done, 0, next_value)  # no bootstrap past the end
    return reward + gamma * next_value - value
# --8<-- [end:impl]


# --8<-- [start:msbe]
def msbe_loss(value, reward, next_value, gamma=0.99, done=None, reduction="mean"):
    r"""Mean squared Bellman error, a function of both $V(s)$ and $V(s')$.

    $$\ell_i = \delta_i^2, \qquad
    \overline{\mathrm{BE}} = \frac{1}{n} \sum_{i=1}^{n} \delta_i^2$$

    Args:
        value: $V(s_i)$, any shape.
        reward: $r_i$, same shape.
        next_value: $V(s'_i)$, same shape.
        gamma: discount factor $\gamma$.
        done: optional boolean array, True where $s'_i$ is terminal.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `value`.
    """
    delta = bellman_error(value, reward, next_value, gamma, done)
    return _reduce(delta * delta, reduction)


def msbe_loss_grad(value, reward, next_value, gamma=0.99, done=None, reduction="mean"):
    r"""Full gradient of `msbe_loss`: through the value and through the target.

    $$\frac{\partial \ell_i}{\partial V(s_i)} = -2 \delta_i, \qquad
    \frac{\partial \ell_i}{\partial V(s'_i)} = 2 \gamma (1 - \text{done}_i) \delta_i$$

    Returns:
        `(grad_value, grad_next_value)`, times $1/n$ for "mean".
    """
    delta = bellman_error(value, reward, next_value, gamma, done)
    g = 2 * delta * _scale(delta.size, reduction)
    g_next = gamma * g if done is None else np.where(done, 0, gamma * g)
    return -g, g_next
# --8<-- [end:msbe]


# --8<-- [start:td]
def td_loss(value, reward, next_value, gamma=0.99, done=None, huber_delta=None,
            reduction="mean"):
    r"""Temporal-difference loss: regress $V(s)$ on a fixed bootstrapped target.

    With the target $y_i = r_i + \gamma V(s'_i)$ held constant (no gradient),

    $$\ell_i = \tfrac{1}{2} (y_i - V(s_i))^2 = \tfrac{1}{2} \delta_i^2
    \quad\text{or}\quad \ell_i = \operatorname{Huber}_\kappa(\delta_i)$$

    Args:
        value: $V(s_i)$ (or $Q(s_i, a_i)$), any shape.
        reward: $r_i$, same shape.
        next_value: $V(s'_i)$ (or the target network's $\max_{a'} Q(s'_i, a')$).
        gamma: discount factor $\gamma$.
        done: optional boolean array, True where $s'_i$ is terminal.
        huber_delta: if given, the Huber threshold $\kappa$ (torch's `delta`): quadratic
            for $|\delta| \le \kappa$, linear beyond (as in DQN).
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `value`.
    """
    delta = bellman_error(value, reward, next_value, gamma, done)
    if huber_delta is None:
        return _reduce(0.5 * delta * delta, reduction)
    a = np.abs(delta)
    k = huber_delta
    return _reduce(np.where(a <= k, 0.5 * delta * delta, k * (a - 0.5 * k)), reduction)


def td_loss_grad(value, reward, next_value, gamma=0.99, done=None, huber_delta=None,
                 reduction="mean"):
    r"""Semi-gradient of `td_loss`: with respect to $V(s)$ only, the target is detached.

    $$\frac{\partial \ell_i}{\partial V(s_i)} = -\delta_i
    \quad\text{(Huber: } -\operatorname{clip}(\delta_i, -\kappa, \kappa))$$

    A gradient step of size $\alpha$ on it is the TD(0) update
    $V(s) \leftarrow V(s) + \alpha \delta$.

    Returns:
        The gradient with respect to `value`, times $1/n$ for "mean".
    """
    delta = bellman_error(value, reward, next_value, gamma, done)
    if huber_delta is not None:
        delta = np.clip(delta, -huber_delta, huber_delta)
    return -delta * _scale(delta.size, reduction)
# --8<-- [end:td]


# --8<-- [start:reinforce]
def log_softmax(logits, dim=-1):
    r"""Stable log-softmax over `dim`.

    $$\log \operatorname{softmax}(z)_k = z_k - m - \log \sum_j e^{z_j - m},
    \qquad m = \max_j z_j$$
    """
    z = np.asarray(logits)
    z = z - z.max(axis=dim, keepdims=True)  # largest logit becomes 0: no overflow
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))


def discounted_returns(rewards, gamma=0.99):
    r"""Return-to-go of each step of one episode, along the last axis.

    $$G_t = \sum_{k \ge 0} \gamma^k r_{t+k} = r_t + \gamma G_{t+1}$$
    """
    rewards = np.asarray(rewards)
    G = np.zeros_like(rewards)
    running = np.zeros_like(rewards[..., 0])
    for t in range(rewards.shape[-1] - 1, -1, -1):  # backwards: G_t = r_t + γ G_{t+1}
        running = rewards[..., t] + gamma * running
        G[..., t] = running
    return G


def policy_gradient_loss(logits, actions, returns, reduction="mean"):
    r"""REINFORCE loss: minus each taken action's log-probability, times its return.

    $$\ell_i = -G_i \log \pi_\theta(a_i \mid s_i), \qquad
    \pi_\theta(\cdot \mid s_i) = \operatorname{softmax}(z_i)$$

    Its gradient is an unbiased estimate of minus the policy gradient. Subtracting a
    baseline from $G_i$ (an advantage) keeps it unbiased and lowers its variance.

    Args:
        logits: $z$, shape (..., C): unnormalised action scores, C actions.
        actions: integer array of shape (...), the action $a_i$ taken.
        returns: $G_i$ (or an advantage), shape (...); treated as a constant.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of shape (...).
    """
    logp = log_softmax(logits)  # (..., C)
    idx = np.asarray(actions)[..., None]  # (..., 1)
    logp_a = np.take_along_axis(logp, idx, axis=-1)[..., 0]  # (...)
    return _reduce(-np.asarray(returns) * logp_a, reduction)


def policy_gradient_loss_grad(logits, actions, returns, reduction="mean"):
    r"""Gradient of `policy_gradient_loss` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial z_{ik}} = G_i \bigl(\pi_\theta(k \mid s_i)
    - [k = a_i]\bigr)$$

    Returns:
        An array of the shape and dtype of `logits`, times $1/n$ for "mean"
        ($n$ = number of actions taken).
    """
    logp = log_softmax(logits)  # (..., C)
    idx = np.asarray(actions)[..., None]  # (..., 1)
    onehot = np.zeros_like(logp)
    np.put_along_axis(onehot, idx, 1, axis=-1)
    G = np.asarray(returns)[..., None]  # (..., 1), broadcast over the C actions
    return G * (np.exp(logp) - onehot) * _scale(idx.size, reduction)
# --8<-- [end:reinforce]


# --8<-- [start:ppo]
def ppo_clip_loss(log_prob, old_log_prob, advantages, clip_eps=0.2, reduction="mean"):
    r"""PPO's clipped surrogate loss (minus the objective $L^{\text{CLIP}}$).

    $$\rho_i = \exp(\log\pi_\theta(a_i|s_i) - \log\pi_{\text{old}}(a_i|s_i)), \qquad
    \ell_i = -\min\bigl(\rho_i A_i,\;
    \operatorname{clip}(\rho_i, 1 - \epsilon, 1 + \epsilon) A_i\bigr)$$

    Args:
        log_prob: $\log \pi_\theta(a_i \mid s_i)$ under the policy being trained.
        old_log_prob: the same under the policy that collected the data (a constant).
        advantages: $A_i$, same shape (a constant).
        clip_eps: $\epsilon$, the half-width of the trust region on the ratio (0.2 in
            the paper; `clip_range` / `clip_coef` in common libraries).
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `log_prob`.
    """
    ratio = np.exp(np.asarray(log_prob) - old_log_prob)  # ρ
    A = np.asarray(advantages)
    unclipped = ratio * A
    clipped = np.clip(ratio, 1 - clip_eps, 1 + clip_eps) * A
    return _reduce(-np.minimum(unclipped, clipped), reduction)


def ppo_clip_loss_grad(log_prob, old_log_prob, advantages, clip_eps=0.2,
                       reduction="mean"):
    r"""Gradient of `ppo_clip_loss` with respect to `log_prob`.

    $$\frac{\partial \ell_i}{\partial \log\pi_\theta(a_i|s_i)} =
    \begin{cases} -\rho_i A_i & \text{if } \rho_i A_i \le
    \operatorname{clip}(\rho_i, 1-\epsilon, 1+\epsilon) A_i \\
    0 & \text{otherwise (the clip is active)} \end{cases}$$

    Returns:
        An array of the shape and dtype of `log_prob`, times $1/n$ for "mean".
    """
    ratio = np.exp(np.asarray(log_prob) - old_log_prob)  # ρ, and dρ/dlogπ = ρ
    A = np.asarray(advantages)
    unclipped = ratio * A
    clipped = np.clip(ratio, 1 - clip_eps, 1 + clip_eps) * A
    flows = unclipped <= clipped  # the min picks the unclipped term
    return np.where(flows, -unclipped, 0) * _scale(ratio.size, reduction)
# --8<-- [end:ppo]


if __name__ == "__main__":
    # --8<-- [start:check-msbe]
    import torch

    rng = np.random.default_rng(0)

    def err(ours, ref):
        r"""Largest absolute difference between our array and a torch tensor."""
        return float(np.abs(np.asarray(ours) - ref.detach().numpy()).max())

    # A 3-state Markov reward process: P[s, s'] transition probabilities, r[s] rewards.
    P = np.array([[0.5, 0.5, 0.0], [0.1, 0.6, 0.3], [0.2, 0.0, 0.8]])
    r = np.array([1.0, 0.0, -2.0])
    gamma = 0.9
    v_true = np.linalg.solve(np.eye(3) - gamma * P, r)  # v = r + γ P v
    v = np.zeros(3)
    for _ in range(20000):  # gradient descent on the MSBE, full gradient
        g_v, g_next = msbe_loss_grad(v, r, P @ v, gamma, reduction="sum")
        v -= 0.2 * (g_v + P.T @ g_next)  # chain rule: next_value = P v
    print("closed form (I - γP)^-1 r      ", v_true.round(6))
    print("minimised MSBE (full gradient) ", v.round(6))
    print(f"max |V - v| = {np.abs(v - v_true).max():.1e}")

    mse = torch.nn.functional.mse_loss
    for dtype in (np.float64, np.float32):
        val, rew, nxt = (rng.normal(size=(3, 128)) * 3).astype(dtype)
        done = rng.random(128) < 0.1
        keep = torch.tensor((~done).astype(dtype))  # 0 where s' is terminal
        vt = torch.tensor(val, requires_grad=True)
        nt = torch.tensor(nxt, requires_grad=True)
        v_err = g_err = 0.0
        for red in ("mean", "sum", "none"):
            vt.grad = nt.grad = None
            ref = mse(vt, torch.tensor(rew) + gamma * keep * nt, reduction=red)
            ref.sum().backward()
            ours = msbe_loss(val, rew, nxt, gamma, done, red)
            gv, gn = msbe_loss_grad(val, rew, nxt, gamma, done, red)
            v_err = max(v_err, err(ours, ref))
            g_err = max(g_err, err(gv, vt.grad), err(gn, nt.grad))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-msbe]

    # --8<-- [start:check-td]
    import torch

    v = np.zeros(3)
    for _ in range(800):  # expected TD(0): every state once, next value averaged
        v -= 0.5 * td_loss_grad(v, r, P @ v, gamma, reduction="sum")
    print("semi-gradient TD(0) fixed point", v.round(6))
    print(f"max |V - v| = {np.abs(v - v_true).max():.1e}")

    huber = torch.nn.functional.huber_loss
    for dtype in (np.float64, np.float32):
        val, rew, nxt = (rng.normal(size=(3, 128)) * 3).astype(dtype)
        done = rng.random(128) < 0.1
        keep = torch.tensor((~done).astype(dtype))  # 0 where s' is terminal
        v_err = g_err = 0.0
        for red in ("mean", "sum", "none"):
            for kappa in (None, 1.0):
                vt = torch.tensor(val, requires_grad=True)
                nt = torch.tensor(nxt, requires_grad=True)
                target = torch.tensor(rew) + gamma * keep * nt
                target = target.detach()  # semi-gradient: no gradient through V(s')
                if kappa is None:
                    ref = 0.5 * mse(vt, target, reduction=red)
                else:
                    ref = huber(vt, target, reduction=red, delta=kappa)
                ref.sum().backward()
                ours = td_loss(val, rew, nxt, gamma, done, kappa, red)
                grad = td_loss_grad(val, rew, nxt, gamma, done, kappa, red)
                v_err = max(v_err, err(ours, ref))
                g_err = max(g_err, err(grad, vt.grad))
                assert nt.grad is None  # no gradient reaches V(s')
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-td]

    # --8<-- [start:check-reinforce]
    import torch

    print("returns of rewards [0, 0, 1], γ = 0.9:",
          discounted_returns([0.0, 0.0, 1.0], 0.9))
    for dtype in (np.float64, np.float32):
        logits = (rng.normal(size=(64, 4)) * 3).astype(dtype)  # 64 steps, 4 actions
        actions = rng.integers(0, 4, size=64)
        G = rng.normal(size=64).astype(dtype)
        zt = torch.tensor(logits, requires_grad=True)
        pi = torch.distributions.Categorical(logits=zt)
        ref = -(pi.log_prob(torch.tensor(actions)) * torch.tensor(G)).sum()
        ref.backward()
        v_err = err(policy_gradient_loss(logits, actions, G, reduction="sum"), ref)
        grad = policy_gradient_loss_grad(logits, actions, G, reduction="sum")
        g_err = err(grad, zt.grad)
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
    # --8<-- [end:check-reinforce]

    # --8<-- [start:check-ppo]
    import torch

    lp = np.log([0.5, 0.5, 0.5, 0.5])  # the new policy's log π(a|s)
    old = np.log([0.4, 0.7, 0.4, 0.7])  # ratios 1.25, 0.71, 1.25, 0.71
    A = np.array([1.0, 1.0, -1.0, -1.0])
    print("ratio   ", np.exp(lp - old).round(3))
    print("loss    ", ppo_clip_loss(lp, old, A, reduction="none").round(3))
    print("gradient", ppo_clip_loss_grad(lp, old, A, reduction="none").round(3))

    for dtype in (np.float64, np.float32):
        new, old = (rng.normal(size=(2, 256)) * 0.3 - 1).astype(dtype)
        adv = rng.normal(size=256).astype(dtype)
        nt = torch.tensor(new, requires_grad=True)
        ratio = torch.exp(nt - torch.tensor(old))
        At = torch.tensor(adv)
        ref = -torch.min(ratio * At, torch.clamp(ratio, 0.8, 1.2) * At).mean()
        ref.backward()
        v_err = err(ppo_clip_loss(new, old, adv), ref)
        g_err = err(ppo_clip_loss_grad(new, old, adv), nt.grad)
        inside = np.abs(np.exp(new - old) - 1) < 0.2  # the clip is not active here
        pg = -np.exp(new - old) * adv  # importance-ratio policy-gradient loss
        ours = ppo_clip_loss(new, old, adv, reduction="none")
        id_err = np.abs(ours - pg)[inside].max()
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e};"
              f" inside the clip range max |ours - (-ρA)| {id_err:.1e}")
    # --8<-- [end:check-ppo]
