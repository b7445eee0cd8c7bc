"""The model's review by changed definition: which definitions, what it is shown of each
(before and after, callers, tests, the commit's message), and the time it may take."""

from __future__ import annotations

from pathlib import Path

from codectx import config
from codectx.assistant.review import change as changes
from codectx.assistant.review.change import ChangedFile, Hunk, Line
from codectx.assistant.review.definitions import changed_definitions, uses
from codectx.assistant.session import Session
from tests.conftest import commit, make_repo, reviewed, stage
from tests.support.fake import FakeBackend, ScriptedProvider

APP = '''\
def total(xs):
    return sum(xs)


def mean(xs):
    return total(xs) / len(xs)
'''
REPORT = "from app import total\n\n\ndef line(xs):\n    return f'{total(xs)} in all'\n"
TESTS = "from app import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n"


def asked(backend: FakeBackend) -> list[str]:
    """The request of each turn that asked the model something (not the prefill alone)."""
    return [bytes(p.suffix).decode() for p, params in zip(backend.prompts, backend.params,
                                                          strict=True) if params.max_tokens]


def staged_repo(tmp_path: Path, after: str) -> Path:
    make_repo(tmp_path / "r", {"app.py": APP, "report.py": REPORT,
                               "tests/test_app.py": TESTS}).close()
    stage(tmp_path / "r", {"app.py": after})
    return tmp_path / "r"


def test_each_changed_definition_is_asked_about_with_its_callers_and_tests(
        tmp_path: Path) -> None:
    root = staged_repo(tmp_path, APP.replace("sum(xs)", "sum(xs) + 1").replace(
        "/ len(xs)", "/ max(len(xs), 1)"))
    backend = FakeBackend(["It adds one to every total.\napp.py:2: error: the total is off by one",
                           "It no longer divides by zero. no findings"])
    result = reviewed(Session(root, config.load(root), ScriptedProvider(backend)),
                    changes.staged(root))
    first, second = asked(backend)
    assert "`total` in app.py." in first and "`mean`" not in first
    assert "-2   |    return sum(xs)\n+2   |    return sum(xs) + 1" in first
    assert ("Called from:\n  app.py:6: return total(xs) / max(len(xs), 1)\n"
            "  report.py:5: return f'{total(xs)} in all'\n") in first
    assert ("Tested by:\n  tests/test_app.py: test_total\n"
            "```\ndef test_total():\n    assert total([1, 2]) == 3\n```") in first
    assert "`mean` in app.py." in second and "Tested by" not in second
    assert [(f.path, f.line, f.severity, f.found_by) for f in result.findings] == [
        ("app.py", 2, "error", "model")]
    assert result.answer is not None
    assert result.answer.text.startswith("app.py: total\nIt adds one")
    assert "app.py: mean\nIt no longer" in result.answer.text
    assert not any("could not be read" in n for n in result.notes)


def test_a_new_definition_is_said_to_be_new_and_a_range_brings_its_message(
        tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP})
    root = tmp_path / "r"
    first = repo.head.commit.hexsha
    commit(repo, {"app.py": APP + "\n\ndef spread(xs):\n    return max(xs) - min(xs)\n"},
           "Add spread, the range of the values\n\nCloses #12.")
    backend = FakeBackend(["no findings"])
    reviewed(Session(root, config.load(root), ScriptedProvider(backend)),
           changes.revision_range(root, f"{first}..HEAD"))
    (request,) = asked(backend)
    assert "`spread` in app.py (new)." in request
    assert "The commit says: Add spread, the range of the values\nCloses #12." in request


def test_definitions_past_review_seconds_are_named_not_reviewed(tmp_path: Path) -> None:
    root = staged_repo(tmp_path, APP.replace("sum(xs)", "sum(xs) + 1").replace(
        "/ len(xs)", "/ max(len(xs), 1)"))
    (root / ".codectx.toml").write_text("review_seconds = 0.000001\n")
    backend = FakeBackend(["no findings", "no findings"])
    result = reviewed(Session(root, config.load(root), ScriptedProvider(backend)),
                    changes.staged(root))
    assert len(asked(backend)) == 1  # the first always runs
    assert any(n.startswith("not reviewed by the model: app.py: mean (review_seconds")
               for n in result.notes)
    unlimited = FakeBackend(["no findings", "no findings"])
    (root / ".codectx.toml").write_text("review_seconds = 0\n")
    reviewed(Session(root, config.load(root), ScriptedProvider(unlimited)), changes.staged(root))
    assert len(asked(unlimited)) == 2


