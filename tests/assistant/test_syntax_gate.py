"""The syntax gate: a change that leaves a file unparseable is refused, with its line, in
every language with a grammar, and the retry names the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits.plan import FileChange
from codectx.assistant.edits.syntax import problem
from codectx.assistant.session import EditProposal, Session
from codectx.indexer.languages import GRAMMARS, language_of
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

# For each language with a grammar: a file, and three broken versions of it (a missing
# parenthesis, an unterminated string, a definition cut off mid-body), each with the
# line (1-based) where the gate must find the error, or after which it must.
CASES: dict[str, tuple[str, str, list[tuple[str, int]]]] = {
    "python": ("m.py", "def f(a):\n    return g(a)\n\n\ndef h():\n    return 1\n", [
        ("def f(a):\n    return g(a\n\n\ndef h():\n    return 1\n", 2),
        ("def f(a):\n    return 'abc\n\n\ndef h():\n    return 1\n", 2),
        ("def f(a):\n    return g(a)\n\n\ndef h(:\n", 5),
    ]),
    "javascript": ("m.js", "function f(a) {\n  return g(a);\n}\n", [
        ("function f(a) {\n  return g(a;\n}\n", 2),
        ("function f(a) {\n  return 'abc;\n}\n", 2),
        ("function f(a) {\n  return g(a);\n", 1),
    ]),
    "typescript": ("m.ts", "function f(a: number): number {\n  return g(a);\n}\n", [
        ("function f(a: number): number {\n  return g(a;\n}\n", 2),
        ("function f(a: number): number {\n  return 'abc;\n}\n", 2),
        ("function f(a: number): number {\n  return g(a);\n", 1),
    ]),
    "tsx": ("m.tsx", "function f(a: number) {\n  return g(a);\n}\n", [
        ("function f(a: number) {\n  return g(a;\n}\n", 2),
        ("function f(a: number) {\n  return 'abc;\n}\n", 2),
        ("function f(a: number) {\n  return g(a);\n", 1),
    ]),
    "go": ("m.go", "package m\n\nfunc F(a int) int {\n\treturn g(a)\n}\n", [
        ("package m\n\nfunc F(a int) int {\n\treturn g(a\n}\n", 4),
        ("package m\n\nfunc F(a int) string {\n\treturn \"abc\n}\n", 4),
        ("package m\n\nfunc F(a int) int {\n\treturn g(a)\n", 3),
    ]),
    "rust": ("m.rs", "fn f(a: u64) -> u64 {\n    g(a)\n}\n", [
        ("fn f(a: u64) -> u64 {\n    g(a\n}\n", 2),
        ("fn f(a: u64) -> &'static str {\n    \"abc\n}\n", 2),
        ("fn f(a: u64) -> u64 {\n    g(a)\n", 1),
    ]),
    "java": ("M.java", "class M {\n  int f(int a) {\n    return g(a);\n  }\n}\n", [
        ("class M {\n  int f(int a) {\n    return g(a;\n  }\n}\n", 3),
        ("class M {\n  String f(int a) {\n    return \"abc;\n  }\n}\n", 3),
        ("class M {\n  int f(int a) {\n    return g(a);\n", 1),
    ]),
    "c": ("m.c", "int f(int a) {\n  return g(a);\n}\n", [
        ("int f(int a) {\n  return g(a;\n}\n", 2),
        ("char *f(int a) {\n  return \"abc;\n}\n", 2),
        ("int f(int a) {\n  return g(a);\n", 1),
    ]),
    "cpp": ("m.cpp", "int f(int a) {\n  return g(a);\n}\n", [
        ("int f(int a) {\n  return g(a;\n}\n", 2),
        ("const char *f(int a) {\n  return \"abc;\n}\n", 2),
        ("int f(int a) {\n  return g(a);\n", 1),
    ]),
}


def test_every_language_with_a_grammar_has_cases() -> None:
    assert set(CASES) == set(GRAMMARS)
    for language, (path, _, _) in CASES.items():
        assert language_of(path) == language


def whole(path: str, text: str) -> str:
    return f"{path}\n```\n{text}```\n"


@pytest.mark.parametrize(("language", "case"),
                         [(lang, i) for lang in CASES for i in range(3)])
def test_a_broken_reply_is_refused_with_its_line_and_the_retry_names_it(
        tmp_path: Path, language: str, case: int) -> None:
    path, original, broken = CASES[language]
    bad, line = broken[case]
    root = tmp_path / "r"
    make_repo(root, {path: original})
    backend = FakeBackend([whole(path, bad), whole(path, bad)])
    session = Session(root, config.load(root), ScriptedProvider(backend))
    *_, proposal = editing.edit(session, f"change f in {path}", files=[path], fmt="whole",
                                check=False, candidates=1)
    assert isinstance(proposal, EditProposal)
    assert not proposal.plan.ok and proposal.attempts == 2
    (refusal,) = proposal.problems
    assert refusal.startswith(f"{path}: the changed file does not parse at line ")
    found = int(refusal.split(" at line ")[1].split(" ")[0])
    assert line <= found <= line + 2, refusal
    assert (root / path).read_text() == original  # nothing written
    retry = bytes(backend.prompts[1].suffix).decode()
    assert refusal in retry


def test_a_file_that_did_not_parse_before_is_judged_on_the_changed_lines_only() -> None:
    before = "def f(:\n    pass\n\n\ndef g():\n    return 1\n"
    fine = FileChange("m.py", "modify", before, before.replace("return 1", "return 2"))
    assert problem(fine) is None
    broken = FileChange("m.py", "modify", before, before.replace("return 1", "return (2"))
    found = problem(broken)
    assert found is not None and found.line == 6 and "return (2" in found.text


def test_a_good_change_passes_the_gate() -> None:
    before = "def f(a):\n    return a\n"
    assert problem(FileChange("m.py", "modify", before, before + "\n\ndef g():\n    pass\n"))\
        is None
    assert problem(FileChange("m.py", "create", None, "x = (1,\n")) is not None
    assert problem(FileChange("notes.txt", "modify", "a", "(((")) is None  # no grammar


def test_a_broken_line_in_a_module_that_parsed_is_named_where_the_change_wrote() -> None:
    # tree-sitter's recovery swallows the whole module into one error that begins at the
    # docstring; the change wrote one line, and that line is named.
    before = ('"""A module."""\n\nimport os\n\n\ndef f(a):\n    """Doc\n    string."""\n'
              "    x = g(a)\n\n    def inner(b):\n        return b\n\n    return inner\n")
    after = before.replace("g(a)", "g(a")
    found = problem(FileChange("m.py", "modify", before, after))
    assert found is not None and (found.line, found.text) == (9, "    x = g(a"), found
    # tree-sitter stops on the line after a dropped colon; the change wrote the line above.
    no_colon = FileChange("m.py", "modify", before, before.replace("inner(b):", "inner(b)"))
    assert (found := problem(no_colon)) is not None and found.line == 11, found
    deleted = before.replace("    return inner\n", "")  # a deletion that still parses
    assert problem(FileChange("m.py", "modify", before, deleted)) is None
