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
# --8<-- [start:helpers]
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


def _float(x):
    r"""`x` as a float array: integers (rewards of +1, say) become float64."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _same_shape(*arrays):
    r"""The arrays, if they all have the shape of the first (no broadcasting)."""
    arrays = [np.asarray(a) for a in arrays]
    for a in arrays[1:]:
        if a.shape != arrays[0].shape:
            raise ValueError(f"shapes differ: {arrays[0].shape} and {a.shape}")
    return arrays
# --8<-- [end:helpers]


# --8<-- [start:bellman]
def bellman_error(value, reward, next_value, gamma=0.99, done=None):
    r"""One-step Bellman (TD) error of each transition.

    $$\delta_i = r_i + \gamma (1 - \text{done}_i) V(s'_i) - V(s_i)$$

    Args:
        value: $V(s_i)$ (or $Q(s_i, a_i)$), float array of any shape.
        reward: $r_i$, same shape.
        next_value: $V(s'_i)$ (or $\max_{a'} Q(s'_i, a')$), same shape.
        gamma: discount factor $\gamma \in [0, 1]$, both ends included; anything else
            (and NaN) is refused.
        done: optional boolean array, same shape, True where $s'_i$ is terminal: its
            value is not used at all (even if it is NaN or infinite).

    Returns:
        $\delta$, an array of the shape and dtype of `value`.
    """
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    value, reward, next_value = _same_shape(*map(_float, (value, reward, next_value)))
    if done is not None:
        done, _ = _same_shape(done, value)
        next_value = np.where(done, 0, next_value)  # not 0 * V(s'): 0 * inf is NaN
    return reward + value.dtype.type(gamma) * next_value - value
# --8<-- [end:bellman]


# --8<-- [start:msbe]
# --8<-- [start:msbe-loss]
def msbe_loss(value, reward, next_value, gamma=0.99, done=None, reduction="mean"):
    r"""Mean squared Bellman error, a function of both $V(s)$ and $V(s')$.

    $$\ell_i = \delta_i^2, \qquad \frac{1}{n} \sum_{i=1}^{n} \delta_i^2$$

    It is the mean squared Bellman error when `reward` and `next_value` are expected
    values given $s_i$, and the mean squared TD error when they are sampled.

    Args:
        value: $V(s_i)$, any shape.
        reward: $r_i$, same shape.
        next_value: $V(s'_i)$, same shape.
        gamma: discount factor $\gamma \in [0, 1]$.
        done: optional boolean array, True where $s'_i$ is terminal.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `value`.
    """
    delta = bellman_error(value, reward, next_value, gamma, done)
    return _reduce(delta * delta, reduction)
# --8<-- [end:msbe-loss]


# --8<-- [start:msbe-grad]
def msbe_loss_grad(value, reward, next_value, gamma=0.99, done=None, reduction="mean"):
    r"""Full gradient of `msbe_loss`: through the value and through the target.

    $$\frac{\partial \ell_i}{\partial V(s_i)} = -2 \delta_i, \qquad
    \frac{\partial \ell_i}{\partial V(s'_i)} = 2 \gamma (1 - \text{done}_i) \delta_i$$

    Returns:
        `(grad_value, grad_next_value)`, times $1/n$ for "mean".
    """
    delta = bellman_error(value, reward, next_value, gamma, done)
    g = 2 * delta * _scale(delta.size, reduction)
    g_next = delta.dtype.type(gamma) * g
    return -g, g_next if done is None else np.where(done, 0, g_next)
# --8<-- [end:msbe-grad]
# --8<-- [end:msbe]


# --8<-- [start:td]
# --8<-- [start:td-loss]
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
        gamma: discount factor $\gamma \in [0, 1]$.
        done: optional boolean array, True where $s'_i$ is terminal.
        huber_delta: if given, the Huber threshold $\kappa > 0$ (torch's `delta`):
            quadratic for $|\delta| \le \kappa$, linear beyond (as in DQN). 0,
            negative values and NaN are refused, as torch's `huber_loss` does.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `value`.
    """
    delta = bellman_error(value, reward, next_value, gamma, done)
    if huber_delta is None:
        return _reduce(0.5 * delta * delta, reduction)
    if not huber_delta > 0:
        raise ValueError(f"huber_delta must be > 0, got {huber_delta}")
    a, k = np.abs(delta), delta.dtype.type(huber_delta)
    return _reduce(np.where(a <= k, 0.5 * delta * delta, k * (a - 0.5 * k)), reduction)
# --8<-- [end:td-loss]


# --8<-- [start:td-grad]
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
        if not huber_delta > 0:
            raise ValueError(f"huber_delta must be > 0, got {huber_delta}")
        k = delta.dtype.type(huber_delta)
        delta = np.clip(delta, -k, k)
    return -delta * _scale(delta.size, reduction)
# --8<-- [end:td-grad]
# --8<-- [end:td]


# --8<-- [start:reinforce]
# --8<-- [start:log-softmax]
def log_softmax(logits):
    r"""Log-softmax over the last axis, accurate even for a probability close to 1.

    $$\log \operatorname{softmax}(z)_k = z_k - m - \log\Bigl(1 + \sum_{j \ne j^*}
    e^{z_j - m}\Bigr), \qquad m = z_{j^*} = \max_j z_j$$
    """
    z = np.asarray(logits)
    top = z.argmax(axis=-1)[..., None]  # (..., 1): index j* of the largest logit
    m = np.take_along_axis(z, top, axis=-1)  # (..., 1)
    e = np.exp(z - m)  # (..., C), the largest is 1: no overflow
    np.put_along_axis(e, top, 0, axis=-1)  # leave it out of the sum ...
    return z - m - np.log1p(e.sum(axis=-1, keepdims=True))  # ... and add it as log1p
# --8<-- [end:log-softmax]


# --8<-- [start:returns]
def discounted_returns(rewards, gamma=0.99):
    r"""Return-to-go of each step of one episode, along the last axis.

    $$G_t = \sum_{k \ge 0} \gamma^k r_{t+k} = r_t + \gamma G_{t+1}$$

    Args:
        rewards: float array (..., T), the rewards of one episode per row; T may be 0.
        gamma: discount factor $\gamma \in [0, 1]$; anything else is refused.
    """
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    rewards = _float(rewards)  # integer rewards would turn γ into int(γ) = 0
    if rewards.ndim == 0:
        raise ValueError("rewards need a time axis (the last one)")
    g = rewards.dtype.type(gamma)
    G = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[:-1], dtype=rewards.dtype)
    for t in range(rewards.shape[-1] - 1, -1, -1):  # backwards: G_t = r_t + γ G_{t+1}
        running = rewards[..., t] + g * running
        G[..., t] = running
    return G
# --8<-- [end:returns]


# --8<-- [start:pg-loss]
def _check_actions(logits, actions, returns):
    r"""Logits (..., C), actions (...) in [0, C) and returns (...), as arrays."""
    logits, actions, returns = (np.asarray(a) for a in (logits, actions, returns))
    if actions.shape != logits.shape[:-1] or returns.shape != actions.shape:
        raise ValueError(f"need logits (..., C), actions and returns (...); got "
                         f"{logits.shape}, {actions.shape}, {returns.shape}")
    C = logits.shape[-1]
    if ((actions < 0) | (actions >= C)).any():  # NumPy would wrap -1 to C - 1
        raise ValueError(f"actions must be in [0, {C})")
    return logits, actions[..., None], returns  # actions as indices (..., 1)


def policy_gradient_loss(logits, actions, returns, reduction="mean"):
    r"""REINFORCE loss: minus each taken action's log-probability, times its weight.

    $$\ell_i = -w_i \log \pi_\theta(a_i \mid s_i), \qquad
    \pi_\theta(\cdot \mid s_i) = \operatorname{softmax}(z_i)$$

    For an unbiased estimate of minus the gradient of the expected discounted return,
    the weight of step $t$ is $\gamma^t G_t$; the common $w = G_t$ is biased for
    $\gamma < 1$. Subtracting a baseline $b(s_t)$ from $G_t$ keeps it unbiased.

    Args:
        logits: $z$, shape (..., C): unnormalised action scores, C actions.
        actions: integer array of shape (...), the action $a_i$ taken, in [0, C).
        returns: the weights $w_i$, shape (...); treated as constants.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of shape (...).
    """
    logits, idx, w = _check_actions(logits, actions, returns)
    logp_a = np.take_along_axis(log_softmax(logits), idx, axis=-1)[..., 0]  # (...)
    return _reduce(-w * logp_a, reduction)
# --8<-- [end:pg-loss]


# --8<-- [start:pg-grad]
def policy_gradient_loss_grad(logits, actions, returns, reduction="mean"):
    r"""Gradient of `policy_gradient_loss` with respect to the logits.

    $$\frac{\partial \ell_i}{\partial z_{ik}} = w_i \bigl(\pi_\theta(k \mid s_i)
    - [k = a_i]\bigr)$$

    Returns:
        An array of the shape and dtype of `logits`, times $1/n$ for "mean"
        ($n$ = number of actions taken).
    """
    logits, idx, w = _check_actions(logits, actions, returns)
    logp = log_softmax(logits)  # (..., C)
    d = np.exp(logp)  # π(k|s)
    logp_a = np.take_along_axis(logp, idx, axis=-1)
    np.put_along_axis(d, idx, np.expm1(logp_a), axis=-1)  # π(a|s) - 1, not cancelling
    return w[..., None] * d * _scale(w.size, reduction)
# --8<-- [end:pg-grad]
# --8<-- [end:reinforce]


# --8<-- [start:ppo]
# --8<-- [start:ppo-loss]
def ppo_clip_loss(log_prob, old_log_prob, advantages, clip_eps=0.2, reduction="mean"):
    r"""PPO's clipped surrogate loss (minus the objective $L^{\text{CLIP}}$).

    $$\rho_i = \exp(\log\pi_\theta(a_i|s_i) - \log\pi_{\text{old}}(a_i|s_i)), \qquad
    \ell_i = -\min\bigl(\rho_i A_i,\;
    \operatorname{clip}(\rho_i, 1 - \epsilon, 1 + \epsilon) A_i\bigr)$$

    Args:
        log_prob: $\log \pi_\theta(a_i \mid s_i)$ under the policy being trained.
        old_log_prob: the same under the policy that collected the data (a constant).
        advantages: $A_i$, same shape (a constant).
        clip_eps: $\epsilon \ge 0$, the half-width of the trust region on the ratio (0.2
            in the paper; `clip_range` / `clip_coef` in common libraries); 0 and
            infinity are allowed, negative values and NaN refused.
        reduction: "mean" (default), "sum" or "none".

    Returns:
        A scalar, or for "none" an array of the shape of `log_prob`.
    """
    if not clip_eps >= 0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps}")
    log_prob, old_log_prob, A = _same_shape(log_prob, old_log_prob, advantages)
    ratio = np.exp(log_prob - old_log_prob)  # ρ
    eps = ratio.dtype.type(clip_eps)
    clipped = np.clip(ratio, 1 - eps, 1 + eps) * A
    return _reduce(-np.minimum(ratio * A, clipped), reduction)
# --8<-- [end:ppo-loss]


# --8<-- [start:ppo-grad]
def ppo_clip_loss_grad(log_prob, old_log_prob, advantages, clip_eps=0.2,
                       reduction="mean"):
    r"""Gradient of `ppo_clip_loss` with respect to `log_prob`.

    $$\frac{\partial \ell_i}{\partial \log\pi_\theta(a_i|s_i)} =
    \begin{cases} -\rho_i A_i & \text{if } \rho_i A_i \le
    \operatorname{clip}(\rho_i, 1-\epsilon, 1+\epsilon) A_i \\
    0 & \text{otherwise (the clip is active)} \end{cases}$$

    Returns:
        An array of the shape and dtype of `log_prob`, times $1/n$ for "mean"; NaN
        where the loss is NaN, as in torch.
    """
    if not clip_eps >= 0:
        raise ValueError(f"clip_eps must be >= 0, got {clip_eps}")
    log_prob, old_log_prob, A = _same_shape(log_prob, old_log_prob, advantages)
    ratio = np.exp(log_prob - old_log_prob)  # ρ, and dρ/dlogπ = ρ
    eps = ratio.dtype.type(clip_eps)
    unclipped = ratio * A
    clipped = np.clip(ratio, 1 - eps, 1 + eps) * A
    flows = (unclipped <= clipped) | np.isnan(unclipped)  # the min picks ρA (or NaN)
    return np.where(flows, -unclipped, 0) * _scale(ratio.size, reduction)
# --8<-- [end:ppo-grad]
# --8<-- [end:ppo]


if __name__ == "__main__":
    # --8<-- [start:tabular]
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
    # --8<-- [end:tabular]

    # --8<-- [start:check-msbe]
    import torch

    rng = np.random.default_rng(0)

    def err(ours, ref):
        r"""Largest absolute difference between our array and a torch tensor."""
        return float(np.abs(np.asarray(ours) - ref.detach().numpy()).max())

    def rel(ours, ref):
        r"""That difference over the largest magnitude of the reference."""
        return err(ours, ref) / float(ref.detach().abs().max())

    print("checked against torch.nn.functional.mse_loss (MSBE: into V(s) and V(s'))")
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
            v_err = max(v_err, rel(ours, ref))
            g_err = max(g_err, err(gv, vt.grad), err(gn, nt.grad))
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| relative value {v_err:.1e}, "
              f"grad {g_err:.1e}")
    # --8<-- [end:check-msbe]

    # --8<-- [start:double-sampling]
    # Every transition (s, s') of the process above, each state weighted 1/3
    s_now, s_next = np.nonzero(P)  # the transitions that can happen
    w = P[s_now, s_next] / 3  # probability of each transition

    def sampled_msbe(v):
        r"""Mean of the squared error of single sampled transitions, under P."""
        d2 = msbe_loss(v[s_now], r[s_now], v[s_next], gamma, reduction="none")
        return (w * d2).sum()

    delta_bar = r + gamma * P @ v_true - v_true  # expected Bellman error, per state
    print("expected Bellman error at v_true ", delta_bar.round(12))
    print(f"sampled squared error at v_true   {sampled_msbe(v_true):.4f}")
    # its minimiser: linear least squares, since δ = r(s) - (e_s - γ e_s') · v
    A = np.sqrt(w)[:, None] * (np.eye(3)[s_now] - gamma * np.eye(3)[s_next])
    v_biased = np.linalg.lstsq(A, np.sqrt(w) * r[s_now], rcond=None)[0]
    print(f"sampled squared error at its min  {sampled_msbe(v_biased):.4f}")
    print("its minimiser                    ", v_biased.round(4))
    print("v_true                           ", v_true.round(4))
    # --8<-- [end:double-sampling]

    # --8<-- [start:check-td]
    import torch

    v = np.zeros(3)
    for _ in range(800):  # expected TD(0): every state once, next value averaged
        v -= 0.5 * td_loss_grad(v, r, P @ v, gamma, reduction="sum")
    print("semi-gradient TD(0) fixed point", v.round(6))
    print(f"max |V - v| = {np.abs(v - v_true).max():.1e}")

    print("checked against torch.nn.functional.mse_loss and huber_loss (TD loss)")
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
                v_err = max(v_err, rel(ours, ref))
                g_err = max(g_err, err(grad, vt.grad))
                assert nt.grad is None  # no gradient reaches V(s')
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| relative value {v_err:.1e}, "
              f"grad {g_err:.1e}")
    # --8<-- [end:check-td]

    # --8<-- [start:check-reinforce]
    import torch

    print("returns of rewards [0, 0, 1], γ = 0.9:",
          discounted_returns([0.0, 0.0, 1.0], 0.9))
    print("checked against torch.distributions.Categorical(logits=z).log_prob"
          " (REINFORCE loss)")
    for dtype in (np.float64, np.float32):
        logits = (rng.normal(size=(64, 4)) * 3).astype(dtype)  # 64 steps, 4 actions
        actions = rng.integers(0, 4, size=64)
        G = rng.normal(size=64).astype(dtype)
        zt = torch.tensor(logits, requires_grad=True)
        pi = torch.distributions.Categorical(logits=zt)
        ref = -(pi.log_prob(torch.tensor(actions)) * torch.tensor(G)).sum()
        ref.backward()
        v_err = rel(policy_gradient_loss(logits, actions, G, reduction="sum"), ref)
        grad = policy_gradient_loss_grad(logits, actions, G, reduction="sum")
        g_err = err(grad, zt.grad)
        name = np.dtype(dtype).name
        print(f"{name}: max |ours - torch| relative value {v_err:.1e}, "
              f"grad {g_err:.1e}")
    # --8<-- [end:check-reinforce]

    # --8<-- [start:discount]
    # A two-step episode: state 0, then state 1 or 2, then the end; two actions in each.
    gamma = 0.9
    R0 = np.array([1.0, 0.0])  # reward of action a0 in state 0
    P1 = np.array([[0.8, 0.2], [0.3, 0.7]])  # P(next state 1 or 2 | a0)
    R1 = np.array([[0.0, 2.0], [1.0, -1.0]])  # reward of action a1 in state 1 or 2
    theta = np.array([[0.2, -0.4], [0.5, 0.1], [-0.3, 0.6]])  # logits z[s, a]

    # Exact gradient of J = E[r_0 + γ r_1], by autograd over all 8 trajectories
    th = torch.tensor(theta, requires_grad=True)
    pi = th.softmax(-1)
    J = sum(pi[0, a0] * P1[a0, s1] * pi[1 + s1, a1] * (R0[a0] + gamma * R1[s1, a1])
            for a0 in range(2) for s1 in range(2) for a1 in range(2))
    J.backward()

    def expected_loss_grad(weight_t):
        r"""E[gradient of the REINFORCE loss] over all trajectories, weights w_t."""
        grad, p = np.zeros_like(theta), pi.detach().numpy()
        for a0 in range(2):
            for s1 in range(2):
                for a1 in range(2):
                    prob = p[0, a0] * P1[a0, s1] * p[1 + s1, a1]
                    G1 = R1[s1, a1]  # return from step 1
                    G0 = R0[a0] + gamma * G1  # return from step 0
                    steps = ((0, a0, weight_t(0, G0)), (1 + s1, a1, weight_t(1, G1)))
                    for s, a, w in steps:
                        g = policy_gradient_loss_grad(theta[s], a, w, "sum")
                        grad[s] += prob * g
        return grad

    for name, weight_t in (("γ^t G_t", lambda t, G: gamma**t * G),
                           ("G_t    ", lambda t, G: G)):
        gap = np.abs(expected_loss_grad(weight_t) + th.grad.numpy()).max()
        print(f"weights {name}: max |E[loss gradient] + ∇J| = {gap:.1e}")
    # --8<-- [end:discount]

    # --8<-- [start:check-ppo]
    import torch

    lp = np.log([0.5, 0.5, 0.5, 0.5])  # the new policy's log π(a|s)
    old = np.log([0.4, 0.7, 0.4, 0.7])  # ratios 1.25, 0.71, 1.25, 0.71
    A = np.array([1.0, 1.0, -1.0, -1.0])
    print("ratio   ", np.exp(lp - old).round(3))
    print("loss    ", ppo_clip_loss(lp, old, A, reduction="none").round(3))
    print("gradient", ppo_clip_loss_grad(lp, old, A, reduction="none").round(3))

    print("checked against PPO's clipped objective written with torch (autograd)")
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
        print(f"{name}: max |ours - torch| value {v_err:.1e}, grad {g_err:.1e}")
        print(f"  inside the clip range, max |ours - (-ρA)| = {id_err:.1e}")
    # --8<-- [end:check-ppo]
