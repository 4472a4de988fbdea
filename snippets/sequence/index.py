r"""Sequence-model shapes: one-to-one, one-to-many, many-to-one, many-to-many, seq2seq.

Small torch models that show the tensor shapes of each input/output pattern, how padding
and packing handle sequences of different lengths, and that self-attention without
positions ignores order while an RNN does not. References: Sutskever, Vinyals and Le, "Sequence to
Sequence Learning with Neural Networks", NeurIPS 2014; Karpathy, "The Unreasonable
Effectiveness of Recurrent Neural Networks", 2015 (the pattern diagram).
"""

# --8<-- [start:setup]
import torch
from torch import nn

B, C, H, K = 4, 3, 8, 5  # batch, input features, hidden size, output features
# --8<-- [end:setup]


# --8<-- [start:many_to_one]
class ManyToOne(nn.Module):
    """Read a whole sequence, emit one vector (e.g. classify a sentence)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(C, H, batch_first=True)
        self.head = nn.Linear(H, K)

    def forward(self, x):  # x: (B, T, C)
        _, h_n = self.rnn(x)  # h_n: (1, B, H), the state after the last step
        return self.head(h_n[-1])  # (B, H) @ (H, K) -> (B, K)
# --8<-- [end:many_to_one]


# --8<-- [start:many_to_many]
class Tagger(nn.Module):
    """Aligned many-to-many: one output per input step (e.g. tag every word)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(C, H, batch_first=True)
        self.head = nn.Linear(H, K)

    def forward(self, x):  # x: (B, T, C)
        out, _ = self.rnn(x)  # (B, T, H): the state after every step
        return self.head(out)  # (B, T, H) @ (H, K) -> (B, T, K)
# --8<-- [end:many_to_many]


# --8<-- [start:one_to_many]
class Generator(nn.Module):
    """One-to-many: one input vector, a sequence out (e.g. caption an image)."""

    def __init__(self):
        super().__init__()
        self.init = nn.Linear(C, H)  # the input sets the first state
        self.cell = nn.RNNCell(K, H)
        self.head = nn.Linear(H, K)

    def forward(self, x, T_out):  # x: (B, C)
        h = torch.tanh(self.init(x))  # (B, C) @ (C, H) -> (B, H)
        y = x.new_zeros(x.shape[0], K)  # (B, K): a "start" output
        ys = []
        for _ in range(T_out):
            h = self.cell(y, h)  # feed the previous output back in: (B, H)
            y = self.head(h)  # (B, H) @ (H, K) -> (B, K)
            ys.append(y)
        return torch.stack(ys, dim=1)  # (B, T_out, K)
# --8<-- [end:one_to_many]


# --8<-- [start:seq2seq]
class Seq2Seq(nn.Module):
    """Encoder-decoder: read T_in steps, then write T_out steps (e.g. translate)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.RNN(C, H, batch_first=True)
        self.decoder = nn.RNN(K, H, batch_first=True)
        self.head = nn.Linear(H, K)

    def forward(self, x, y_prev):  # x: (B, T_in, C), y_prev: (B, T_out, K)
        _, h_n = self.encoder(x)  # (1, B, H): the whole input in one vector
        out, _ = self.decoder(y_prev, h_n)  # (B, T_out, H), starts from h_n
        return self.head(out)  # (B, T_out, K)
# --8<-- [end:seq2seq]


# --8<-- [start:packed]
def last_states(rnn, x, lengths):
    r"""The state after each sequence's own last step, for a padded batch.

    Args:
        rnn: a `torch.nn.RNN` with `batch_first=True`.
        x: padded inputs, shape (B, T, C); steps past a sequence's length are ignored.
        lengths: the true lengths, B integers between 1 and T.

    Returns:
        `(packed, padded)`: h_n of shape (B, H) computed on the packed batch, and the
        state after step T of the padded batch, which also reads the padding.
    """
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                               enforce_sorted=False)
    _, h_packed = rnn(packed)  # (1, B, H), each row at its own length
    _, h_padded = rnn(x)  # (1, B, H), every row after T steps
    return h_packed[-1], h_padded[-1]
# --8<-- [end:packed]


if __name__ == "__main__":
    # --8<-- [start:demo_shapes]
    torch.manual_seed(0)
    T_in, T_out = 7, 4
    x_seq = torch.randn(B, T_in, C)  # (B, T_in, C)
    x_one = torch.randn(B, C)  # (B, C)
    y_prev = torch.randn(B, T_out, K)  # (B, T_out, K): previous target steps
    print("one-to-one   nn.Linear  ", tuple(nn.Linear(C, K)(x_one).shape))
    print("one-to-many  Generator  ", tuple(Generator()(x_one, T_out).shape))
    print("many-to-one  ManyToOne  ", tuple(ManyToOne()(x_seq).shape))
    print("many-to-many Tagger     ", tuple(Tagger()(x_seq).shape))
    print("seq2seq      Seq2Seq    ", tuple(Seq2Seq()(x_seq, y_prev).shape))
    # --8<-- [end:demo_shapes]

    # --8<-- [start:demo_packed]
    torch.manual_seed(0)
    rnn = nn.RNN(C, H, batch_first=True)
    lengths = [7, 2, 5, 3]
    x = torch.randn(B, 7, C)  # (B, T, C) with T = max(lengths)
    for b, n in enumerate(lengths):
        x[b, n:] = 0.0  # zero padding after each sequence
    h_packed, h_padded = last_states(rnn, x, lengths)
    h_alone = torch.stack([rnn(x[b : b + 1, :n])[1][-1, 0]
                           for b, n in enumerate(lengths)])  # (B, H), one at a time
    print("packed vs each sequence alone: max |diff|",
          f"{(h_packed - h_alone).abs().max().item():.1e}")
    print("padded vs each sequence alone: max |diff| per sequence",
          [round(v, 3) for v in (h_padded - h_alone).abs().amax(dim=1).tolist()])
    # --8<-- [end:demo_packed]

    # --8<-- [start:demo_order]
    torch.manual_seed(0)
    x = torch.randn(1, 6, C)  # (B=1, T=6, C)
    perm = torch.randperm(6)
    attn = nn.MultiheadAttention(C, num_heads=1, batch_first=True)
    a, _ = attn(x, x, x)  # self-attention, no positional information
    a_perm, _ = attn(x[:, perm], x[:, perm], x[:, perm])
    print("self-attention: output of the permuted input == permuted output:",
          torch.allclose(a_perm, a[:, perm], atol=1e-6))
    rnn = nn.RNN(C, H, batch_first=True)
    h, h_perm = rnn(x)[1], rnn(x[:, perm])[1]  # (1, 1, H) each
    print("RNN: last state changes when the steps are shuffled, max |diff|",
          f"{(h - h_perm).abs().max().item():.2f}")
    # --8<-- [end:demo_order]
