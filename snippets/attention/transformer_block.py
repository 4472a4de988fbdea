r"""A transformer block, pre-norm and post-norm.

References: Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (post-norm); Xiong et
al., "On Layer Normalization in the Transformer Architecture", ICML 2020 (pre-norm). Checked
against `torch.nn.TransformerEncoderLayer` with the same weights copied in.
"""

# --8<-- [start:impl]
# --8<-- [start:attention]
import math

import torch
import torch.nn.functional as F
from torch import nn


class SelfAttention(nn.Module):
    r"""Multi-head self-attention with one packed projection for queries, keys, values.

    $$\operatorname{softmax}\!\Big(\frac{Q_i K_i^\top}{\sqrt{D}}\Big) V_i
    \text{ per head, concatenated, then } W_o$$

    Args:
        embed_dim: C.
        num_heads: H, dividing C; each head has width D = C / H.
    """

    def __init__(self, embed_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)  # rows [W_q; W_k; W_v], as torch
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x, blocked=None):  # blocked: bool, True = may not attend
        B, T, C = x.shape
        H, D = self.num_heads, C // self.num_heads
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = k.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        v = v.view(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        scores = q @ k.transpose(-2, -1) / math.sqrt(D)  # (B, H, T, T)
        if blocked is not None:
            scores = scores.masked_fill(blocked, float("-inf"))
        y = F.softmax(scores, dim=-1) @ v  # (B, H, T, T) @ (B, H, T, D) -> (B, H, T, D)
        y = y.transpose(1, 2).reshape(B, T, C)  # heads side by side: (B, T, C)
        return self.proj(y)  # (B, T, C)
# --8<-- [end:attention]


# --8<-- [start:mlp]
class MLP(nn.Module):
    r"""The position-wise feed-forward network: widen, activate, project back.

    $$\operatorname{MLP}(x) = W_2\, \phi(W_1 x + b_1) + b_2$$

    Args:
        embed_dim: C, the width of the residual stream.
        hidden: the inner width (often 4 C).
        activation: "relu" or "gelu" (the exact, erf-based GELU).
    """

    def __init__(self, embed_dim, hidden, activation="relu"):
        super().__init__()
        self.fc = nn.Linear(embed_dim, hidden)
        self.proj = nn.Linear(hidden, embed_dim)
        self.activation = activation
        self.act = {"relu": F.relu, "gelu": F.gelu}[activation]

    def forward(self, x):  # (B, T, C)
        return self.proj(self.act(self.fc(x)))  # (B, T, hidden) -> (B, T, C)
# --8<-- [end:mlp]


# --8<-- [start:block]
class Block(nn.Module):
    r"""Self-attention then an MLP, each in a residual connection with a LayerNorm.

    Pre-norm: $x + \operatorname{MHA}(\operatorname{LN}(x))$, then
    $x + \operatorname{MLP}(\operatorname{LN}(x))$. Post-norm:
    $\operatorname{LN}(x + \operatorname{MHA}(x))$, then
    $\operatorname{LN}(x + \operatorname{MLP}(x))$.

    Args:
        embed_dim: C.
        num_heads: H, dividing C.
        hidden: the MLP's inner width.
        activation: "relu" or "gelu".
        norm_first: True for pre-norm, False for post-norm (the original paper's).
        eps: the LayerNorms' epsilon (torch's default 1e-5).
    """

    def __init__(self, embed_dim, num_heads, hidden, activation="relu", norm_first=True,
                 eps=1e-5):
        super().__init__()
        self.norm_first = norm_first
        self.ln_1 = nn.LayerNorm(embed_dim, eps=eps)
        self.attn = SelfAttention(embed_dim, num_heads)
        self.ln_2 = nn.LayerNorm(embed_dim, eps=eps)
        self.mlp = MLP(embed_dim, hidden, activation)

    def forward(self, x, attn_mask=None, key_padding_mask=None):  # x: (B, T, C)
        B, T, _ = x.shape
        blocked = None  # True where a query may not look at a key, (B, 1, T, T)
        if attn_mask is not None:
            blocked = attn_mask.view(1, 1, T, T)
        if key_padding_mask is not None:
            pad = key_padding_mask.view(B, 1, 1, T)  # padding keys, for every query
            blocked = pad if blocked is None else blocked | pad
        if self.norm_first:  # pre-norm: the residual stream x is never normalized
            x = x + self.attn(self.ln_1(x), blocked)
            x = x + self.mlp(self.ln_2(x))
        else:  # post-norm: normalize after each residual sum
            x = self.ln_1(x + self.attn(x, blocked))
            x = self.ln_2(x + self.mlp(x))
        return x  # (B, T, C)
# --8<-- [end:block]
# --8<-- [end:impl]


# --8<-- [start:to_torch]
def block_layout(block, get=lambda p: p.detach()):
    """The block's parameters (or gradients) by nn.TransformerEncoderLayer's names."""
    pairs = [(block.attn.qkv, "self_attn.in_proj_"),  # in_proj_weight: no dot
             (block.attn.proj, "self_attn.out_proj."),
             (block.mlp.fc, "linear1."), (block.mlp.proj, "linear2."),
             (block.ln_1, "norm1."), (block.ln_2, "norm2.")]
    out = {}
    for ours, theirs in pairs:
        out[f"{theirs}weight"] = get(ours.weight)
        out[f"{theirs}bias"] = get(ours.bias)
    return out


def to_torch(block):
    """An nn.TransformerEncoderLayer (dropout 0, batch-first) with our weights."""
    C, hidden = block.mlp.fc.in_features, block.mlp.fc.out_features
    ref = nn.TransformerEncoderLayer(
        C, block.attn.num_heads, hidden, dropout=0.0, batch_first=True,
        activation=block.mlp.activation, layer_norm_eps=block.ln_1.eps,
        norm_first=block.norm_first,
    ).to(block.ln_1.weight.dtype)
    ref.load_state_dict(block_layout(block))  # strict: every name must match
    return ref
# --8<-- [end:to_torch]


# --8<-- [start:compare]
def max_errors(block, x, mask=None, pad=None):
    """Largest |ours - torch| in the output and in every gradient, in training mode."""
    ref = to_torch(block).train()  # torch's ordinary path (see the fast path below)
    found = []
    for module, kwargs in [(block, {"attn_mask": mask, "key_padding_mask": pad}),
                           (ref, {"src_mask": mask, "src_key_padding_mask": pad})]:
        module.zero_grad()
        xs = x.detach().clone().requires_grad_()
        y = module(xs, **kwargs)  # (B, T, C)
        probe = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)
        (y * probe).sum().backward()
        if module is block:
            grads = block_layout(block, get=lambda p: p.grad)
        else:
            grads = {name: p.grad for name, p in ref.named_parameters()}
        found.append((y, [xs.grad] + [grads[n] for n in sorted(grads)]))
    (y, grads), (y_ref, grads_ref) = found
    pairs = zip(grads, grads_ref, strict=True)
    grad = max((a - b).abs().max().item() for a, b in pairs)
    return (y - y_ref).abs().max().item(), grad


