"""Time one attention call against the sequence length: ours (which stores the L×L weights)
and torch's scaled_dot_product_attention.

The attention page counts the work (2·L²·E multiply-adds per call, the same in every build);
this script measures what that work costs on the machine it runs on. The inputs have shape
(1, 1, L, E) (batch, heads, length, width): given 4-D inputs on the CPU, torch 2.13 picks its
fused flash-attention kernel, which never holds the whole L×L matrix (given 3-D inputs it falls
back to its math implementation, the same matrix products as ours); the script prints the
kernel torch ran. For each length it prints the best of --repeats calls (one CPU thread,
float32, E = 64) and the ratio to the previous length: a ratio near 4 per doubling is quadratic
growth. The two implementations are called alternately, so slow spells of a shared machine
tend to hit both; their ratio is still only a rough guide there, and the table changes from
run to run.

Usage: python tools/bench_attention.py [--repeats N] [--max-length L]
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.profiler import profile

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from snippets.attention.scaled_dot_product import scaled_dot_product_attention


def best_times(fns, repeats: int) -> list[float]:
    """Best time of each function over `repeats` rounds, calling them in turn in each round."""
    for fn in fns:
        fn()  # warm-up: first-call allocations and dispatch
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def torch_kernel(q, k, v) -> str:
    """The aten operator that torch's scaled_dot_product_attention dispatches to."""
    with profile() as prof:
        F.scaled_dot_product_attention(q, k, v)
    names = [e.name for e in prof.events()
             if e.name.startswith("aten::_scaled_dot_product")]
    return names[0] if names else "aten::scaled_dot_product_attention"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-length", type=int, default=2048)
    args = parser.parse_args()
    if args.repeats < 1 or args.max_length < 128:
        parser.error("--repeats must be at least 1 and --max-length at least 128")
    torch.set_num_threads(1)
    E, T, rows = 64, 128, []
    with torch.no_grad():
        kernel = torch_kernel(*[torch.randn(1, 1, T, E) for _ in range(3)])
        while args.max_length >= T:
            qkv = [torch.randn(1, 1, T, E) for _ in range(3)]  # (batch, heads, L, E)
            ours, theirs = best_times([partial(scaled_dot_product_attention, *qkv),
                                       partial(F.scaled_dot_product_attention, *qkv)],
                                      args.repeats)
            rows.append((T, ours, theirs))
            T *= 2
    print(f"best of {args.repeats} calls, one thread, float32, E = {E}; torch ran {kernel}")
    print(f"{'L':>6} {'ours (ms)':>10} {'x prev':>7} {'torch (ms)':>11} {'x prev':>7} "
          f"{'ours / torch':>13}")
    for i, (T, ours, theirs) in enumerate(rows):
        up_ours = f"{ours / rows[i - 1][1]:7.2f}" if i else " " * 7
        up_theirs = f"{theirs / rows[i - 1][2]:7.2f}" if i else " " * 7
        print(f"{T:6d} {ours * 1e3:10.3f} {up_ours} {theirs * 1e3:11.3f} {up_theirs} "
              f"{ours / theirs:13.2f}")


if __name__ == "__main__":
    main()
