r"""LSTM and GRU cells and layers in torch's gate order, and the GRU of Cho et al. 2014.

References: Hochreiter and Schmidhuber, "Long Short-Term Memory", Neural Computation 1997;
Gers, Schmidhuber and Cummins, "Learning to Forget: Continual Prediction with LSTM", Neural
Computation 2000; Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for
Statistical Machine Translation", EMNLP 2014. Checked against `torch.nn.LSTM` and
`torch.nn.GRU` with copied weights.
"""

# --8<-- [start:impl]
# --8<-- [start:lstm_cell]
import warnings

import torch


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh, W_proj=None):
    r"""One LSTM step with torch's gate order i, f, g, o.

    $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$$

    Args:
        x: input, shape (B, C).
        h: previous output, shape (B, P) (P = H without projection).
        c: previous cell state, shape (B, H).
        W_ih: input weights of the four gates stacked, shape (4H, C).
        W_hh: recurrent weights stacked, shape (4H, P).
        b_ih: input biases stacked, shape (4H,).
        b_hh: recurrent biases stacked, shape (4H,).
        W_proj: projection (torch's `weight_hr_l0`), shape (P, H), or None.

    Returns:
        `(h, c)`, shapes (B, P) and (B, H).
    """
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B,C)@(C,4H) + (B,P)@(P,4H) -> (B,4H)
    i, f, g, o = a.chunk(4, dim=1)  # four (B, H) blocks, in this order
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g  # (B, H): keep part of the old cell, add part of the candidate
    h = o * torch.tanh(c)  # (B, H)
    if W_proj is not None:
        h = h @ W_proj.T  # (B, H) @ (H, P) -> (B, P)
    return h, c
# --8<-- [end:lstm_cell]


# --8<-- [start:gru_cell]
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    r"""One GRU step as torch computes it: gate order r, z, n; r after $W_{hn} h$.

    $$n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})), \qquad
      h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$$

    Args:
        x: input, shape (B, C).
        h: previous state, shape (B, H).
        W_ih: input weights of r, z, n stacked, shape (3H, C).
        W_hh: recurrent weights stacked, shape (3H, H).
        b_ih: input biases stacked, shape (3H,).
        b_hh: recurrent biases stacked, shape (3H,).

    Returns:
        The new state, shape (B, H).
    """
    gi = x @ W_ih.T + b_ih  # (B, C) @ (C, 3H) -> (B, 3H)
    gh = h @ W_hh.T + b_hh  # (B, H) @ (H, 3H) -> (B, 3H)
    gi_r, gi_z, gi_n = gi.chunk(3, dim=1)  # (B, H) each
    gh_r, gh_z, gh_n = gh.chunk(3, dim=1)
    r = torch.sigmoid(gi_r + gh_r)
    z = torch.sigmoid(gi_z + gh_z)
    n = torch.tanh(gi_n + r * gh_n)  # r scales W_hn h + b_hn, after the product
    return (1 - z) * n + z * h  # z near 1 keeps the old state
# --8<-- [end:gru_cell]


# --8<-- [start:gru_cell_cho]
def gru_cell_cho(x, h, W_ih, W_hh, b_ih, b_hh):
    r"""One GRU step in the form of Cho et al. (2014): r applied to h before $W_{hn}$.

    $$n_t = \tanh(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn})$$

    Args:
        x: input, shape (B, C).
        h: previous state, shape (B, H).
        W_ih: input weights of r, z, n stacked, shape (3H, C).
        W_hh: recurrent weights stacked, shape (3H, H).
        b_ih: input biases stacked, shape (3H,).
        b_hh: recurrent biases stacked, shape (3H,).

    Returns:
        The new state, shape (B, H).
    """
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih  # (B, 3H)
    gi_r, gi_z, gi_n = gi.chunk(3, dim=1)
    gh_r, gh_z = (h @ W_hh[: 2 * H].T + b_hh[: 2 * H]).chunk(2, dim=1)  # (B, H) each
    r = torch.sigmoid(gi_r + gh_r)
    z = torch.sigmoid(gi_z + gh_z)
    n = torch.tanh(gi_n + (r * h) @ W_hh[2 * H :].T + b_hh[2 * H :])  # (B,H)@(H,H)
    return (1 - z) * n + z * h  # the same convention for z as torch
# --8<-- [end:gru_cell_cho]


