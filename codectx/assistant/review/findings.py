"""The review's request to the model, and its reply read back as findings.

The model is asked for one finding per line, in a strict shape:

    PATH:LINE: SEVERITY: MESSAGE

where PATH is a file of the change as shown, LINE a line number shown
before `|` in the change, and SEVERITY one of error, warning, note. A change
with nothing to report is answered with `no findings`. The full description
of that shape is in the instructions at the start of every prompt
(assistant/prompts.py), inside the cached prefix, so a review's own request
is short: the few tokens after the cached repository are what a warm review
pays for. The reader forgives
what small models do around that shape (list bullets, backticks, bold,
prose around the lines, a JSON array instead, a line without its path, as a
compiler prints one: `LINE[:COL]: SEVERITY: MESSAGE`, taken to be about the only
file with that line changed), and then holds every finding
to the change: one whose path is not a changed file, or whose line was not
changed, is dropped and counted. A reply with no finding and no "no
findings" becomes one note saying the reply could not be read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from codectx.assistant.review.change import Change, ChangedFile

if TYPE_CHECKING:
    from codectx.assistant.review.definitions import Definition, Uses

Severity = Literal["error", "warning", "note"]
SEVERITIES: tuple[Severity, ...] = ("note", "warning", "error")  # in rising order
MAX_CHANGE_CHARS = 40_000  # about 10,000 tokens of change; the rest is named, not shown

REVIEW_REQUEST = """\
Review {description} below, with the repository in mind (a wrong call, callers not \
updated). Answer with lines PATH:LINE: SEVERITY: MESSAGE, or exactly: no findings

{change}"""


@dataclass(frozen=True)
class Finding:
    path: str | None  # None for a note about the review itself
    line: int | None
    severity: Severity
    message: str
    found_by: str = "model"
    """The model's reply, or what found it without the model: "parser" (review/syntax.py),
    an analyzer and its rule ("ruff F821", "attributes": review/analysis.py)."""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "severity": self.severity,
                "message": self.message, "found_by": self.found_by}


@dataclass(frozen=True)
class Findings:
    findings: list[Finding]
    dropped: list[tuple[Finding, str]]
    """Findings the reply held that are not about the change, and why."""


def reaches(severity: Severity, fail_on: str) -> bool:
    """Whether a finding of `severity` fails the review at the `fail_on` level."""
    return fail_on != "never" and SEVERITIES.index(severity) >= SEVERITIES.index(
        fail_on)


# -- the request ------------------------------------------------------------------------

def render_change(change: Change, max_chars: int = MAX_CHANGE_CHARS) -> tuple[str, list[str]]:
    """The change as the model reads it, numbered by the new version's lines; and notes."""
    parts: list[str] = []
    left_out: list[str] = []
    used = 0
    for changed in change.reviewable:
        block = _render_file(changed)
        if used + len(block) > max_chars and parts:
            left_out.append(changed.path)
            continue
        parts.append(block)
        used += len(block)
    notes = []
    if left_out:
        more = ", ..." if len(left_out) > 5 else ""
        notes.append(f"the change is too large to review at once: {len(left_out)} file(s) were "
                     f"not reviewed ({', '.join(left_out[:5])}{more}); review them as whole files, "
                     "a few at a time")
    skipped = [f"{f.path} ({f.status})" for f in change.files if f.status in ("binary", "deleted")]
    if skipped:
        notes.append(f"not reviewed: {', '.join(skipped)}")
    return "\n".join(parts), notes


def _render_file(changed: ChangedFile) -> str:
    title = changed.status if changed.old_path is None else f"renamed from {changed.old_path}"
    out = [f"=== {changed.path} ({title}) ==="]
    for i, hunk in enumerate(changed.hunks):
        if i:
            out.append("...")
        for line in hunk.lines:
            number = "" if line.number is None else str(line.number)
            out.append(f"{line.kind}{number}|{line.text}")
    return "\n".join(out) + "\n"


def review_request(change: Change, rendered: str) -> str:
    return REVIEW_REQUEST.format(description=change.description, change=rendered)


REVIEW_DEFINITION = """\
Review one changed definition of {description}: `{name}` in {path}{new}.{message}
Each line: + added, - removed, then its line number in {path} as changed (a removed \
line: the number of the line after it).

{shown}
{uses}
First say in one sentence what the change makes `{name}` do differently. Then, if that is \
a bug (it breaks what its callers, its tests or its name expect), write it as \
{path}:LINE: SEVERITY: MESSAGE on a changed line; if it is not, write: no findings"""


def definition_request(change: Change, definition: Definition, uses: Uses | None) -> str:
    """The request for one changed definition: it as changed, what calls and tests it,
    and the change's commit message when there is one."""
    said = []
    if uses is not None and uses.callers:
        said += ["Called from:", *(f"  {c}" for c in uses.callers)]
    if uses is not None and uses.tests:
        said += ["Tested by:", *(f"  {t}" for t in uses.tests)]
        said += [f"```\n{body}\n```" for body in uses.test_bodies]
    message = f"\nThe commit says: {change.message}" if change.message else ""
    return REVIEW_DEFINITION.format(
        description=change.description, name=definition.name, path=definition.path,
        new=" (new)" if definition.new else "", message=message, shown=definition.shown,
        uses="\n" + "\n".join(said) + "\n" if said else "")


