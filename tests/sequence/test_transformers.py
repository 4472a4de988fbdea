"""The decoder-only model of snippets/sequence/transformers.py against torch's encoder layers,
its causality, its loss and decoding, and its parameter-count formula."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.sequence.transformers import (
    CausalSelfAttention,
    TinyGPT,
    generate,
    next_token_loss,
    parameter_count,
    torch_reference,
    train_on_text,
)

# Errors relative to the largest magnitude of torch's result. Both sides run the same
# arithmetic through up to three blocks of layer norms, softmaxes and length-96 dot products in a
# different order (torch fuses the attention), so float32 differs by tens of ULPs of the largest
# entry (measured: ~4e-7); 1e-5 leaves room for other shapes without hiding a wrong weight
# (which gives errors of order 1). float64: the same reasoning at ~1e-16.
RELATIVE = {torch.float64: 1e-12, torch.float32: 1e-5}
CONFIGS = [  # (vocab, block, d_model, layers, heads, B, T)
    (40, 12, 24, 3, 3, 3, 12),  # T at the block size
    (7, 5, 8, 1, 1, 2, 1),  # one head, one token
    (30, 9, 16, 2, 8, 1, 6),  # head width 2
]


def relative_error(ours, theirs):
    return ((ours - theirs).abs().max() / theirs.abs().max()).item()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "x".join(map(str, c)))
def test_matches_torch_encoder_layers(dtype, config):
    """Logits and the gradients of every parameter equal those of the TransformerEncoderLayer
    stack with the same weights."""
    vocab, block, d, layers, heads, B, T = config
    torch.manual_seed(0)
    model = TinyGPT(vocab, block, d, layers, heads).to(dtype)
    ref = torch_reference(model)
    idx = torch.randint(0, vocab, (B, T))
    ours, theirs = model(idx), ref(idx)
    assert ours.shape == (B, T, vocab)
    assert ours.dtype == dtype
    assert relative_error(ours, theirs) <= RELATIVE[dtype]
    # The reference shares the embeddings, positions and final norm with `model`; compare the
    # gradients of those shared tensors.
    shared = [model.tok.weight, model.pos.weight, model.ln_f.weight, model.ln_f.bias]
    weights = torch.randn(ours.shape, dtype=dtype)  # a loss that weighs every logit differently
    g_ours = torch.autograd.grad((ours * weights).sum(), shared)
    g_ref = torch.autograd.grad((theirs * weights).sum(), shared)
    for a, b in zip(g_ours, g_ref, strict=True):
        assert relative_error(a, b) <= RELATIVE[dtype]


def test_block_weights_get_the_same_gradients():
    """The attention and MLP weights of each block get the gradients torch's layers get."""
    torch.manual_seed(3)
    model = TinyGPT(20, 8, 12, 2, 2).double()
    ref = torch_reference(model)
    idx = torch.randint(0, 20, (2, 8))
    model(idx).square().sum().backward()
    ref(idx).square().sum().backward()
    assert len(ref.layers) == len(model.blocks) == 2
    for block, layer in zip(model.blocks, ref.layers, strict=True):
        pairs = [
            (block.attn.qkv.weight, layer.self_attn.in_proj_weight),
            (block.attn.proj.weight, layer.self_attn.out_proj.weight),
            (block.mlp[0].weight, layer.linear1.weight),
            (block.mlp[2].weight, layer.linear2.weight),
            (block.ln1.weight, layer.norm1.weight),
            (block.ln2.bias, layer.norm2.bias),
        ]
        for ours, theirs in pairs:
            assert relative_error(ours.grad, theirs.grad) <= RELATIVE[torch.float64]


@settings(max_examples=25)
@given(t=st.integers(0, 9), seed=st.integers(0, 2**16))
def test_causal(t, seed):
    """Changing the tokens after position t leaves the logits at positions <= t bit for bit
    unchanged: masked scores get weight exactly 0."""
    torch.manual_seed(seed)
    model = TinyGPT(30, 10, 16, 2, 4)
    idx = torch.randint(0, 30, (2, 10))
    changed = idx.clone()
    changed[:, t + 1:] = torch.randint(0, 30, changed[:, t + 1:].shape)
    with torch.no_grad():
        assert torch.equal(model(idx)[:, : t + 1], model(changed)[:, : t + 1])
        if t < 9 and not torch.equal(idx, changed):
            assert not torch.equal(model(idx), model(changed))


def test_next_token_loss_is_the_mean_over_prefixes():
    """The shifted loss equals the mean, over every prefix, of -log p(next token | prefix)."""
    torch.manual_seed(1)
    model = TinyGPT(25, 8, 16, 2, 2).double()
    idx = torch.randint(0, 25, (3, 8))
    terms = []
    for t in range(1, 8):
        logits = model(idx[:, :t])[:, -1]  # (B, V): the prediction after t tokens
        terms.append(-F.log_softmax(logits, dim=-1).gather(1, idx[:, t:t + 1]).squeeze(1))
    expected = torch.stack(terms).mean()
    assert abs(next_token_loss(model, idx).item() - expected.item()) <= 1e-12 * expected.item()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_untrained_loss_is_near_log_vocab(seed):
    """With GPT-2's small initial embeddings the first loss is close to log V (a uniform guess):
    the logits start below 1 in magnitude, so the loss is within 0.2 of log 50 = 3.91."""
    torch.manual_seed(seed)
    model = TinyGPT(50, 16, 32, 2, 4)
    loss = next_token_loss(model, torch.randint(0, 50, (8, 16))).item()
    assert abs(loss - math.log(50)) < 0.2


