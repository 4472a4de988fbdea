r"""A decoder-only transformer language model, small enough to read in one sitting.

Token and position embeddings, a stack of pre-norm blocks with causal self-attention, a final
layer norm and an output layer that shares the embedding's weights: the shape of GPT-2
(Radford et al., "Language Models are Unsupervised Multitask Learners", 2019). Checked against a
stack of `torch.nn.TransformerEncoderLayer(norm_first=True)` with copied weights, and its
parameter-count formula against the model itself and against Hugging Face's GPT-2.
"""

# --8<-- [start:impl]
# --8<-- [start:attention]
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    r"""Multi-head self-attention in which position $t$ sees positions $\le t$ only.

    Args:
        d_model: width $d$ of the token vectors.
        n_head: number of heads; must divide `d_model`.
    """

    def __init__(self, d_model, n_head):
        super().__init__()
        if d_model % n_head:
            raise ValueError(f"n_head={n_head} does not divide d_model={d_model}")
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)  # W_q, W_k, W_v stacked
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        H = self.n_head
        q, k, v = self.qkv(x).split(C, dim=2)  # each (B, T, C)
        q = q.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, C/H)
        k = k.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, C/H)
        v = v.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, C/H)
        att = q @ k.transpose(-2, -1) / math.sqrt(C // H)  # (B, H, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
        att = att.masked_fill(future, float("-inf")).softmax(dim=-1)  # (B, H, T, T)
        y = att @ v  # (B, H, T, C/H)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): heads side by side
        return self.proj(y)
# --8<-- [end:attention]


# --8<-- [start:block]
class Block(nn.Module):
    r"""Pre-norm transformer block: $x + \mathrm{Attn}(\mathrm{LN}(x))$, then
    $x + \mathrm{MLP}(\mathrm{LN}(x))$.

    Args:
        d_model: width $d$ of the token vectors.
        n_head: number of attention heads.
    """

    def __init__(self, d_model, n_head):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model),  # (B, T, 4d)
            nn.GELU(),
            nn.Linear(4 * d_model, d_model),  # (B, T, d)
        )

    def forward(self, x):  # x: (B, T, d)
        x = x + self.attn(self.ln1(x))  # tokens exchange information
        return x + self.mlp(self.ln2(x))  # each token is processed on its own
# --8<-- [end:block]


# --8<-- [start:model]
class TinyGPT(nn.Module):
    r"""Decoder-only language model: next-token logits for every position.

    Args:
        vocab_size: number of tokens $V$.
        block_size: longest sequence $T_{\max}$ (one learned position vector each).
        d_model: width $d$ of the token vectors.
        n_layer: number of blocks $L$.
        n_head: number of attention heads per block.
    """

    def __init__(self, vocab_size, block_size, d_model, n_layer, n_head):
        super().__init__()
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, d_model)  # (V, d)
        self.pos = nn.Embedding(block_size, d_model)  # (T_max, d)
        self.blocks = nn.ModuleList(Block(d_model, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok.weight  # weight tying: one (V, d) matrix
        for emb in (self.tok, self.pos):  # GPT-2's scale: logits start near zero
            nn.init.normal_(emb.weight, std=0.02)

    def forward(self, idx):  # idx: (B, T) token ids
        T = idx.shape[1]
        if self.block_size < T:
            raise ValueError(f"sequence of {T} tokens, block_size is {self.block_size}")
        positions = torch.arange(T, device=idx.device)  # (T,)
        x = self.tok(idx) + self.pos(positions)  # (B, T, d)
        for block in self.blocks:
            x = block(x)  # (B, T, d)
        return self.head(self.ln_f(x))  # (B, T, V)
# --8<-- [end:model]


# --8<-- [start:loss]
def next_token_loss(model, idx):
    r"""Mean cross-entropy of predicting token $t + 1$ from tokens $\le t$.

    Args:
        model: maps (B, T) token ids to (B, T, V) logits.
        idx: (B, T) token ids, T >= 2.

    Returns:
        A 0-d tensor, the loss averaged over the B·(T - 1) predictions.
    """
    logits = model(idx[:, :-1])  # (B, T-1, V): position t predicts token t+1
    targets = idx[:, 1:]  # (B, T-1)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())
# --8<-- [end:loss]


# --8<-- [start:generate]
@torch.no_grad()
def generate(model, idx, n_new):
    r"""Greedy decoding: append the most likely next token, `n_new` times.

    Args:
        model: a `TinyGPT`.
        idx: (B, T) prompt token ids.
        n_new: number of tokens to add.

    Returns:
        (B, T + n_new) token ids.
    """
    for _ in range(n_new):
        context = idx[:, -model.block_size:]  # (B, <= T_max): what the model can see
        logits = model(context)[:, -1]  # (B, V): only the last position's prediction
        idx = torch.cat([idx, logits.argmax(dim=-1, keepdim=True)], dim=1)  # (B, T+1)
    return idx
# --8<-- [end:generate]


# --8<-- [start:train]
def train_on_text(text, steps=100, block_size=32, seed=0):
    r"""Train a small `TinyGPT` on the characters of `text` with AdamW.

    Args:
        text: the training text; its distinct characters are the vocabulary.
        steps: optimizer steps, each on 8 random windows of `block_size + 1` characters.
        block_size: context length; `text` must be longer than `block_size + 1`.
        seed: seeds the weights and the windows.

    Returns:
        `(model, chars, losses)`: the model, the vocabulary (index to character) and the
        training loss of every step.
    """
    if len(text) <= block_size + 1:
        need = block_size + 1
        raise ValueError(f"text of {len(text)} characters, need more than {need}")
    torch.manual_seed(seed)
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text])  # (N,) token ids
    model = TinyGPT(len(chars), block_size, d_model=32, n_layer=2, n_head=4)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(steps):
        starts = torch.randint(0, len(data) - block_size - 1, (8,))
        batch = torch.stack([data[s : s + block_size + 1] for s in starts])  # (8, T+1)
        loss = next_token_loss(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, chars, losses
# --8<-- [end:train]


# --8<-- [start:count]
def parameter_count(vocab_size, block_size, d_model, n_layer):
    r"""Parameters of `TinyGPT`, counted from its shapes.

    $$V d + T_{\max} d + L\,(12 d^2 + 13 d) + 2 d$$

    Args:
        vocab_size: number of tokens $V$.
        block_size: longest sequence $T_{\max}$.
        d_model: width $d$ of the token vectors.
        n_layer: number of blocks $L$.

    Returns:
        The number of parameters (the tied output matrix counted once).
    """
    d = d_model
    per_block = (
        2 * d  # ln1: weight and bias
        + 3 * d * d + 3 * d  # qkv
        + d * d + d  # proj
        + 2 * d  # ln2
        + 4 * d * d + 4 * d  # mlp up
        + 4 * d * d + d  # mlp down
    )  # = 12 d^2 + 13 d
    return vocab_size * d + block_size * d + n_layer * per_block + 2 * d
# --8<-- [end:count]
# --8<-- [end:impl]


# --8<-- [start:reference]
def torch_reference(model):
    r"""The same network built from `torch.nn.TransformerEncoderLayer`, weights copied.

    Args:
        model: a `TinyGPT`.

    Returns:
        A function mapping (B, T) token ids to (B, T, V) logits; its `layers` attribute
        holds the encoder layers.
    """
    d = model.tok.embedding_dim
    layers = []
    for block in model.blocks:
        layer = nn.TransformerEncoderLayer(
            d, block.attn.n_head, dim_feedforward=4 * d, dropout=0.0,
            activation="gelu", batch_first=True, norm_first=True,
        ).to(model.tok.weight.dtype)
        with torch.no_grad():
            layer.norm1.load_state_dict(block.ln1.state_dict())
            layer.self_attn.in_proj_weight.copy_(block.attn.qkv.weight)  # (3d, d)
            layer.self_attn.in_proj_bias.copy_(block.attn.qkv.bias)
            layer.self_attn.out_proj.load_state_dict(block.attn.proj.state_dict())
            layer.norm2.load_state_dict(block.ln2.state_dict())
            layer.linear1.load_state_dict(block.mlp[0].state_dict())
            layer.linear2.load_state_dict(block.mlp[2].state_dict())
        layers.append(layer)

    def forward(idx):
        T = idx.shape[1]
        x = model.tok(idx) + model.pos(torch.arange(T))  # (B, T, d)
        mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=x.dtype)
        for layer in layers:
            x = layer(x, src_mask=mask, is_causal=True)
        return F.linear(model.ln_f(x), model.tok.weight)  # (B, T, V)

    forward.layers = layers  # so that tests can read their gradients
    return forward
