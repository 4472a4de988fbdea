"""A content-addressed cache for executed code blocks and build-time figures.

markdown-exec runs every block on every build. Here a block's HTML is reused when nothing that
affects it changed: its own code and options, the code of the blocks before it in the same
session on the same page (they set up its state), and the versions of Python and the libraries
the code runs with. Code on the site is self-contained (its imports are in the blocks), so the
code text is all it depends on. A figure is keyed by its figure module, the project modules its
drawing function reaches (found by reading the module, see `figure_dependencies`), the plotting
helpers and the same versions: editing relu.py redraws the ReLU figure, not the sigmoid one.

On a miss inside a session whose earlier blocks were served from the cache, those blocks are run
first (output discarded), so the block sees the same state as in a clean build. Output holding a
traceback is never stored. FIELDGUIDE_CACHE=0 turns the cache off; FIELDGUIDE_CACHE_DIR moves it
(default: .cache/fieldguide under the repository).
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import platform
import time
from collections import defaultdict
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fieldguide import ROOT

log = logging.getLogger("mkdocs.plugins.fieldguide")
FORMAT = "1"  # bump when the way outputs are produced changes


LIBRARIES = ("numpy", "torch", "matplotlib", "markdown-exec", "pymdown-extensions", "markdown",
             "keras", "transformers")  # the last two: the schedules' library tables run them


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def _environment() -> str:
    parts = [FORMAT, platform.python_version(), *(f"{n}={_version(n)}" for n in LIBRARIES)]
    return "|".join(parts)


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


class Cache:
    def __init__(self, directory: Path | None = None, enabled: bool | None = None):
        if enabled is None:
            enabled = os.environ.get("FIELDGUIDE_CACHE", "1") != "0"
        default = ROOT / ".cache" / "fieldguide"
        self.directory = Path(directory or os.environ.get("FIELDGUIDE_CACHE_DIR") or default)
        self.enabled = enabled
        self.environment = _environment()
        self.reset()

    def reset(self) -> None:
        """Forget per-build state (call at the start of every build)."""
        self.chains: dict[tuple[str, str], str] = {}  # (page, session) -> digest so far
        self.pending: dict[tuple[str, str], list] = defaultdict(list)  # cached, not yet run
        self.stats = {"run": 0, "cached": 0, "replayed": 0}
        self.drawn: list[str] = []  # figures drawn (not from the cache) in this build
        self.timings: list[tuple[float, str, str]] = []  # (seconds, page, what) of each run
        self.closures: dict[tuple[Path, str], list[Path]] = {}  # figure -> files it depends on

    def _closure(self, module_file: Path, function: str) -> list[Path]:
        if (module_file, function) not in self.closures:
            self.closures[module_file, function] = figure_dependencies(module_file, function)
        return self.closures[module_file, function]

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.html"

    def _get(self, key: str) -> str | None:
        if not self.enabled:
            return None
        path = self._path(key)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def _put(self, key: str, html: str) -> None:
        if not self.enabled:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)

    def wrap_exec(self, formatter, page_of, is_failure):
        """Wrap markdown-exec's superfences formatter with the cache."""

        def cached_formatter(source, language, css_class, options, md, **kwargs):
            page = page_of()
            session = options.get("session") or ""
            chain_id = (page, session) if session else None
            previous = self.chains.get(chain_id, "") if chain_id else ""
            opts = json.dumps(options, sort_keys=True, default=str)
            key = _digest(self.environment, language, opts, previous, source)
            if chain_id:
                self.chains[chain_id] = key

            html = self._get(key)
            if html is not None:
                self.stats["cached"] += 1
                if chain_id:
                    self.pending[chain_id].append((source, language, css_class, options, kwargs))
                return html

            if chain_id:  # rebuild the session state the cached blocks would have made
                for args in self.pending.pop(chain_id, []):
                    p_source, p_language, p_css, p_options, p_kwargs = args
                    formatter(p_source, p_language, p_css, p_options, md, **p_kwargs)
                    self.stats["replayed"] += 1
            start = time.perf_counter()
            html = formatter(source, language, css_class, options, md, **kwargs)
            first_line = next((s for s in source.splitlines() if s.strip()), "")[:60]
            what = f"block {session or '-'}: {first_line}"
            self.timings.append((time.perf_counter() - start, page, what))
            self.stats["run"] += 1
            if not is_failure(str(html)):
                self._put(key, str(html))
            return html

        return cached_formatter

    def figure(self, name: str, module_file: Path, make, where: str = "?") -> str:
        """The HTML of a figure, from the cache when its code and environment are unchanged."""
        sources = [self.environment, name]
        function = name.rpartition(".")[2]
        for path in [ROOT / "fieldguide" / "plotting.py", *self._closure(module_file, function)]:
            sources.append(path.read_text(encoding="utf-8"))
        key = _digest(*sources)
        html = self._get(key)
        if html is not None:
            self.stats["cached"] += 1
            return html
        start = time.perf_counter()
        html = make()
        self.timings.append((time.perf_counter() - start, where, f"figure {name}"))
        self.stats["run"] += 1
        self.drawn.append(name)
        self._put(key, html)
        return html


