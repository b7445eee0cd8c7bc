"""Text from a repository or a model, made safe to show on a terminal.

A terminal obeys what it is sent: ESC starts a sequence that can move the cursor and
erase what was printed (a diff line that hides itself), set the window title, or write
the clipboard (OSC 52); C1 controls (U+0080-U+009F, CSI among them) do the same in one
character on some terminals. Rich and Textual strip only BEL, BS, VT, FF and CR, so
everything codectx shows on a terminal that a repository or a model wrote (file names,
code, replies, error messages quoting them) passes through `clean` first. The front
ends apply it where all such text passes (`codectx.cli.console`'s consoles, the TUI's
widgets), not at each call.

Output meant as data (JSON, SARIF, the serialized prompt written to a file) keeps the
text exactly: JSON escapes control characters itself (`json_text` covers the ones it
writes as they are).
"""

from __future__ import annotations

import logging
import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0 controls but tab and newline, DEL, C1 controls, and lone surrogates."""

_SURROGATE = "\ud800"

_JSON_RAW = re.compile(r"[\x7f-\x9f\ud800-\udfff]")
"""What `json.dumps(..., ensure_ascii=False)` leaves as it is but a terminal acts on or
cannot encode."""


def _replaced(match: re.Match[str]) -> str:
    # A lone surrogate stands for a byte that was not UTF-8 (a file name decoded with
    # surrogateescape): written out it would be that raw byte, a C1 control on an 8-bit
    # terminal. It is shown as the replacement character; a control is dropped.
    return "\ufffd" if match.group() >= _SURROGATE else ""


def clean(text: str) -> str:
    """`text` without control characters other than newline and tab: C0 controls (ESC,
    BEL, CR, ...), DEL and C1 controls are removed; a lone surrogate becomes U+FFFD."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_replaced, text)


def json_text(text: str) -> str:
    """JSON text (as `json.dumps` writes it) with DEL, C1 controls and lone surrogates
    written as \\u escapes: the same data, nothing a terminal obeys. `json.dumps` escapes
    C0 controls always, and everything else too unless `ensure_ascii=False`."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class CleanFormatter(logging.Formatter):
    """A log formatter whose records (messages quoting paths, replies, errors) carry no
    control characters, for a log on stderr or in a file that is read on a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record))
