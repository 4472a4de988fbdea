"""The verification page and verification.json: what the checks of this very build measured.

Every concept page has a check block (a `check...` section of its snippet) that compares our code
with its reference and prints, for each reference, lines in one fixed format:

    checked against torch.nn.functional.gelu
    float64: max |ours - torch| value 1.1e-16, grad 2.2e-16
    float32: max |ours - torch| value 5.9e-08, grad 1.2e-07

(`ours - reference` when the reference is not torch; `relative value` / `relative grad` for
relative errors; no `grad` part when there is no gradient). A check of an exact quantity, such
as a network's parameter count against its published figure, prints `exact:` in place of the
dtype, e.g. `exact: max |ours - reference| value 0`. The build reads these lines from the
blocks' output as they run (or come from the cache), so nothing on the page is typed by hand. A
page whose check block prints no such line stops the build: a check that stops reporting must not
go unnoticed.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import asdict, dataclass

from fieldguide.errors import FieldGuideError

_REFERENCE = re.compile(r"^checked against (?P<reference>\S.*?)\s*$")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|nan|inf)"
_FIGURES = re.compile(
    rf"^(?P<dtype>float64|float32|float16|bfloat16|exact): max \|ours - (?:torch|reference)\| "
    rf"(?P<value_kind>relative value|value) (?P<value>{_NUMBER})"
    rf"(?:, (?P<grad_kind>relative grad|grad) (?P<grad>{_NUMBER}))?\s*$"
)
_CHECK_INCLUDE = re.compile(r'^\s*-{1,}8<-{1,}\s+"[^"]+:check[\w-]*"\s*$', re.M)


@dataclass(frozen=True)
class Figure:
    page: str          # e.g. "activations/relu.md"
    title: str         # the page's title, filled in when the page is known
    reference: str     # what our code was checked against
    dtype: str
    value: float
    value_relative: bool
    grad: float | None
    grad_relative: bool


def has_check(markdown: str) -> bool:
    """Whether a page includes a check section of a snippet (so it must report figures)."""
    return bool(_CHECK_INCLUDE.search(markdown))


def parse(text: str, page: str) -> list[Figure]:
    """The figures in the output `text` of one block (HTML or plain text) of `page`."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    figures, reference = [], None
    for line in text.splitlines():
        line = line.strip()
        if match := _REFERENCE.match(line):
            reference = match["reference"]
        elif match := _FIGURES.match(line):
            if reference is None:
                raise FieldGuideError(
                    f"{page}: the check prints '{line}' before any 'checked against ...' line, "
                    "so the verification page cannot say what it was checked against"
                )
            grad = match["grad"]
            figures.append(Figure(
                page=page, title="", reference=reference, dtype=match["dtype"],
                value=float(match["value"]), value_relative=match["value_kind"] != "value",
                grad=None if grad is None else float(grad),
                grad_relative=(match["grad_kind"] or "grad") != "grad",
            ))
    return figures


def check_reported(pages_with_checks: set[str], figures: list[Figure]) -> None:
    """Every page with a check block that ran reported at least one figure."""
    silent = sorted(pages_with_checks - {f.page for f in figures})
    if silent:
        raise FieldGuideError(
            f"{', '.join(silent)}: the check block printed no 'float64: max |ours - torch| "
            "value ...' line, so the verification page would lose it (see fieldguide/"
            "verification.py for the format)"
        )


def _cell(x: float | None, relative: bool) -> str:
    if x is None:
        return "—"
    if math.isnan(x):
        return "NaN"
    return f"{x:.1e}" + (" (rel.)" if relative else "")


def page(figures: list[Figure], titles: dict[str, str], urls: dict[str, str], versions: str,
         executed: bool) -> str:
    """The Markdown of verification.md."""
    lines = [
        "# Verification",
        "",
        "Every concept on this site is implemented from scratch and checked, when the site is "
        "built, against a reference: PyTorch's own function where one exists, otherwise an "
        "identity or a direct float64 formula. This table is filled in from what those check "
        "blocks printed in the build that made this page; nothing in it is typed by hand. It is "
        "also published as <a href=\"../verification.json\">verification.json</a>.",
        "",
        f"{versions}",
        "",
        "Errors are the largest absolute difference |ours − reference| over the checked inputs "
        "(marked *rel.* where the page reports a relative error instead, for results of large "
        "magnitude; *exact* for whole numbers such as parameter counts, where any difference is "
        "an error). The page of each concept says which inputs were used and why the float32 "
        "figures are larger.",
        "",
    ]
    if not executed:
        lines += ["!!! warning \"Not measured in this build\"",
                  "    This build ran no code, so there is nothing to report.", ""]
        return "\n".join(lines)
    lines += [
        "| concept | checked against | float64 value | float64 grad | float32 value "
        "| float32 grad |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    rows: dict[tuple[str, str], dict[str, Figure]] = {}
    for f in figures:
        rows.setdefault((f.page, f.reference), {})[f.dtype] = f
    for (page_uri, reference), by_dtype in sorted(
        rows.items(), key=lambda item: (item[0][0].split("/")[0], titles.get(item[0][0], ""))
    ):
        f64, f32 = by_dtype.get("float64"), by_dtype.get("float32")
        exact = by_dtype.get("exact")
        title = titles.get(page_uri, page_uri)
        cells = [
            f"[{title}]({page_uri})",
            f"`{reference}`" if "`" not in reference else reference,
            _cell(f64.value, f64.value_relative) if f64
            else f"{exact.value:g} (exact)" if exact else "—",
            _cell(f64.grad, f64.grad_relative) if f64 else "—",
            _cell(f32.value, f32.value_relative) if f32 else "—",
            _cell(f32.grad, f32.grad_relative) if f32 else "—",
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    return "\n".join(lines)


def export(figures: list[Figure], titles: dict[str, str], urls: dict[str, str],
           versions: dict[str, str]) -> str:
    """verification.json: the same figures, for tools (schema-free, one record per figure)."""
    records = []
    for f in figures:
        record = asdict(f)
        record["title"] = titles.get(f.page, f.page)
        record["url"] = urls.get(f.page, "")
        for key in ("value", "grad"):
            if record[key] is not None and not math.isfinite(record[key]):
                record[key] = str(record[key])
        records.append(record)
    return json.dumps({"versions": versions, "figures": records}, indent=1, ensure_ascii=False,
                      sort_keys=True) + "\n"