def _candidates(module: str, name: str | None = None) -> list[Path]:
    """Project files that `from module import name` (or `import module`) may execute or read."""
    parts = module.split(".")
    if parts[0] not in ("snippets", "fieldguide"):
        return []
    files = [ROOT.joinpath(*parts[:i], "__init__.py") for i in range(1, len(parts))]
    base = ROOT.joinpath(*parts)
    files += [base.with_suffix(".py"), base / "__init__.py"]
    if name:
        files += [(base / name).with_suffix(".py"), base / name / "__init__.py"]
    return [f for f in files if f.is_file()]


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def figure_dependencies(module_file: Path, function: str) -> list[Path]:
    """The figure module and every project file that its `function` can reach.

    Reads the module without running it: starting from the function, it follows the names the
    code uses through the module's top-level definitions to its imports, then takes each
    imported project module with everything that module imports in turn. Statements at top
    level that define nothing (an `if`, a call) count for every function. When in doubt (a
    `*` import, an unknown function) every import of the module counts.
    """
    tree = _parse(module_file.read_text(encoding="utf-8"))
    imports: dict[str, list[Path]] = {}  # name bound by an import -> files behind it
    definitions: dict[str, list[ast.AST]] = {}  # top-level name -> statements binding it
    always: list[ast.AST] = []
    wildcard = False
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                wildcard |= alias.name == "*"
                module = node.module or ""
                files = _candidates(module, alias.name) if node.level == 0 else []
                imports.setdefault(alias.asname or alias.name, []).extend(files)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                imports.setdefault(bound, []).extend(_candidates(alias.name))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            definitions.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _names(target):
                    definitions.setdefault(name, []).append(node)
        else:  # a call, an `if`, a loop at top level: it may matter to every figure
            always.append(node)

    if wildcard or function not in definitions:
        reached = set(imports)
    else:
        reached: set[str] = set()
        todo = [function, *(n for node in always for n in _names(node))]
        while todo:
            name = todo.pop()
            if name in reached:
                continue
            reached.add(name)
            for node in definitions.get(name, []):
                todo.extend(_names(node))
    files = {module_file}
    for name in reached & imports.keys():
        for path in imports[name]:
            files.update(_module_closure(path))
    return sorted(files)


@lru_cache(maxsize=256)
def _parse(text: str) -> ast.Module:
    """The syntax tree of a module's text (memoised: many figures read the same modules)."""
    return ast.parse(text)


@lru_cache(maxsize=256)
def _project_imports(text: str) -> tuple[str, ...]:
    """Names of the `snippets` and `fieldguide` modules (or their members) `text` imports."""
    names = []
    for node in ast.walk(_parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names]
    return tuple(n for n in names if n.split(".")[0] in ("snippets", "fieldguide"))


def _module_closure(path: Path) -> list[Path]:
    """`path` and every project file it imports from `snippets` or `fieldguide`, recursively."""
    seen: list[Path] = []
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen or not current.is_file():
            continue
        seen.append(current)
        for name in _project_imports(current.read_text(encoding="utf-8")):
            todo += _candidates(name)
    return sorted(seen)
