"""The transformer block matches torch.nn.TransformerEncoderLayer with copied weights."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets.attention.transformer_block import (
    Block,
    block_layout,
    last_layer_gradient,
    to_torch,
)
from tests.helpers import assert_matches

DTYPES = (torch.float64, torch.float32)


def dtype_id(dtype):
    return str(dtype).removeprefix("torch.")


def make(dtype, C=16, H=4, hidden=64, seed=0, **options):
    torch.manual_seed(seed)
    return Block(C, H, hidden, **options).to(dtype)


def inputs(dtype, B=2, T=5, C=16, seed=1, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, T, C, generator=g, dtype=torch.float64) + shift).to(dtype)


def run_both(block, x, mask=None, pad=None):
    """Output and gradients (input, then weights under torch's names) of ours and of the torch
    copy in training mode, for the loss sum(y * probe) with a fixed probe."""
    ref = to_torch(block).train()
    found = []
    for module, kwargs in [(block, {"attn_mask": mask, "key_padding_mask": pad}),
                           (ref, {"src_mask": mask, "src_key_padding_mask": pad})]:
        xs = x.detach().clone().requires_grad_()
        y = module(xs, **kwargs)
        probe = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape)
        (y * probe).sum().backward()
        if module is block:
            grads = block_layout(block, get=lambda p: p.grad)
        else:
            grads = {n: p.grad for n, p in ref.named_parameters()}
        found.append((y, [xs.grad] + [grads[n] for n in sorted(grads)]))
    return found


def assert_same(block, x, mask=None, pad=None, **override):
    """Assert output and every gradient agree with torch within the shared tolerance."""
    (y, grads), (y_ref, grads_ref) = run_both(block, x, mask, pad)
    assert_matches(y.detach().numpy(), y_ref, **override)
    assert len(grads) == len(grads_ref) == 13  # the input and 12 weight tensors
    for a, b in zip(grads, grads_ref, strict=True):
        assert_matches(a.numpy(), b, **override)


CAUSAL = torch.ones(5, 5, dtype=torch.bool).triu(1)
PAD = torch.tensor([[False] * 5, [False, False, False, True, True]])
MASKS = {"none": (None, None), "causal": (CAUSAL, None), "padding": (None, PAD),
         "both": (CAUSAL, PAD)}


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm", "post-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("mask", MASKS)
def test_block_matches_torch(mask, activation, norm_first, dtype):
    """Pre- and post-norm, relu and gelu, with and without masks: values and gradients agree."""
    block = make(dtype, activation=activation, norm_first=norm_first)
    assert_same(block, inputs(dtype), *MASKS[mask])


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize(("B", "T", "C", "H"), [(1, 1, 8, 1), (3, 7, 8, 8), (0, 4, 8, 2)])
def test_shapes(B, T, C, H, dtype):
    """One token, heads of width 1, and an empty batch agree with torch."""
    assert_same(make(dtype, C=C, H=H, hidden=2 * C), inputs(dtype, B=B, T=T, C=C))


@pytest.mark.parametrize(("norm_first", "dtype"),
                         [(True, torch.float64), (True, torch.float32), (False, torch.float64)],
                         ids=["pre-norm-float64", "pre-norm-float32", "post-norm-float64"])
def test_large_mean_input(norm_first, dtype):
    """Inputs with mean 1e3: values and gradients still agree.

    Both sides round numbers of size 1e3 (the residual stream, and in post-norm the attention
    scores), so the absolute floor scales by 1e3: 1e-9 in float64, 1e-3 in float32. Post-norm
    in float32 is left out: its attention sees the raw inputs, its scores reach about 2e5, where
    float32 numbers are 1/64 apart, so two correct implementations already
    disagree inside the saturated softmax (pre-norm normalizes before attention and has no
    such problem).
    """
    block = make(dtype, norm_first=norm_first)
    atol = 1e3 * (1e-12 if dtype == torch.float64 else 1e-6)
    assert_same(block, inputs(dtype, shift=1e3), atol=atol)


def test_the_comparison_can_fail():
    """A block with GELU differs from a torch layer with ReLU by far more than the tolerance."""
    block = make(torch.float64, activation="gelu")
    ref = to_torch(make(torch.float64, activation="relu"))
    ref.load_state_dict(block_layout(block))
    x = inputs(torch.float64)
    assert (block(x) - ref(x)).abs().max() > 1e-3


def fast_path_calls(module, x, **kwargs):
    """Run module(x) and count calls of torch's fused encoder-layer kernel."""
    calls = []
    original = torch._transformer_encoder_layer_fwd

    def spy(*args, **kw):
        calls.append(1)
        return original(*args, **kw)

    torch._transformer_encoder_layer_fwd = spy
    try:
        y = module(x, **kwargs)
    finally:
        torch._transformer_encoder_layer_fwd = original
    return y, len(calls)


@pytest.mark.parametrize("dtype", DTYPES, ids=dtype_id)
@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm", "post-norm"])
def test_fast_path_in_eval_under_no_grad(norm_first, dtype):
    """eval() + no_grad takes torch's fused kernel and still agrees to rounding; train() does not
    take it, nor does eval() with gradients enabled unless neither the input nor any parameter
    requires one."""
    block = make(dtype, norm_first=norm_first)
    ref = to_torch(block).eval()
    x = inputs(dtype)
    with torch.no_grad():
        y_fast, fast = fast_path_calls(ref, x, src_key_padding_mask=PAD)
        y_ours = block(x, key_padding_mask=PAD)
    assert fast == 1
    assert_matches(y_ours.numpy(), y_fast)
    _, with_grad = fast_path_calls(ref, x)
    ref.requires_grad_(False)  # no parameter needs a gradient: fast path even outside no_grad
    _, frozen = fast_path_calls(ref, x)
    _, input_grad = fast_path_calls(ref, x.clone().requires_grad_())  # but the input does
    ref.train()
    with torch.no_grad():
        _, training = fast_path_calls(ref, x)
    assert with_grad == 0
    assert frozen == 1
    assert input_grad == 0
    assert training == 0


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_stack_fast_path_zeroes_padded_positions():
    """nn.TransformerEncoder (post-norm) in eval under no_grad returns exact zeros at padded
    positions (nested tensors); in training mode they hold ordinary values."""
    layer = to_torch(make(torch.float32, norm_first=False))
    encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=True)
    x = inputs(torch.float32)
    y_train = encoder(x, src_key_padding_mask=PAD)
    encoder.eval()
    with torch.no_grad():
        y_eval = encoder(x, src_key_padding_mask=PAD)
    assert (y_eval[1, 3:] == 0).all()
    assert (y_train[1, 3:].abs() > 0).any()
    assert_matches(y_eval[:, :3].numpy(), y_train[:, :3])


