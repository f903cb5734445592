"""Untrusted text (study names, optimizer names, anything read from the database) made safe.

Streamlit renders widget labels, ``st.markdown``, ``st.caption``, ``st.error`` and friends as
Markdown; Plotly renders titles, legend names and hover text as (a subset of) HTML. Every string
that did not come from this code goes through :func:`md` before a Markdown element and through
:func:`html_text` before a Plotly figure, or is shown with ``st.code`` / ``st.dataframe``, which
show text as text. Selectbox and multiselect *options* are plain text in Streamlit 1.67 (see
:func:`option`); the browser test checks a hostile study name end to end.
"""

from __future__ import annotations

import html
import math
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")
# Streamlit's Markdown replaces these, standing alone between spaces, with symbols (-- with an
# em dash, -> with an arrow, >= with ≥ ...), escaped or not; not across an emphasis boundary.
_STREAMLIT_SYMBOLS = re.compile(r"(?<!\S)(<->|->|<-|--|>=|<=|~=)(?!\S)")


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("/", "\\/")


def md(value) -> str:
    r"""``value`` as Markdown that displays exactly its characters (one line; a stand-alone
    ``--``, ``->``, ``>=`` … keeps its characters, one of them in italics).

    >>> md("[x](http://evil) <b>")
    '\\[x\\]\\(http\\:\\/\\/evil\\) \\<b\\>'
    >>> md("a -- b")
    'a \\-*\\-* b'
    """
    text = " ".join(str(value).split())            # no line breaks: no headings, lists, tables
    parts = _STREAMLIT_SYMBOLS.split(text)          # odd positions: the symbols
    return "".join(_escape(part) if i % 2 == 0 else _italic_middle(part)
                   for i, part in enumerate(parts))


def _italic_middle(symbol: str) -> str:
    """``symbol`` escaped, its middle character (the second of two) in an emphasis of its own:
    no text node then holds the whole symbol."""
    i = len(symbol) // 2
    return f"{_escape(symbol[:i])}*{_escape(symbol[i])}*{_escape(symbol[i + 1:])}"


def html_text(value) -> str:
    """``value`` HTML-escaped, for Plotly titles, legend names, axis labels and hover text.

    >>> html_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    """
    return html.escape(str(value), quote=True)


def number(value, digits: int = 4) -> str:
    """A metric for display: ``4`` significant digits, ``—`` for missing, ``inf``/``nan`` as such.

    >>> number(0.912345), number(None), number(float("nan"))
    ('0.9123', '—', 'nan')
    """
    if value is None:
        return "—"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(value):
        return "nan"
    return f"{value:.{digits}g}"


def metric_label(metric: str | None, which: str = "validation") -> str:
    """``"validation accuracy"``-style axis label (plain text; escape before display)."""
    return f"{which} {metric or 'value'}"


def option(value) -> str:
    """Text for a ``st.selectbox`` / ``st.multiselect`` option (``format_func``): Streamlit
    shows those options as plain text — escaping them for Markdown would show the backslashes
    (checked in a real browser by tests/test_dashboard_browser.py) — so only line breaks and
    runs of whitespace are collapsed. Widget *labels* are Markdown: use :func:`md` there.

    >>> option("<img src=x>\\n[x](y)")
    '<img src=x> [x](y)'
    """
    return " ".join(str(value).split())
