"""Time one attention call against the sequence length: ours (which stores the L×L weights)
and torch's scaled_dot_product_attention.

The attention page counts the work (2·L²·E multiply-adds per call, the same in every build);
this script measures what that work costs on the machine it runs on. For each length it prints
the best of --repeats calls (one CPU thread, float32, E = 64) and the ratio to the previous
length: a ratio near 4 per doubling is quadratic growth. Both implementations are timed in the
same run, so their ratio to each other is comparable even on a shared, noisy machine.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from snippets.attention.scaled_dot_product import scaled_dot_product_attention


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up: first-call allocations and dispatch
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


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
        while args.max_length >= T:
            qkv = [torch.randn(1, T, E) for _ in range(3)]
            ours = best_time(partial(scaled_dot_product_attention, *qkv), args.repeats)
            theirs = best_time(partial(F.scaled_dot_product_attention, *qkv), args.repeats)
            rows.append((T, ours, theirs))
            T *= 2
    print(f"best of {args.repeats} calls, one thread, float32, E = {E}")
    print(f"{'L':>6} {'ours (ms)':>10} {'x prev':>7} {'torch (ms)':>11} {'x prev':>7} "
          f"{'ours / torch':>13}")
    for i, (T, ours, theirs) in enumerate(rows):
        up_ours = f"{ours / rows[i - 1][1]:7.2f}" if i else " " * 7
        up_theirs = f"{theirs / rows[i - 1][2]:7.2f}" if i else " " * 7
        print(f"{T:6d} {ours * 1e3:10.3f} {up_ours} {theirs * 1e3:11.3f} {up_theirs} "
              f"{ours / theirs:13.2f}")


if __name__ == "__main__":
    main()
