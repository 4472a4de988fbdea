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

3. The ten slowest code blocks and figures of the cold build, so a slow one is seen the day it
   lands, and the time from saving a one-snippet edit to the page showing it in a real
   `mkdocs serve` (median of --runs edits; the server polls for changes, as it does for authors).

Usage: python tools/bench.py [--runs N] [--snippet snippets/activations/relu.py] [--family F]

`--family F` runs the code of that family's pages only (the other pages build as in the floor),
which the test of this script uses to check the work each row does in minutes, not tens of them.
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

# The edit goes into the first section a page shows (an outer `impl` section holds no code of its
# own: its functions are shown one section each).
SECTION = re.compile(r"^ *# --8<-- \[start:(?!impl\])[\w-]+\]\n", re.M)
STATS = re.compile(r"fieldguide: (\d+) code blocks and figures ran")
Timing = tuple[float, int]  # seconds, and how many blocks and figures ran (not from the cache)
EXECUTE: bool | str = True  # what an executing build runs: everything, or a list of pages


def edit(snippet: Path, label: str) -> str:
    """Add a comment line to the snippet's implementation; returns the old text.

    `label` makes the edit unique within a benchmark, so that no cache has seen it before.
    """
    text = snippet.read_text()
    marker = SECTION.search(text)
    snippet.write_text(f"{text[: marker.end()]}# bench edit: {label}\n{text[marker.end() :]}")
    return text


def build(root: Path, out: Path, *, execute: bool, cache_dir: Path | None,
          timings: Path | None = None) -> Timing:
    from fieldguide.project import build_environment  # parent process only: see main()

    env = build_environment(execute=EXECUTE if execute else False, cache_dir=cache_dir)
    if timings:
        env["FIELDGUIDE_TIMINGS"] = str(timings)
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
        config.plugins.on_startup(command="serve", dirty=False)  # as `mkdocs serve` does
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

    env = build_environment(execute=EXECUTE if execute else False, cache_dir=cache_dir)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"serve loop failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def edit_to_page(root: Path, snippet: Path, runs: int, cache_dir: Path,
                 pause: float) -> list[float]:
    """Seconds from saving an edit of `snippet` to a real `mkdocs serve` serving the new page."""
    import socket
    import urllib.request

    from fieldguide.project import build_environment  # parent process only: see main()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page = f"http://127.0.0.1:{port}/" + (
        snippet.relative_to(root / "snippets").with_suffix("").as_posix().replace("_", "-")
        + "/")
    env = build_environment(execute=EXECUTE, cache_dir=cache_dir)
    log = (root.parent / "serve.log").open("w")  # a file: a full pipe would stall the server
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--strict", "-a", f"127.0.0.1:{port}"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)

    def fetch() -> str:
        try:
            with urllib.request.urlopen(page, timeout=5) as response:
                return response.read().decode()
        except OSError:
            return ""

    def wait_for(needle: str, limit: float) -> float:
        start = time.perf_counter()
        while time.perf_counter() - start < limit:
            if server.poll() is not None:
                sys.exit(f"mkdocs serve stopped:\n{(root.parent / 'serve.log').read_text()}")
            if needle in fetch():
                return time.perf_counter() - start
            time.sleep(0.02)
        tail = (root.parent / "serve.log").read_text()[-3000:]
        sys.exit(f"{page} did not show {needle!r} within {limit} s; mkdocs serve said:\n{tail}")

    times = []
    try:
        wait_for("</html>", 600)  # the first build
        time.sleep(pause)  # the author's pause: `make serve` preloads the libraries meanwhile
        for run in range(runs):
            label = f"served edit {run} {time.time_ns()}"
            text = edit(snippet, label)
            times.append(wait_for(label, 120))
            snippet.write_text(text)
            wait_for("</html>", 120)
            time.sleep(2)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    return times


def slowest(timings: str, count: int = 10) -> None:
    """The `count` slowest blocks and figures of a build (the text of its FIELDGUIDE_TIMINGS
    file)."""
    rows = json.loads(timings)[:count]
    print(f"\nThe {len(rows)} slowest code blocks and figures of the cold build:")
    for seconds, page, what in rows:
        print(f"{seconds:7.3f} s  {page:<32} {what}")


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
    parser.add_argument("--pause", type=float, default=15.0,
                        help="seconds `make serve` idles before the first edit (it preloads)")
    parser.add_argument("--family", help="run the code of this family's pages only")
    parser.add_argument("--serve-loop", choices=["exec", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_loop:
        serve_loop(args.root, args.out, args.runs, args.root / args.snippet,
                   execute=args.serve_loop == "exec")
        return

    global EXECUTE
    if args.family:
        pages = sorted((ROOT / "docs" / args.family).glob("*.md"))
        if not pages:
            sys.exit(f"--family {args.family}: no pages in docs/{args.family}/")
        EXECUTE = ",".join(p.relative_to(ROOT / "docs").as_posix() for p in pages)

    # Only now: the serve loop must import the build glue of the copy, not of this tree.
    sys.path.insert(0, str(ROOT))
    from fieldguide.project import copy_project

    with tempfile.TemporaryDirectory(prefix="fieldguide-bench-") as tmp:
        tmp = Path(tmp)
        root = tmp / "project"
        copy_project(root)
        snippet = root / args.snippet
        if not SECTION.search(snippet.read_text()):
            sys.exit(f"{args.snippet}: no section to edit")
        out = tmp / "site"
        times: dict[str, list[Timing]] = {"floor": [], "cold": [], "warm": [], "one snippet": []}
        for run in range(args.runs):
            times["floor"].append(build(root, out, execute=False, cache_dir=None))
            cold_cache = tmp / f"cache-cold-{run}"
            times["cold"].append(build(root, out, execute=True, cache_dir=cold_cache,
                                       timings=tmp / "timings.json" if run == 0 else None))
            times["warm"].append(build(root, out, execute=True, cache_dir=cold_cache))
            text = edit(snippet, f"fresh {run}")
            times["one snippet"].append(build(root, out, execute=True, cache_dir=cold_cache))
            snippet.write_text(text)

        floor_loop = serving(root, out, args.runs, args.snippet, execute=False, cache_dir=None)
        exec_loop = serving(root, out, args.runs, args.snippet, execute=True,
                            cache_dir=tmp / "cache-cold-0")
        serve_times = {"floor": floor_loop["rebuild"], "warm": exec_loop["rebuild"],
                       "one snippet": exec_loop["one snippet"]}
        served = edit_to_page(root, snippet, args.runs, tmp / "cache-cold-0", args.pause)
        timings = (tmp / "timings.json").read_text(encoding="utf-8")

    pages = sum(1 for _ in (ROOT / "docs").rglob("*.md"))
    scope = f"the code of docs/{args.family}/ only" if args.family else "all the code"
    print(f"site: {pages} Markdown pages, running {scope}; edited snippet: {args.snippet}; "
          f"median of {args.runs} builds each")
    print("ran: code blocks and figures run rather than taken from the cache, in each build")
    table("Fresh `mkdocs build` process per build (make build, CI):", times, "floor")
    table("Rebuilds inside one `mkdocs serve`-like process (the authoring loop):",
          serve_times, "floor")
    slowest(timings)
    print(f"\nmake serve, from saving an edit of {args.snippet} to the page showing it: "
          f"{statistics.median(served):.2f} s (median of {len(served)}; "
          f"{', '.join(f'{s:.2f}' for s in served)})")


if __name__ == "__main__":
    main()
