"""Add the glossary's new anchors to glossary/anchors.txt (run by `make anchors`).

glossary/anchors.txt lists every anchor the glossary page has ever published, so that the build
can refuse a change that would break a link to one of them. This script only appends: an anchor,
once listed, stays listed. Run it when you add a term or an alias, and commit the file with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fieldguide import glossary  # noqa: E402

LIST = ROOT / "glossary" / "anchors.txt"
HEADER = """\
# Every anchor the glossary page has published (glossary/#<anchor>), one per line. The build
# stops if one disappears: rename a term by keeping its old name as an alias. Append-only;
# `make anchors` adds the anchors of new terms and aliases.
"""


def main() -> int:
    entries = glossary.load(ROOT / "glossary")
    published = glossary.read_published(LIST)
    new = sorted(glossary.all_anchors(entries) - set(published))
    text = LIST.read_text(encoding="utf-8") if LIST.is_file() else HEADER
    if new:
        LIST.write_text(text.rstrip("\n") + "\n" + "\n".join(new) + "\n", encoding="utf-8")
    print(f"anchors: {len(new)} added, {len(published) + len(new)} listed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