def report(reference, **options):
    """Print the errors of a fresh Block(**options) against its torch copy."""
    print(f"checked against {reference}")
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        block = Block(16, 4, 64, **options).to(dtype)
        x = torch.randn(2, 5, 16, dtype=dtype)
        causal = torch.ones(5, 5, dtype=torch.bool).triu(1)  # True: a future token
        pad = torch.tensor([[False] * 5, [False, False, False, True, True]])  # (B, T)
        value, grad = max_errors(block, x, causal, pad)
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value:.1e}, grad {grad:.1e}")
# --8<-- [end:compare]


# --8<-- [start:depth]
def last_layer_gradient(norm_first, depth, C=16, seed=0):
    """At initialisation: the gradient norm of the last block's MLP output weight,
    and the root-mean-square of the residual stream that the last block hands on."""
    torch.manual_seed(seed)
    blocks = [Block(C, 4, 4 * C, norm_first=norm_first) for _ in range(depth)]
    ln_f = nn.LayerNorm(C)  # a pre-norm stack ends with one more LayerNorm
    head = nn.Linear(C, 50)  # logits over a 50-token vocabulary
    x = torch.randn(2, 8, C)  # (B, T, C)
    targets = torch.randint(0, 50, (2 * 8,))
    for block in blocks:
        x = block(x)
    rms = x.pow(2).mean().sqrt().item()
    if norm_first:
        x = ln_f(x)
    F.cross_entropy(head(x).view(-1, 50), targets).backward()  # (B*T, 50) logits
    return blocks[-1].mlp.proj.weight.grad.norm().item(), rms
# --8<-- [end:depth]


if __name__ == "__main__":
    # --8<-- [start:check]
    torch.manual_seed(0)
    block = Block(16, 4, 64, activation="gelu").double()
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    print("x:", tuple(x.shape), "-> block(x):", tuple(block(x).shape))
    print("parameters:", sum(p.numel() for p in block.parameters()))

    for act in ("relu", "gelu"):
        report(f"torch.nn.TransformerEncoderLayer (norm_first=True, activation={act})",
               activation=act, norm_first=True)
    # --8<-- [end:check]

    # --8<-- [start:check_post]
    for act in ("relu", "gelu"):
        report(f"torch.nn.TransformerEncoderLayer (norm_first=False, activation={act})",
               activation=act, norm_first=False)
    # --8<-- [end:check_post]

    # --8<-- [start:check_fast]
    print("checked against torch.nn.TransformerEncoderLayer in eval mode under no_grad")
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        block = Block(16, 4, 64).to(dtype)
        ref = to_torch(block).eval()  # eval + no_grad: torch's fused fast path
        x = torch.randn(2, 5, 16, dtype=dtype)
        with torch.no_grad():
            value = (block(x) - ref(x)).abs().max().item()
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {value:.1e}")
    # --8<-- [end:check_fast]

    # --8<-- [start:check_depth]
    print("depth   pre-norm: grad   rms(x)   grad*rms   post-norm: grad   rms(x)")
    for depth in (1, 4, 16):
        pre, pre_rms = last_layer_gradient(True, depth)
        post, post_rms = last_layer_gradient(False, depth)
        print(f"{depth:5d}   {pre:14.3f}   {pre_rms:6.2f}   {pre * pre_rms:8.3f}"
              f"   {post:15.3f}   {post_rms:6.2f}")
    # --8<-- [end:check_depth]
