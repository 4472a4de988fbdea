"""Fixtures that build the site: once for real (shared by all site tests), or from a copy."""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from fieldguide.project import build_environment, copy_project

__all__ = ["copy_project", "run_build"]

ROOT = Path(__file__).resolve().parents[2]


def run_build(
    root: Path, dest: Path, *, execute: bool | str = True, cache_dir: Path | None = None,
    verbose: bool = False, elsewhere: bool = False,
) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of the project at `root` into `dest`; returns the finished process.

    The block cache is off unless `cache_dir` is given, so that tests see a really clean build.
    `elsewhere` runs the `mkdocs` command (not `python -m mkdocs`) from the parent directory of
    `dest`, as a user might: then nothing of the project is importable from the working directory.
    """
    env = build_environment(execute=execute, cache_dir=cache_dir)
    mkdocs = [str(Path(sys.executable).parent / "mkdocs")] if elsewhere else [
        sys.executable, "-m", "mkdocs"]
    return subprocess.run(
        [*mkdocs, "build", "--strict",
         "-f", str(root / "mkdocs.yml"), "-d", str(dest), *(["-v"] if verbose else [])],
        capture_output=True, text=True, env=env, timeout=900, check=False,
        cwd=dest.parent if elsewhere else root,
    )


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The real site, built once per test run with every block executed.

    Under pytest-xdist every worker asks for it: the first one builds it into the run's shared
    temporary folder while holding a lock, and the others wait and reuse it (or its failure).
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # each worker's base is a subfolder of the run's
        shared = shared.parent
    dest, done = shared / "built-site", shared / "built-site.done"
    failed = shared / "built-site.failed"
    with FileLock(str(shared / "built-site.lock")):
        if not done.is_file() and not failed.is_file():
            result = run_build(ROOT, dest)
            if result.returncode != 0:
                failed.write_text(f"{result.stdout}\n{result.stderr}", encoding="utf-8")
            else:
                done.touch()
    if failed.is_file():
        pytest.fail(f"the site does not build:\n{failed.read_text(encoding='utf-8')}",
                    pytrace=False)
    return dest


# --- Serving the built site, and a real browser (test_browser.py, test_hosting.py) ---------------

CHROMIUM = Path(os.environ.get("FIELDGUIDE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@contextlib.contextmanager
def serve(directory: Path, not_found: Path | None = None) -> Iterator[str]:
    """Serve `directory` on a free loopback port, like a static host; yields the base URL.

    A missing file gets status 404 with the body of `not_found` (the site's 404 page), as GitHub
    Pages and most static hosts do.
    """

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output clean
            pass

        def send_error(self, code, message=None, explain=None):
            if code != 404 or not_found is None:
                return super().send_error(code, message, explain)
            body = not_found.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return None

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], ConnectionError):  # browsers drop connections
                super().handle_error(request, client_address)

    handler = functools.partial(Handler, directory=str(directory))
    with Server(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join()


@pytest.fixture(scope="session")
def site_url(built_site) -> Iterator[str]:
    """The base URL of `built_site`, served at the root of a local static server."""
    with serve(built_site, not_found=built_site / "404.html") as url:
        yield url


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright. Missing: skipped on a dev machine, fails on CI."""
    missing = ""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        missing = "Playwright for Python is not installed (make installs it)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: CI must run the browser tests", pytrace=False)
        pytest.skip(f"browser tests need Chromium: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
