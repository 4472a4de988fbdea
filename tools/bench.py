"""Build-time benchmark: prints cold, warm, floor and one-snippet rebuild times of the site.

Every figure is the median of several builds of a throw-away copy of the project (the working
tree is never touched), measured in one run so that the ratios to the floor are comparable on a
shared, noisy machine. Two tables:

1. Each build a fresh `mkdocs build` process, as `make build` and CI run it:
   - floor: the same build with code execution and figures switched off (FIELDGUIDE_EXEC=0);
   - cold: every block runs (empty cache);
   - warm: nothing changed since the last build (every block from the cache);
   - one snippet: a line was added to one snippet's implementation, then rebuilt with the cache.
2. Rebuilds inside one long-lived process, the way `make serve` rebuilds after an edit (a fresh
   config per build, libraries stay imported): the floor rebuild (execution off), a rebuild with
   nothing changed, and a rebuild after the same one-snippet edit. Before the edits the process
   waits for the libraries `make serve` preloads while it waits for the author's first edit.

Usage: python tools/bench.py [--runs N] [--snippet snippets/activations/relu.py]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MARKER = "# --8<-- [start:impl]\n"
STATS = re.compile(r"fieldguide: (\d+) code blocks and figures ran")
Timing = tuple[float, int]  # seconds, and how many blocks and figures ran (not from the cache)


def edit(snippet: Path, label: str) -> str:
    """Add a comment line to the snippet's implementation; returns the old text.

    `label` makes the edit unique within a benchmark, so that no cache has seen it before.
    """
    text = snippet.read_text()
    snippet.write_text(text.replace(MARKER, f"{MARKER}# bench edit: {label}\n", 1))
    return text


def build(root: Path, out: Path, *, execute: bool, cache_dir: Path | None) -> Timing:
    from fieldguide.project import build_environment  # parent process only: see main()

    env = build_environment(execute=execute, cache_dir=cache_dir)
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    stats = STATS.search(result.stderr)
    if result.returncode != 0 or not stats:
        sys.exit(f"build failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, int(stats.group(1))


def serve_loop(root: Path, out: Path, runs: int, snippet: Path, execute: bool) -> None:
    """In this process, rebuild like `make serve` does; prints the times as JSON.

    Runs in a child process started by `serving` (FIELDGUIDE_* variables set there), which
    has imported nothing of the project: the copy's own `fieldguide` and `snippets` are used.
    """
    assert not any(m.split(".")[0] in ("fieldguide", "snippets") for m in sys.modules)
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    os.chdir(root)

    class Server:  # what the on_serve hooks get from `mkdocs serve`; nothing is served here
        def watch(self, *args, **kwargs):
            pass

    config = None

    def rebuild() -> Timing:
        nonlocal config
        start = time.perf_counter()
        config = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(out), strict=True)
        mkdocs_build(config, serve_url="http://127.0.0.1:8000/")
        elapsed = time.perf_counter() - start
        (hooks,) = [p for p in config.plugins.values() if hasattr(p, "cache")]
        return elapsed, hooks.cache.stats["run"]

    rebuild()  # the first build of `make serve`, not measured
    config.plugins.on_serve(Server(), config=config, builder=rebuild)
    for thread in threading.enumerate():  # the author's pause before the first edit
        if thread.name == "fieldguide-preload":
            thread.join()
    times: dict[str, list[Timing]] = {"rebuild": [], "one snippet": []}
    for run in range(runs):
        times["rebuild"].append(rebuild())
        if execute:
            text = edit(snippet, f"serve {run}")
            times["one snippet"].append(rebuild())
            snippet.write_text(text)
    print(json.dumps(times))


def serving(root: Path, out: Path, runs: int, snippet: str, *, execute: bool,
            cache_dir: Path | None) -> dict[str, list[Timing]]:
    """Run `serve_loop` in a fresh process; returns its times."""
    command = [sys.executable, __file__, "--serve-loop", "exec" if execute else "floor",
               "--runs", str(runs), "--snippet", snippet, "--root", str(root), "--out", str(out)]
    from fieldguide.project import build_environment  # parent process only: see main()

    env = build_environment(execute=execute, cache_dir=cache_dir)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"serve loop failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(title: str, times: dict[str, list[Timing]], floor_name: str) -> None:
    """Median seconds, ratio to the floor, and how many blocks and figures ran (from the log)."""
    floor = statistics.median(t for t, _ in times[floor_name])
    print(f"\n{title}")
    print(f"{'build':<12} {'seconds':>8} {'x floor':>8} {'ran':>5}")
    for name, values in times.items():
        median = statistics.median(t for t, _ in values)
        ran = "/".join(sorted({str(n) for _, n in values}))
        print(f"{name:<12} {median:8.2f} {median / floor:8.2f} {ran:>5}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="builds per figure (median)")
    parser.add_argument("--snippet", default="snippets/activations/relu.py",
                        help="the snippet edited for the one-snippet rebuild")
    parser.add_argument("--serve-loop", choices=["exec", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_loop:
        serve_loop(args.root, args.out, args.runs, args.root / args.snippet,
                   execute=args.serve_loop == "exec")
        return

    # Only now: the serve loop must import the build glue of the copy, not of this tree.
    sys.path.insert(0, str(ROOT))
    from fieldguide.project import copy_project

    with tempfile.TemporaryDirectory(prefix="fieldguide-bench-") as tmp:
        tmp = Path(tmp)
        root = tmp / "project"
        copy_project(root)
        snippet = root / args.snippet
        if MARKER not in snippet.read_text():
            sys.exit(f"{args.snippet}: no impl section to edit")
        out = tmp / "site"
        times: dict[str, list[Timing]] = {"floor": [], "cold": [], "warm": [], "one snippet": []}
        for run in range(args.runs):
            times["floor"].append(build(root, out, execute=False, cache_dir=None))
            cold_cache = tmp / f"cache-cold-{run}"
            times["cold"].append(build(root, out, execute=True, cache_dir=cold_cache))
            times["warm"].append(build(root, out, execute=True, cache_dir=cold_cache))
            text = edit(snippet, f"fresh {run}")
            times["one snippet"].append(build(root, out, execute=True, cache_dir=cold_cache))
            snippet.write_text(text)

        floor_loop = serving(root, out, args.runs, args.snippet, execute=False, cache_dir=None)
        exec_loop = serving(root, out, args.runs, args.snippet, execute=True,
                            cache_dir=tmp / "cache-cold-0")
        serve_times = {"floor": floor_loop["rebuild"], "warm": exec_loop["rebuild"],
                       "one snippet": exec_loop["one snippet"]}

    pages = sum(1 for _ in (ROOT / "docs").rglob("*.md"))
    print(f"site: {pages} Markdown pages; edited snippet: {args.snippet}; "
          f"median of {args.runs} builds each")
    print("ran: code blocks and figures run rather than taken from the cache, in each build")
    table("Fresh `mkdocs build` process per build (make build, CI):", times, "floor")
    table("Rebuilds inside one `mkdocs serve`-like process (the authoring loop):",
          serve_times, "floor")


if __name__ == "__main__":
    main()