# --8<-- [end:reference]


if __name__ == "__main__":
    # --8<-- [start:demo]
    torch.manual_seed(0)
    model = TinyGPT(vocab_size=50, block_size=16, d_model=32, n_layer=2, n_head=4)
    idx = torch.randint(0, 50, (2, 10))  # (B, T) = (2, 10)
    print("logits shape      ", tuple(model(idx).shape))
    print("next-token loss   ", round(next_token_loss(model, idx).item(), 4),
          " (log V =", round(math.log(50), 4), "for a uniform guess)")
    print("greedy 5 more     ", generate(model, idx[:1, :4], 5).tolist())
    counted = sum(p.numel() for p in model.parameters())  # tied weight counted once
    print("parameters        ", counted, "formula", parameter_count(50, 16, 32, 2))
    print("GPT-2 small       ", f"{parameter_count(50257, 1024, 768, 12):,}")
    # --8<-- [end:demo]

    # --8<-- [start:train_demo]
    text = "to be or not to be, that is the question. " * 4
    model, chars, losses = train_on_text(text, steps=100)
    print("loss at steps 1, 50, 100:", [round(losses[i], 3) for i in (0, 49, 99)])
    prompt = torch.tensor([[chars.index(c) for c in "to be or"]])  # (1, 8)
    out = generate(model, prompt, 40)  # (1, 48)
    print(repr("".join(chars[i] for i in out[0].tolist())))
    # --8<-- [end:train_demo]

    # --8<-- [start:check]
    print("checked against torch.nn.TransformerEncoderLayer")
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(1)
        m = TinyGPT(vocab_size=40, block_size=12, d_model=24, n_layer=3, n_head=3).to(dtype)
        ref = torch_reference(m)
        idx = torch.randint(0, 40, (3, 12))
        ours, theirs = m(idx), ref(idx)
        g_ours = torch.autograd.grad(ours.square().sum(), m.tok.weight)[0]
        g_ref = torch.autograd.grad(theirs.square().sum(), m.tok.weight)[0]
        value = ((ours - theirs).abs().max() / theirs.abs().max()).item()
        grad = ((g_ours - g_ref).abs().max() / g_ref.abs().max()).item()
        print(f"{str(dtype)[6:]}: max |ours - torch| relative value {value:.1e},"
              f" relative grad {grad:.1e}")
    # --8<-- [end:check]
