r"""The Elman recurrent cell and the unrolled, stacked, bidirectional RNN built from it.

Reference: Elman, "Finding Structure in Time", Cognitive Science 1990. Checked against
`torch.nn.RNN` with copied weights.
"""

# --8<-- [start:impl]
# --8<-- [start:rnn_cell]
import torch


def rnn_cell(x, h, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    r"""One step of the recurrent cell.

    $$h_t = \phi(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})$$

    Args:
        x: input at this step, shape (B, C).
        h: previous hidden state, shape (B, H).
        W_ih: input weights, shape (H, C).
        W_hh: recurrent weights, shape (H, H).
        b_ih: input bias, shape (H,), or None for none.
        b_hh: recurrent bias, shape (H,), or None for none.
        nonlinearity: "tanh" or "relu".

    Returns:
        The new hidden state, shape (B, H).
    """
    a = x @ W_ih.T + h @ W_hh.T  # (B, C) @ (C, H) + (B, H) @ (H, H) -> (B, H)
    for b in (b_ih, b_hh):
        if b is not None:
            a = a + b  # (B, H) + (H,)
    if nonlinearity == "tanh":
        return torch.tanh(a)
    if nonlinearity == "relu":
        return torch.relu(a)
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
# --8<-- [end:rnn_cell]


# --8<-- [start:rnn_layer]
def rnn_layer(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity="tanh",
              reverse=False):
    r"""Run the cell over a whole sequence, forwards or backwards in time.

    Args:
        x: inputs, shape (T, B, C).
        h0: initial hidden state, shape (B, H).
        W_ih: input weights, shape (H, C).
        W_hh: recurrent weights, shape (H, H).
        b_ih: input bias, shape (H,), or None.
        b_hh: recurrent bias, shape (H,), or None.
        nonlinearity: "tanh" or "relu".
        reverse: run from the last step to the first.

    Returns:
        `(out, h)`: every hidden state in time order, shape (T, B, H), and the last one
        computed, shape (B, H) (that of step 0 when `reverse` is True).
    """
    T = x.shape[0]
    h, out = h0, [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        h = rnn_cell(x[t], h, W_ih, W_hh, b_ih, b_hh, nonlinearity)  # (B, H)
        out[t] = h
    return torch.stack(out), h  # (T, B, H), (B, H)
# --8<-- [end:rnn_layer]


# --8<-- [start:rnn]
def rnn(x, params, h0=None, *, num_layers=1, bidirectional=False, batch_first=False,
        nonlinearity="tanh"):
    r"""A stacked, optionally bidirectional RNN laid out like torch.nn.RNN.

    Args:
        x: inputs, shape (T, B, C), or (B, T, C) if `batch_first`, or (T, C) unbatched.
        params: dict of tensors named as in `torch.nn.RNN.named_parameters()`:
            `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, with the
            suffix `_reverse` for the backward direction; no bias entries means no bias.
        h0: initial states, shape (num_layers * D, B, H) with D = 2 if bidirectional else 1,
            or None for zeros.
        num_layers: number of stacked layers (at least 1).
        bidirectional: also run each layer backwards in time and concatenate.
        batch_first: `x` and the output put the batch first (`h0` and `h_n` do not).
        nonlinearity: "tanh" or "relu".

    Returns:
        `(output, h_n)`: the top layer's states, shape (T, B, D * H) (batch first if
        `batch_first`), and every layer's and direction's last state, shape
        (num_layers * D, B, H), row `layer * D + direction`.
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    unbatched = x.dim() == 2
    if unbatched:
        x = x.unsqueeze(1)  # (T, C) -> (T, 1, C)
        h0 = None if h0 is None else h0.unsqueeze(1)  # (L*D, H) -> (L*D, 1, H)
    elif batch_first:
        x = x.transpose(0, 1)  # (B, T, C) -> (T, B, C)
    T, B, _ = x.shape
    if T == 0:
        raise ValueError("the sequence is empty (T = 0); torch.nn.RNN refuses it too")
    D = 2 if bidirectional else 1
    H = params["weight_hh_l0"].shape[0]
    if h0 is None:
        h0 = x.new_zeros(num_layers * D, B, H)  # (L*D, B, H)
    h_n, layer_in = [], x
    for k in range(num_layers):
        outs = []
        for d, sfx in enumerate(["", "_reverse"][:D]):
            p = [params.get(f"{n}_l{k}{sfx}") for n in ("weight_ih", "weight_hh",
                                                        "bias_ih", "bias_hh")]
            out, h = rnn_layer(layer_in, h0[k * D + d], *p, nonlinearity,
                               reverse=d == 1)
            outs.append(out)  # (T, B, H)
            h_n.append(h)  # (B, H)
        layer_in = torch.cat(outs, dim=-1)  # (T, B, D*H): the next layer's input
    output, h_n = layer_in, torch.stack(h_n)  # (T, B, D*H), (L*D, B, H)
    if unbatched:
        return output.squeeze(1), h_n.squeeze(1)  # (T, D*H), (L*D, H)
    if batch_first:
        output = output.transpose(0, 1)  # (T, B, D*H) -> (B, T, D*H)
    return output, h_n
# --8<-- [end:rnn]
# --8<-- [end:impl]


# --8<-- [start:compare]
def compare_with_torch(dtype, *, seed=0, T=5, B=3, C=4, H=6, h0=True, **config):
    r"""Compare `rnn` with `torch.nn.RNN` on the same weights: values and gradients.

    Args:
        dtype: torch.float64 or torch.float32.
        seed: seed of the weights and inputs.
        T: sequence length.
        B: batch size.
        C: input features.
        H: hidden size.
        h0: pass a random initial state (True) or let both default to zeros (False).
        **config: keyword arguments of `torch.nn.RNN` (num_layers, bidirectional,
            batch_first, nonlinearity, bias).

    Returns:
        `(value_err, grad_err)`: the largest absolute differences over the output and
        h_n, and over the gradients of the inputs, h0 and every weight.
    """
    torch.manual_seed(seed)
    ref = torch.nn.RNN(C, H, **config).to(dtype)
    ours = {n: p.detach().clone().requires_grad_() for n, p in ref.named_parameters()}
    L = config.get("num_layers", 1)
    D = 2 if config.get("bidirectional", False) else 1
    shape = (B, T, C) if config.get("batch_first", False) else (T, B, C)
    x = torch.randn(shape, dtype=dtype, requires_grad=True)
    s = torch.randn(L * D, B, H, dtype=dtype, requires_grad=True) if h0 else None
    out_ref, hn_ref = ref(x, s)
    cfg = {k: v for k, v in config.items() if k != "bias"}
    out, hn = rnn(x, ours, s, **cfg)
    w_out, w_hn = torch.randn_like(out), torch.randn_like(hn)  # upstream gradients
    leaves = [x] + ([s] if h0 else [])
    g_ref = torch.autograd.grad((out_ref * w_out).sum() + (hn_ref * w_hn).sum(),
                                leaves + list(ref.parameters()))
    g_ours = torch.autograd.grad((out * w_out).sum() + (hn * w_hn).sum(),
                                 leaves + list(ours.values()))
    pairs = [(out, out_ref), (hn, hn_ref), *zip(g_ours, g_ref, strict=True)]
    errs = [(a - b).abs().max().item() if a.numel() else 0.0 for a, b in pairs]
    return max(errs[:2]), max(errs[2:])  # values, gradients
# --8<-- [end:compare]


if __name__ == "__main__":
    # --8<-- [start:example]
    torch.manual_seed(0)
    T, B, C, H = 5, 2, 3, 4
    ref = torch.nn.RNN(C, H, num_layers=2, bidirectional=True)
    params = dict(ref.named_parameters())  # the same tensors, read by our code
    x = torch.randn(T, B, C)  # (T, B, C)
    output, h_n = rnn(x, params, num_layers=2, bidirectional=True)
    print("output", tuple(output.shape))  # (T, B, 2H)
    print("h_n   ", tuple(h_n.shape))  # (L*D, B, H) = (4, B, H)
    # the forward direction's last state is output[T-1]; the backward one's is output[0]
    print("h_n[2] == output[-1, :, :H]:", torch.equal(h_n[2], output[-1, :, :H]))
    print("h_n[3] == output[0, :, H:]: ", torch.equal(h_n[3], output[0, :, H:]))
    # --8<-- [end:example]

    # --8<-- [start:check]
    configs = [
        {},
        {"nonlinearity": "relu"},
        {"num_layers": 2, "bidirectional": True, "batch_first": True},
        {"bias": False, "h0": False},
    ]
    print("checked against torch.nn.RNN")
    for dtype in (torch.float64, torch.float32):
        errs = [compare_with_torch(dtype, **c) for c in configs]
        v, g = max(e[0] for e in errs), max(e[1] for e in errs)
        name = str(dtype).removeprefix("torch.")
        print(f"{name}: max |ours - torch| value {v:.1e}, grad {g:.1e}")
    # --8<-- [end:check]