# -- the reply --------------------------------------------------------------------------

_BULLET = r"^\s*(?:[-*+•]|\d+[.)])?\s*"  # a list bullet or number
_SEVERITY_MESSAGE = r"""[`*_\[(]*(?P<severity>error|warning|warn|note|info)[`*_\])]*
    \s*[:\-\u2013]\s*(?P<message>\S.*)$"""
_LINE = re.compile(
    _BULLET + r"""[`*_\[]*(?P<path>[^\s:`*\[\]]+?)[`*_\]]*  # the path, maybe in backticks or bold
        \s*:\s*(?:line\s*)?(?P<line>\d+)(?:\s*[-\u2013]\s*\d+)?[`*_]*  # :LINE (or a range)
        \s*:?\s*[-\u2013]?\s*""" + _SEVERITY_MESSAGE,
    re.IGNORECASE | re.VERBOSE,
)
_BARE = re.compile(
    _BULLET + r"""[`*_]*(?:line\s*)?(?P<line>\d+)(?::\d+)?[`*_]*\s*:\s*  # LINE[:COL]:
        """ + _SEVERITY_MESSAGE,
    re.IGNORECASE | re.VERBOSE,
)
"""A finding without its path, as compilers print one: `LINE: SEVERITY: MESSAGE`."""
_NOTHING = re.compile(r"\b(no findings|no (?:problems|issues)( found)?|lgtm|looks good)\b",
                      re.IGNORECASE)
_SEVERITY: dict[str, Severity] = {"error": "error", "warning": "warning", "warn": "warning",
                                  "note": "note", "info": "note"}


def parse_findings(reply: str, change: Change) -> Findings:
    """Findings from the model's reply, each checked against the change."""
    candidates = _from_lines(reply, change) or _from_json(reply)
    if not candidates:
        if _NOTHING.search(reply):
            return Findings([], [])
        excerpt = " ".join(reply.split())[:200]
        message = ("the model's reply could not be read as findings"
                   + (f": {excerpt!r}" if excerpt else " (the reply was empty)"))
        return Findings([Finding(None, None, "note", message)], [])
    kept: list[Finding] = []
    dropped: list[tuple[Finding, str]] = []
    for finding in candidates:
        problem = ("it names no file, and its line is not changed in exactly one file"
                   if finding.path is None else _off_change(finding, change))
        if problem:
            dropped.append((finding, problem))
        elif finding not in kept:
            kept.append(finding)
    return Findings(kept, dropped)


def _normal_path(path: str) -> str:
    path = path.strip().strip("`'\"")
    for prefix in ("./", "a/", "b/"):
        if path.startswith(prefix):
            path = path[len(prefix):]
    return path


_SAYS_NOTHING = re.compile(
    r"^(?:(?:there (?:is|are) )?no (?:findings?|issues?|problems?|bugs?|errors?|changes? "
    r"needed)|(?:this |it |the change )?(?:looks|is|seems) (?:good|fine|correct|ok(?:ay)?)"
    r"|lgtm|ok(?:ay)?|none|n/?a|correct|fine|nothing(?: to report)?)\b[\s.!]*$",
    re.IGNORECASE)
"""A finding's message that says nothing is wrong: `app.py:5: note: no issues`."""


def _off_change(finding: Finding, change: Change) -> str | None:
    assert finding.path is not None and finding.line is not None
    if _SAYS_NOTHING.match(finding.message.strip()):
        return "it does not say what is wrong"
    changed = change.file(finding.path)
    if changed is None:
        return f"{finding.path} is not a file of the change"
    if finding.line not in changed.changed:
        return f"line {finding.line} of {finding.path} is not a changed line"
    return None


def _from_lines(reply: str, change: Change) -> list[Finding]:
    found = []
    for raw in reply.splitlines():
        match = _BARE.match(raw)  # first: `10:5: error` is not path 10, line 5
        if match is not None:
            path = _implied_path(int(match["line"]), change)
        else:
            match = _LINE.match(raw)
            if match is None:
                continue
            path = _normal_path(match["path"])
        message = match["message"].strip().strip("`*_").strip()
        found.append(Finding(path, int(match["line"]), _SEVERITY[match["severity"].lower()],
                             message))
    return found


def _implied_path(line: int, change: Change) -> str | None:
    """The file a finding without a path is about: the only one with `line` changed, or the
    only file reviewed (None when that is not one file)."""
    changed = [f.path for f in change.reviewable if line in f.changed]
    if len(changed) == 1:
        return changed[0]
    files = [f.path for f in change.reviewable]
    return files[0] if len(files) == 1 else None


def _from_json(reply: str) -> list[Finding]:
    start = min((i for i in (reply.find("["), reply.find("{")) if i >= 0), default=-1)
    if start < 0:
        return []
    try:
        data, _ = json.JSONDecoder().raw_decode(reply[start:])
    except ValueError:
        return []
    if isinstance(data, dict):
        data = data.get("findings", [data])
    found = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        path = item.get("path") or item.get("file")
        line = item.get("line")
        severity = _SEVERITY.get(str(item.get("severity", "note")).lower())
        message = item.get("message") or item.get("description")
        if isinstance(path, str) and isinstance(line, int | str) and str(line).isdigit() \
                and severity and isinstance(message, str) and message.strip():
            found.append(Finding(_normal_path(path), int(line), severity, message.strip()))
    return found
