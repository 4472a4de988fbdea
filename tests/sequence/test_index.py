"""The family page's patterns: their shapes, causality, packing of variable lengths, order."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets.sequence.index import (
    B,
    C,
    Generator,
    H,
    K,
    ManyToOne,
    Seq2Seq,
    Tagger,
    last_states,
)


@pytest.mark.parametrize("T", [1, 2, 9])
def test_shapes(T):
    """many-to-one gives (B, K), the tagger (B, T, K), the generator (B, T, K), and seq2seq
    (B, T_out, K) whatever T_in is."""
    torch.manual_seed(0)
    x = torch.randn(B, T, C)
    assert ManyToOne()(x).shape == (B, K)
    assert Tagger()(x).shape == (B, T, K)
    assert Generator()(torch.randn(B, C), T).shape == (B, T, K)
    for T_in in (1, 5):
        assert Seq2Seq()(torch.randn(B, T_in, C), torch.randn(B, T, K)).shape == (B, T, K)


def test_tagger_is_causal():
    """The tagger's output at step t depends on x_1..x_t only: its gradient with respect
    to later steps is exactly zero, and to earlier ones it is not."""
    torch.manual_seed(1)
    x = torch.randn(2, 6, C, requires_grad=True)
    Tagger()(x)[:, 3].sum().backward()
    assert torch.all(x.grad[:, 4:] == 0)
    assert torch.all(x.grad[:, :4].abs().sum(dim=-1) > 0)


def test_seq2seq_output_depends_on_every_input_step():
    """The decoder sees the input only through the encoder's last state, yet every input
    step reaches every output step through it."""
    torch.manual_seed(2)
    x = torch.randn(1, 5, C, requires_grad=True)
    Seq2Seq()(x, torch.randn(1, 3, K))[:, -1].sum().backward()
    assert torch.all(x.grad.abs().sum(dim=-1) > 0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_packed_equals_each_sequence_alone(dtype):
    """Packing gives each sequence's state after its own last step, equal to running it
    alone (within the dtype's rounding); padding without packing gives the state after
    running on through the zero padding."""
    torch.manual_seed(3)
    rnn = nn.RNN(C, H, batch_first=True).to(dtype)
    lengths = [7, 2, 5, 1]
    x = torch.randn(4, 7, C, dtype=dtype)
    for b, n in enumerate(lengths):
        x[b, n:] = 0.0
    h_packed, h_padded = last_states(rnn, x, lengths)
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else \
        {"rtol": 2e-6, "atol": 1e-6}
    for b, n in enumerate(lengths):
        _, h_alone = rnn(x[b : b + 1, :n])  # (1, 1, H)
        torch.testing.assert_close(h_packed[b], h_alone[0, 0], **tol)
        _, h_on = rnn(torch.zeros(1, 7 - n, C, dtype=dtype), h_alone) if n < 7 else \
            (None, h_alone)
        torch.testing.assert_close(h_padded[b], h_on[0, 0], **tol)
    assert not torch.allclose(h_padded[1], h_packed[1])  # the padding did change it


@settings(max_examples=20, deadline=None)
@given(st.permutations(list(range(6))))
def test_self_attention_is_permutation_equivariant(perm):
    """Without positions, self-attention of a permuted sequence is the permuted output."""
    torch.manual_seed(4)
    attn = nn.MultiheadAttention(C, num_heads=1, batch_first=True).double()
    x = torch.randn(1, 6, C, dtype=torch.float64)
    a, _ = attn(x, x, x)
    xp = x[:, perm]
    ap, _ = attn(xp, xp, xp)
    torch.testing.assert_close(ap, a[:, perm], rtol=1e-12, atol=1e-12)


def test_rnn_is_not_order_invariant():
    """Reversing the steps changes an RNN's last state (the recurrence encodes order)."""
    torch.manual_seed(5)
    rnn = nn.RNN(C, H, batch_first=True).double()
    x = torch.randn(1, 6, C, dtype=torch.float64)
    assert not torch.allclose(rnn(x)[1], rnn(x.flip(1))[1])


def test_a_causal_mask_breaks_permutation_equivariance():
    """With a causal mask (position t sees positions <= t only), self-attention of a reversed
    sequence is not the reversed output, as the page says."""
    torch.manual_seed(4)
    attn = nn.MultiheadAttention(C, num_heads=1, batch_first=True).double()
    x = torch.randn(1, 6, C, dtype=torch.float64)
    mask = nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)
    a, _ = attn(x, x, x, attn_mask=mask)
    xp = x.flip(1)
    ap, _ = attn(xp, xp, xp, attn_mask=mask)
    assert not torch.allclose(ap, a.flip(1))