def test_a_change_outside_any_definition_is_reviewed_whole(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP, "setup.cfg": "[metadata]\nname = a\n"})
    root = tmp_path / "r"
    (root / "setup.cfg").write_text("[metadata]\nname = b\n")
    repo.index.add(["setup.cfg"])
    backend = FakeBackend(["setup.cfg:2: warning: renamed"])
    result = reviewed(Session(root, config.load(root), ScriptedProvider(backend)),
                    changes.staged(root))
    (request,) = asked(backend)
    assert "+2|name = b" in request
    assert [(f.path, f.line) for f in result.findings] == [("setup.cfg", 2)]


def test_an_unreadable_reply_is_one_note_naming_the_definition(tmp_path: Path) -> None:
    root = staged_repo(tmp_path, APP.replace("sum(xs)", "sum(xs) + 1"))
    backend = FakeBackend(["It adds one."])
    result = reviewed(Session(root, config.load(root), ScriptedProvider(backend)),
                    changes.staged(root))
    assert result.findings == []
    assert "the model's reply on total could not be read as findings" in result.notes


def _file(path: str, hunks: list[Hunk]) -> ChangedFile:
    return ChangedFile(path, "modified", hunks)


def test_a_long_class_is_reviewed_by_member_and_a_short_one_whole() -> None:
    methods = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(20))
    before = f"class Big:\n{methods}\nclass Small:\n    def a(self):\n        return 'a'\n"
    after = before.replace("return 7", "return 70").replace("'a'", "'b'")
    lines = after.splitlines()
    seven, small = lines.index("        return 70") + 1, lines.index("        return 'b'") + 1
    hunks = [Hunk(seven, [Line("-", None, "        return 7"),
                          Line("+", seven, "        return 70")]),
             Hunk(small, [Line("-", None, "        return 'a'"),
                          Line("+", small, "        return 'b'")])]
    found = changed_definitions([(_file("shapes.py", hunks), before, after)])
    assert [(d.name, d.lines, d.new) for d in found] == [("Big.m7", (seven,), False),
                                                         ("Small", (small,), False)]
    assert found[0].shown.splitlines()[0].endswith("|    def m7(self):")


def test_other_languages_and_files_without_a_grammar() -> None:
    before = "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\nfn one() -> i32 { 1 }\n"
    after = before.replace("a + b", "a - b")
    hunk = Hunk(2, [Line("-", None, "    a + b"), Line("+", 2, "    a - b")])
    (rust,) = changed_definitions([(_file("src/lib.rs", [hunk]), before, after)])
    assert (rust.name, rust.first, rust.last) == ("add", 1, 3)
    assert changed_definitions([(_file("notes.txt", [hunk]), before, after)]) == []


def test_callers_and_tests_are_found_in_the_repository_and_never_in_the_definition() -> None:
    files = {"app.py": APP, "report.py": REPORT, "tests/test_app.py": TESTS,
             "README.md": "total(xs) adds them\n"}
    hunk = Hunk(2, [Line("-", None, "    return sum(xs)"), Line("+", 2, "    return 0")])
    found = changed_definitions([(_file("app.py", [hunk]), APP, APP.replace("sum(xs)", "0"))])
    used = uses(found, files, files.get)
    assert used["total"].callers == ("app.py:6: return total(xs) / len(xs)",
                                     "report.py:5: return f'{total(xs)} in all'")
    assert used["total"].tests == ("tests/test_app.py: test_total",)
    assert used["total"].test_bodies == ("def test_total():\n    assert total([1, 2]) == 3",)


def test_the_tests_shown_are_those_named_after_the_definition_then_the_busiest() -> None:
    many = "".join(f"def test_other_{i}():\n    assert total([{i}])\n\n\n" for i in range(4))
    busy = "def test_sums():\n    assert total([1]) == 1\n    assert total([]) == 0\n    x = 1\n"
    files = {"app.py": APP, "tests/test_a.py": many + busy,
             "tests/test_z.py": "def test_total_of_nothing():\n    assert total([]) == 0\n"}
    hunk = Hunk(2, [Line("-", None, "    return sum(xs)"), Line("+", 2, "    return 0")])
    found = changed_definitions([(_file("app.py", [hunk]), APP, APP.replace("sum(xs)", "0"))])
    used = uses(found, files, files.get)["total"]
    assert used.tests == ("tests/test_z.py: test_total_of_nothing",
                          "tests/test_a.py: test_sums", "tests/test_a.py: test_other_0")
    assert used.test_bodies[1] == busy.rstrip()  # the whole function, up to the next
