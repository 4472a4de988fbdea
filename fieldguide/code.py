"""What a page shows of a snippet: the code, without the docstrings the API reference renders.

Snippet docstrings hold the equations in TeX (`$$\\frac{...}$$`), which reads well rendered in the
API reference and badly as raw text in a code block under the same equation already rendered in
the prose. So the build removes docstrings from every executed block before it runs: what a page
shows is exactly what ran. A docstring's summary (its first paragraph) stays when it holds no
TeX, as a one-line reminder of what the function does.
"""

from __future__ import annotations

import ast


def _summary(text: str) -> str | None:
    """The first paragraph of a docstring as one line, or None when it holds TeX."""
    paragraph = []
    for line in text.strip().splitlines():
        if not line.strip():
            break
        paragraph.append(line.strip())
    summary = " ".join(paragraph)
    if not summary or any(c in summary for c in "$\\`") or '"""' in summary:
        return None
    return summary


def strip_docstrings(source: str, *, width: int = 88) -> str:
    """`source` with every docstring removed, or cut to its summary when that has no TeX and
    fits in `width` characters. Code that does not parse is returned unchanged."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []  # (first line, last line, replacement), 0-based
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        body = node.body
        if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            continue
        doc = body[0]
        first, last = doc.lineno - 1, doc.end_lineno - 1
        before = lines[first][: doc.col_offset]
        after = lines[last].encode()[doc.end_col_offset :].decode()
        if before.strip() or after.strip():  # shares its line with other code: leave it
            continue
        summary = _summary(doc.value.value)
        replacement = []
        if summary and len(before) + len(summary) + 6 <= width:
            replacement = [f'{before}"""{summary}"""\n']
        elif len(body) == 1:  # the docstring was the whole body
            replacement = [f"{before}...\n"]
        edits.append((first, last, replacement))
    for first, last, replacement in sorted(edits, reverse=True):
        lines[first : last + 1] = replacement
    return "".join(lines)