# --8<-- [start:run]
def run(cell, x, state, p, reverse=False):
    r"""Run an LSTM or GRU cell over a sequence with one layer's weights.

    Args:
        cell: `lstm_cell`, `gru_cell` or `gru_cell_cho`.
        x: inputs, shape (T, B, C).
        state: `(h0, c0)` for an LSTM, `h0` for a GRU.
        p: the layer's tensors in torch's order: `W_ih, W_hh, b_ih, b_hh` (`W_proj`).
        reverse: run from the last step to the first.

    Returns:
        `(out, state)`: the outputs h_t in time order, (T, B, ·), and the final state.
    """
    T = x.shape[0]
    out = [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        if cell is lstm_cell:
            state = cell(x[t], *state, *p)  # (h, c)
            out[t] = state[0]
        else:
            state = cell(x[t], state, *p)  # h
            out[t] = state
    return torch.stack(out), state  # (T, B, ·)
# --8<-- [end:run]
# --8<-- [end:impl]


# --8<-- [start:reach]
def gradient_reach(kind, forget_bias=0.0, T=100, C=16, H=64, seed=0):
    r"""How strongly the last output depends on each earlier input, for a torch layer.

    $$s_m = \left\lVert \frac{\partial\, (u^\top h_T)}{\partial x_{T-m}} \right\rVert_2,
      \qquad m = 0, \dots, T - 1$$

    Args:
        kind: "rnn", "lstm" or "gru" (torch's layer with its default initialisation).
        forget_bias: added to the LSTM's forget-gate block of `bias_ih_l0`.
        T: sequence length.
        C: input features.
        H: hidden size.
        seed: seed of the weights, the inputs and the random direction $u$.

    Returns:
        A float64 tensor of length T: entry m is $s_m$, for the input m steps back.
    """
    torch.manual_seed(seed)
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    m = layer(C, H).double()
    if kind == "lstm":
        with torch.no_grad():
            m.bias_ih_l0[H : 2 * H] += forget_bias  # block 2 of i, f, g, o
    x = torch.randn(T, 1, C, dtype=torch.float64, requires_grad=True)  # (T, B=1, C)
    out, _ = m(x)  # (T, 1, H)
    u = torch.randn(H, dtype=torch.float64)  # a random readout direction
    (out[-1, 0] @ u).backward()  # (H,) @ (H,) -> scalar u^T h_T
    return x.grad[:, 0].norm(dim=1).flip(0)  # (T,), index m = T - t
# --8<-- [end:reach]


# --8<-- [start:compare]
def compare_with_torch(kind, dtype, *, seed=0, T=6, B=3, C=4, H=5, **config):
    r"""Run our cell and torch's layer (one layer) with the same weights; compare.

    Args:
        kind: "lstm" or "gru".
        dtype: torch.float64 or torch.float32.
        seed: seed of the weights and inputs.
        T: sequence length.
        B: batch size.
        C: input features.
        H: hidden size.
        **config: `bidirectional`, and `proj_size` for an LSTM.

    Returns:
        `(value_err, grad_err)`: the largest absolute differences over the outputs and
        final states, and over the gradients of x, the initial states and every weight.
    """
    torch.manual_seed(seed)
    Module = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    ref = Module(C, H, **config).to(dtype)
    ours = {n: w.detach().clone().requires_grad_() for n, w in ref.named_parameters()}
    D = 2 if config.get("bidirectional", False) else 1
    P = config.get("proj_size", 0) or H
    x = torch.randn(T, B, C, dtype=dtype, requires_grad=True)
    h0 = torch.randn(D, B, P, dtype=dtype, requires_grad=True)
    c0 = torch.randn(D, B, H, dtype=dtype, requires_grad=True)
    init = (h0, c0) if kind == "lstm" else h0
    with warnings.catch_warnings():  # torch notes that projections bypass oneDNN
        warnings.filterwarnings("ignore", message="LSTM with projections")
        out_ref, fin_ref = ref(x, init)
    outs, fins = [], []
    for d, sfx in enumerate(["", "_reverse"][:D]):
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"]
        p = [ours[f"{n}_l0{sfx}"] for n in names if f"{n}_l0{sfx}" in ours]
        state = (h0[d], c0[d]) if kind == "lstm" else h0[d]
        cell = lstm_cell if kind == "lstm" else gru_cell
        out, state = run(cell, x, state, p, reverse=d == 1)
        outs.append(out)
        fins.append(state if kind == "lstm" else (state,))
    out = torch.cat(outs, dim=-1)  # (T, B, D*P)
    fin = [torch.stack(s) for s in zip(*fins, strict=True)]  # h_n (and c_n): (D, B, ·)
    fin_ref = list(fin_ref) if kind == "lstm" else [fin_ref]
    ys, ys_ref = [out, *fin], [out_ref, *fin_ref]
    ws = [torch.randn_like(y) for y in ys]  # random upstream gradients
    leaves = [x, h0] + ([c0] if kind == "lstm" else [])
    g = torch.autograd.grad(sum((y * w).sum() for y, w in zip(ys, ws, strict=True)),
                            leaves + list(ours.values()))
    loss_ref = sum((y * w).sum() for y, w in zip(ys_ref, ws, strict=True))
    g_ref = torch.autograd.grad(loss_ref, leaves + list(ref.parameters()))
    err = [(a - b).abs().max().item() if a.numel() else 0.0
           for a, b in zip(ys + list(g), ys_ref + list(g_ref), strict=True)]
    return max(err[: len(ys)]), max(err[len(ys) :])  # values, gradients
# --8<-- [end:compare]


if __name__ == "__main__":
    # --8<-- [start:check]
    print("checked against torch.nn.LSTM")
    for dtype in (torch.float64, torch.float32):
        errs = [compare_with_torch("lstm", dtype, **c)
                for c in ({}, {"bidirectional": True}, {"proj_size": 3})]
        name = str(dtype).removeprefix("torch.")
        v, g = max(e[0] for e in errs), max(e[1] for e in errs)
        print(f"{name}: max |ours - torch| value {v:.1e}, grad {g:.1e}")
    print("checked against torch.nn.GRU")
    for dtype in (torch.float64, torch.float32):
        errs = [compare_with_torch("gru", dtype, **c)
                for c in ({}, {"bidirectional": True})]
        name = str(dtype).removeprefix("torch.")
        v, g = max(e[0] for e in errs), max(e[1] for e in errs)
        print(f"{name}: max |ours - torch| value {v:.1e}, grad {g:.1e}")
    # --8<-- [end:check]

    # --8<-- [start:gate_order]
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4).double()
    with torch.no_grad():
        lstm.bias_ih_l0.zero_()
        lstm.bias_ih_l0[4:8] = 1e4  # second block: if it is f, then f = 1
        lstm.bias_ih_l0[0:4] = -1e4  # first block: if it is i, then i = 0
    x = torch.randn(20, 2, 3, dtype=torch.float64)
    h0, c0 = torch.randn(2, 1, 2, 4, dtype=torch.float64)  # (D*L=1, B=2, H=4) each
    _, (h_n, c_n) = lstm(x, (h0, c0))
    print("LSTM, f = 1 and i = 0 via blocks 2 and 1: max |c_T - c_0| =",
          f"{(c_n - c0).abs().max().item():.1e}")
    gru = torch.nn.GRU(3, 4).double()
    with torch.no_grad():
        gru.bias_ih_l0[4:8] = 1e4  # second block: if it is z, then z = 1
    _, h_n = gru(x, h0)
    print("GRU, z = 1 via block 2:                   max |h_T - h_0| =",
          f"{(h_n - h0).abs().max().item():.1e}")
    # --8<-- [end:gate_order]

    # --8<-- [start:cho]
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4).double()
    p = [w.detach() for w in gru.parameters()]  # W_ih, W_hh, b_ih, b_hh
    x = torch.randn(20, 2, 3, dtype=torch.float64)
    h0 = torch.randn(2, 4, dtype=torch.float64)
    out_torch, _ = run(gru_cell, x, h0, p)
    out_cho, _ = run(gru_cell_cho, x, h0, p)
    print("same weights, torch's form vs Cho et al.'s: max |difference| "
          f"{(out_torch - out_cho).abs().max().item():.2f}")
    p[2] = p[2].clone()
    p[2][:4] = 1e4  # reset bias: r = 1, so r (W h + b) = W (r h) + b
    out_torch, _ = run(gru_cell, x, h0, p)
    out_cho, _ = run(gru_cell_cho, x, h0, p)
    print("with r = 1:                                 max |difference| "
          f"{(out_torch - out_cho).abs().max().item():.1e}")
    # --8<-- [end:cho]

    # --8<-- [start:demo_reach]
    runs = {"RNN (tanh)": ("rnn", 0.0), "GRU": ("gru", 0.0),
            "LSTM": ("lstm", 0.0), "LSTM, forget bias +1": ("lstm", 1.0)}
    print(f"{'steps back m':22}" + "".join(f"{m:>9}" for m in (0, 10, 25, 50, 99)))
    for label, (kind, fb) in runs.items():
        r = gradient_reach(kind, forget_bias=fb)
        print(f"{label:22}" + "".join(f"{r[m]:9.1e}" for m in (0, 10, 25, 50, 99)))
    # --8<-- [end:demo_reach]
