"""Build-time benchmark: prints cold, warm, floor and one-snippet rebuild times of the site.

Every figure is the median of several builds of a throw-away copy of the project (the working
tree is never touched), measured in one run so that the ratios to the floor are comparable on a
shared, noisy machine:

- floor: the same build with code execution and figures switched off (FIELDGUIDE_EXEC=0);
- cold: every block runs (empty cache);
- warm: nothing changed since the last build (every block from the cache);
- one snippet: a line was added to one snippet's implementation, then rebuilt with the cache.

Usage: python tools/bench.py [--runs N] [--snippet snippets/activations/relu.py]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldguide.project import copy_project  # noqa: E402


def build(root: Path, out: Path, *, execute: bool, cache_dir: Path | None) -> float:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "FIELDGUIDE_EXEC": "1" if execute else "0",
           "FIELDGUIDE_CACHE": "1" if cache_dir else "0"}
    if cache_dir:
        env["FIELDGUIDE_CACHE_DIR"] = str(cache_dir)
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="builds per figure (median)")
    parser.add_argument("--snippet", default="snippets/activations/relu.py",
                        help="the snippet edited for the one-snippet rebuild")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fieldguide-bench-") as tmp:
        tmp = Path(tmp)
        root = tmp / "project"
        copy_project(root)
        snippet = root / args.snippet
        marker = "# --8<-- [start:impl]\n"
        if marker not in snippet.read_text():
            sys.exit(f"{args.snippet}: no impl section to edit")
        out = tmp / "site"
        times: dict[str, list[float]] = {"floor": [], "cold": [], "warm": [], "one snippet": []}
        for run in range(args.runs):
            times["floor"].append(build(root, out, execute=False, cache_dir=None))
            cold_cache = tmp / f"cache-cold-{run}"
            times["cold"].append(build(root, out, execute=True, cache_dir=cold_cache))
            times["warm"].append(build(root, out, execute=True, cache_dir=cold_cache))
            text = snippet.read_text()
            snippet.write_text(text.replace(marker, f"{marker}# bench edit {run}\n", 1))
            times["one snippet"].append(build(root, out, execute=True, cache_dir=cold_cache))
            snippet.write_text(text)

    floor = statistics.median(times["floor"])
    pages = sum(1 for _ in (ROOT / "docs").rglob("*.md"))
    print(f"site: {pages} Markdown pages; median of {args.runs} builds each")
    print(f"{'build':<12} {'seconds':>8} {'x floor':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<12} {median:8.2f} {median / floor:8.2f}")


if __name__ == "__main__":
    main()