def test_generate_appends_argmax_and_crops_the_context():
    """Each new token is the argmax after the last block_size tokens; the prompt is kept."""
    torch.manual_seed(2)
    model = TinyGPT(20, 4, 8, 1, 2)
    prompt = torch.randint(0, 20, (2, 3))
    out = generate(model, prompt, 6)
    assert out.shape == (2, 9)
    assert torch.equal(out[:, :3], prompt)
    with torch.no_grad():
        for t in range(3, 9):
            context = out[:, max(0, t - 4):t]
            assert torch.equal(out[:, t], model(context)[:, -1].argmax(-1))


def test_too_long_and_bad_heads_are_refused():
    """A sequence longer than block_size and heads that do not divide d_model raise."""
    model = TinyGPT(10, 4, 8, 1, 2)
    with pytest.raises(ValueError, match="block_size is 4"):
        model(torch.zeros(1, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="does not divide"):
        CausalSelfAttention(10, 3)


def test_weights_are_tied():
    """The output layer is the embedding matrix itself, counted once."""
    model = TinyGPT(10, 4, 8, 1, 2)
    assert model.head.weight is model.tok.weight


@settings(max_examples=20)
@given(vocab=st.integers(1, 60), block=st.integers(1, 20), heads=st.integers(1, 4),
       width=st.integers(1, 6), layers=st.integers(0, 3))
def test_parameter_count_formula(vocab, block, heads, width, layers):
    """The formula equals the number of parameters of the model it describes."""
    d = heads * width
    model = TinyGPT(vocab, block, d, layers, heads)
    assert sum(p.numel() for p in model.parameters()) == parameter_count(vocab, block, d, layers)


def test_parameter_count_of_gpt2_small():
    """The formula gives the parameter count of Hugging Face's GPT-2 (124,439,808)."""
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    cfg = gpt2.config
    counted = sum(p.numel() for p in gpt2.parameters())
    assert counted == parameter_count(cfg.vocab_size, cfg.n_positions, cfg.n_embd, cfg.n_layer)
    assert counted == 124_439_808


def test_training_learns_the_text():
    """100 AdamW steps on a repeated sentence take the loss from about log V to below 0.5."""
    text = "to be or not to be, that is the question. " * 4
    model, chars, losses = train_on_text(text, steps=100)
    assert abs(losses[0] - math.log(len(chars))) < 0.3  # starts near a uniform guess
    assert max(losses[-5:]) < 0.5
    prompt = torch.tensor([[chars.index(c) for c in "to be or"]])  # (1, 8)
    continued = "".join(chars[i] for i in generate(model, prompt, 40)[0].tolist())
    assert continued in text  # the page's claim: it continues the sentence correctly
    with pytest.raises(ValueError, match="need more than 33"):
        train_on_text("short", block_size=32)


def test_size_claims_on_the_page():
    """The formula's GPT-3 count (96 blocks, width 12,288, V = 50257, 2048 positions) rounds to
    the paper's 175 billion, with about 174 billion in the blocks; GPT-2 small's embedding matrix
    is 31% of its 124,439,808 parameters."""
    total = parameter_count(50257, 2048, 12288, 96)
    assert round(total / 1e9) == 175
    assert round(96 * 12 * 12288**2 / 1e9) == 174
    assert round(100 * 50257 * 768 / parameter_count(50257, 1024, 768, 12)) == 31


def test_tying_defaults_of_gpt2_and_llama_configs():
    """Hugging Face's GPT2Config ties the output layer to the embedding; LlamaConfig does not."""
    assert transformers.GPT2Config().tie_word_embeddings is True
    assert transformers.LlamaConfig().tie_word_embeddings is False


def test_state_dict_counts_the_tied_matrix_twice():
    """Summing state_dict() sizes exceeds the parameter count by exactly one V x d matrix."""
    model = TinyGPT(11, 4, 8, 1, 2)
    in_state = sum(v.numel() for v in model.state_dict().values())
    assert in_state - sum(p.numel() for p in model.parameters()) == 11 * 8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unit_variance_embeddings_give_large_logits(seed):
    """With nn.Embedding's unit-variance default the tied layer's initial logits reach the tens
    (measured max 29 to 32 for seeds 0-2); with std 0.02 they stay below 1 (measured 0.34-0.44)."""
    torch.manual_seed(seed)
    model = TinyGPT(50, 16, 32, 2, 4)
    idx = torch.randint(0, 50, (2, 10))
    with torch.no_grad():
        assert model(idx).abs().max() < 1
        torch.nn.init.normal_(model.tok.weight)
        torch.nn.init.normal_(model.pos.weight)
        assert model(idx).abs().max() > 10


def test_boolean_mask_conventions():
    """A boolean True means 'may attend' in scaled_dot_product_attention and 'hidden' in
    MultiheadAttention, as the pitfall says."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 4)  # (B, T, C)
    only_first = torch.zeros(3, 3, dtype=torch.bool)
    only_first[:, 0] = True
    out = F.scaled_dot_product_attention(x[:, None], x[:, None], x[:, None], attn_mask=only_first)
    assert torch.allclose(out[:, 0], x[:, :1].expand(1, 3, 4))  # every row reads token 0 only
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True)
    _, weights = mha(x, x, x, attn_mask=only_first)
    assert torch.all(weights[..., 0] == 0)  # token 0 is the one hidden
    assert torch.allclose(weights.sum(-1), torch.ones(1, 3))
