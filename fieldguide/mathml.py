r"""Turn the TeX that pymdownx.arithmatex marks up into MathML, at build time.

arithmatex (generic mode) leaves `<span class="arithmatex">\(...\)</span>` and
`<div class="arithmatex">\[...\]</div>` in the page; browsers render MathML natively, so pages
need no script, no font download and no request to any other server.
"""

import html
import re

from latex2mathml.converter import convert

from fieldguide.errors import FieldGuideError

_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)


def tex_to_mathml(tex: str, display: str = "inline") -> str:
    """MathML for `tex`, with the TeX kept as an annotation for copy-paste and assistive tools.

    The annotation stays out of the search index (Material's search skips elements marked
    `data-search-exclude` and strips the mark from the page), which would otherwise hold each
    formula twice, once as TeX.
    """
    mathml = convert(tex, display=display)
    head, _, rest = mathml.partition(">")
    inner = rest.removesuffix("</math>")
    annotation = (f'<annotation encoding="application/x-tex" data-search-exclude="1">'
                  f"{html.escape(tex)}</annotation>")
    return f"{head}><semantics><mrow>{inner}</mrow>{annotation}</semantics></math>"


def render(page_html: str, where: str) -> str:
    """Replace every arithmatex span and div in `page_html` by MathML; `where` names the page."""

    def replacer(display: str, tag: str):
        def replace(match: re.Match) -> str:
            tex = html.unescape(match.group(1)).strip()
            try:
                mathml = tex_to_mathml(tex, display)
            except Exception as error:  # latex2mathml raises many types for bad TeX
                message = f"{where}: cannot render the math {tex!r}: {error}"
                raise FieldGuideError(message) from error
            if tag == "div":  # display math may scroll sideways: the keyboard must reach it
                return f'<div class="fg-math" tabindex="0">{mathml}</div>'
            return f'<{tag} class="fg-math">{mathml}</{tag}>'

        return replace

    page_html = _BLOCK.sub(replacer("block", "div"), page_html)
    return _INLINE.sub(replacer("inline", "span"), page_html)
