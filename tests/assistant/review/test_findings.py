"""Reading the model's review reply back as findings, held to the change."""

from __future__ import annotations

import pytest

from codectx.assistant.review.change import Change, ChangedFile, Hunk, Line
from codectx.assistant.review.findings import (
    Finding,
    parse_findings,
    reaches,
    render_change,
    review_request,
)


def make_change() -> Change:
    app = ChangedFile("src/app.py", "modified", [Hunk(9, [
        Line(" ", 9, "def run():"), Line("-", None, "    return 1"),
        Line("+", 10, "    return 1 / 0"), Line("+", 11, "    print('x')"),
        Line(" ", 12, "")])])
    new = ChangedFile("lib.py", "added", [Hunk(1, [Line("+", 1, "X = 1")])])
    return Change("staged", "index", [app, new, ChangedFile("img.png", "binary")],
                  "the staged changes")


E10 = Finding("src/app.py", 10, "error", "division by zero")
CASES = {
    "well-formed": ("src/app.py:10: error: division by zero", [E10], 0),
    "several, each severity": (
        "src/app.py:10: error: division by zero\nsrc/app.py:11: warning: stray print\n"
        "lib.py:1: note: name X better",
        [E10, Finding("src/app.py", 11, "warning", "stray print"),
         Finding("lib.py", 1, "note", "name X better")], 0),
    "prose-wrapped, bullets, backticks, bold": (
        "Here is my review.\n\n- `src/app.py:10`: **error**: division by zero\n"
        "* **lib.py**:1 - warn - unused constant\n\nHope this helps!",
        [E10, Finding("lib.py", 1, "warning", "unused constant")], 0),
    "a/ b/ and ./ prefixes": ("b/src/app.py:10: error: division by zero\n"
                              "./src/app.py:line 10: ERROR: division by zero", [E10], 0),
    "wrong path": ("src/other.py:10: error: nope\nsrc/app.py:10: error: division by zero",
                   [E10], 1),
    "wrong line (context, not changed)": ("src/app.py:9: error: bad def", [], 1),
    "wrong line (past the end)": ("lib.py:99: warning: far away", [], 1),
    "binary file": ("img.png:1: error: ugly", [], 1),
    "a removal is reported at the line after it": ("src/app.py:10: note: x", [
        Finding("src/app.py", 10, "note", "x")], 0),
    "json array": ('```json\n[{"path": "src/app.py", "line": 10, "severity": "error", '
                   '"message": "division by zero"}]\n```', [E10], 0),
    "json object with findings": ('{"findings": [{"file": "lib.py", "line": "1", '
                                  '"severity": "info", "message": "m"}]}',
                                  [Finding("lib.py", 1, "note", "m")], 0),
    "no findings": ("no findings", [], 0),
    "no findings in prose": ("I looked carefully. No issues found.", [], 0),
    "no path, as a compiler prints it: the only file with that line changed": (
        "10:5: error: division by zero\n- 1: note: name X better",
        [E10, Finding("lib.py", 1, "note", "name X better")], 0),
    "no path, and the line changed in no file": ("12: warning: far", [], 1),
    "a finding that says nothing is wrong is dropped": (
        "src/app.py:10: note: No issues.\nsrc/app.py:11: note: looks good\n"
        "src/app.py:10: error: division by zero", [E10], 2),
    "duplicates are kept once": ("src/app.py:10: error: division by zero\n" * 2, [E10], 0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_replies(name: str) -> None:
    reply, expected, dropped = CASES[name]
    found = parse_findings(reply, make_change())
    assert found.findings == expected
    assert len(found.dropped) == dropped


def test_a_finding_without_a_path_in_a_change_of_one_file_is_about_that_file() -> None:
    change = make_change()
    one = Change(change.kind, change.tree, change.files[:1], change.description)
    found = parse_findings("535:note: off by one\n11: warning: stray print", one)
    assert found.findings == [Finding("src/app.py", 11, "warning", "stray print")]
    assert [(f.path, f.line, reason) for f, reason in found.dropped] == [
        ("src/app.py", 535, "line 535 of src/app.py is not a changed line")]


@pytest.mark.parametrize("reply", ["", "The code changes a return value.", "[not json"])
def test_an_unreadable_reply_is_one_note(reply: str) -> None:
    found = parse_findings(reply, make_change())
    assert len(found.findings) == 1
    only = found.findings[0]
    assert (only.path, only.line, only.severity) == (None, None, "note")
    assert "could not be read" in only.message


def test_fail_on_levels() -> None:
    assert reaches("error", "error") and not reaches("warning", "error")
    assert reaches("warning", "warning") and reaches("error", "warning")
    assert not reaches("note", "warning") and not reaches("error", "never")


def test_the_request_numbers_lines_and_names_files() -> None:
    change = make_change()
    rendered, notes = render_change(change)
    assert "=== src/app.py (modified) ===" in rendered
    assert "+10|    return 1 / 0" in rendered and "-|    return 1" in rendered
    assert "img.png" not in rendered and notes == ["not reviewed: img.png (binary)"]
    request = review_request(change, rendered)
    assert "PATH:LINE: SEVERITY: MESSAGE" in request and "Review the staged changes" in request


def test_a_change_too_large_is_cut_by_whole_files_and_said() -> None:
    change = make_change()
    rendered, notes = render_change(change, max_chars=120)
    assert "src/app.py" in rendered and "lib.py" not in rendered
    assert "1 file(s) were not reviewed (lib.py)" in notes[0]