def encoder_output(norm_first=False, nested=True, pad=PAD, mask=None, train=False):
    """A 2-layer nn.TransformerEncoder holding copies of our block, run on the test input."""
    layer = to_torch(make(torch.float32, norm_first=norm_first))
    encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=nested)
    encoder.train(train)
    with torch.no_grad():
        return encoder(inputs(torch.float32), mask=mask, src_key_padding_mask=pad)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_encoder_stack_zeros_need_every_condition():
    """Without any one condition (post-norm layers, nested tensors enabled, padding at the end,
    no attention mask) the eval-mode stack returns ordinary numbers at padded positions."""
    left_pad = PAD.flip(1)  # padding first: [True, True, False, False, False]
    cases = {"pre-norm": encoder_output(norm_first=True),
             "nested off": encoder_output(nested=False),
             "causal mask": encoder_output(mask=CAUSAL),
             "left padding": encoder_output(pad=left_pad)}
    for name, y in cases.items():
        padded = y[1, :2] if name == "left padding" else y[1, 3:]
        assert (padded.abs() > 0).any(), name
    assert (encoder_output()[1, 3:] == 0).all()  # all conditions met: exact zeros


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-norm", "post-norm"])
def test_query_without_keys_is_nan_in_ours_finite_in_torch_training(norm_first):
    """Causal mask with left padding: padding positions see no key. Ours and torch's fused eval
    path give NaN there, torch's training path (SDPA: zero weights) finite values; the other
    positions agree."""
    block = make(torch.float64, norm_first=norm_first)
    x = inputs(torch.float64)
    left_pad = PAD.flip(1)  # sequence 2 starts with two padding tokens
    ref = to_torch(block).train()
    y = block(x, attn_mask=CAUSAL, key_padding_mask=left_pad)
    y_train = ref(x, src_mask=CAUSAL, src_key_padding_mask=left_pad)
    ref.eval()
    with torch.no_grad():
        y_fast = ref(x, src_mask=CAUSAL, src_key_padding_mask=left_pad)
    blind = torch.zeros(2, 5, dtype=torch.bool)
    blind[1, :2] = True  # the positions whose every key is hidden
    assert torch.equal(torch.isnan(y).any(-1), blind)
    assert torch.equal(torch.isnan(y_fast).any(-1), blind)
    assert not torch.isnan(y_train).any()
    assert_matches(y[~blind].detach().numpy(), y_train[~blind])


def test_post_norm_output_has_unit_rms():
    """Post-norm ends with a LayerNorm (weight 1, bias 0 at init): every token's output has
    mean 0 and variance var / (var + eps) <= 1, so the stream cannot grow with depth."""
    block = make(torch.float64, norm_first=False)
    y = block(inputs(torch.float64, shift=5.0))
    torch.testing.assert_close(y.mean(-1), torch.zeros(2, 5, dtype=torch.float64), atol=1e-12,
                               rtol=0)
    assert (y.var(-1, unbiased=False) <= 1).all()


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 1000))
def test_pre_norm_last_layer_gradient_shrinks_as_the_stream_grows(seed):
    """Xiong et al.: the pre-norm stack's final LayerNorm divides the gradient by the rms of the
    residual stream, which grows with depth, so the last block's gradient shrinks; post-norm's
    stream stays at rms 1 and its last-layer gradient does not shrink with depth.

    Bounds: every pre-norm block adds its branch output to the stream, so rms(x_L)^2 grows with
    L (at torch's default init by about 0.1 per block, faster for deep stacks: mean 1.1 at L = 1,
    2.9 at L = 16), and 16 blocks give a stream at least 1.2 times wider than 1 block (measured
    1.4 to 1.9 over 20 seeds). The gradient times the rms then stays within a factor 2 (the
    LayerNorm's 1/rms scaling, up to the change of the stream's direction; measured 0.73 to
    1.31), and post-norm's gradient keeps at least half its one-block size (measured >= 0.67).
    """
    g1, rms1 = last_layer_gradient(True, 1, seed=seed)
    g16, rms16 = last_layer_gradient(True, 16, seed=seed)
    assert rms16 > 1.2 * rms1
    assert 0.5 < (g16 * rms16) / (g1 * rms1) < 2
    p1, post_rms1 = last_layer_gradient(False, 1, seed=seed)
    p16, post_rms16 = last_layer_gradient(False, 16, seed=seed)
    assert post_rms1 <= 1
    assert post_rms16 <= 1
    assert p16 > 0.5 * p1
