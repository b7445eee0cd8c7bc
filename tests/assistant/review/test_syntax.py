"""Parse errors a change brings in, found without the model, in real repositories."""

from __future__ import annotations

import os
from pathlib import Path

from codectx import config
from codectx.assistant import reviewing
from codectx.assistant.review import change as changes
from codectx.assistant.review.findings import Finding
from codectx.assistant.review.syntax import syntax_findings
from codectx.assistant.session import Review, Session
from tests.conftest import commit, make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

APP = "import os\n\n\ndef join(x):\n    return os.path.join(x, 'a')\n\n\ndef one():\n    return 1\n"
BROKEN = APP.replace("'a')", "'a'")  # line 5 loses its closing parenthesis
# A file the grammar cannot read as a whole: its first line never parsed.
TEMPLATE = "{% if x %}\n" + APP


def where(found: list[Finding]) -> list[tuple[str | None, int | None, str]]:
    return [(f.path, f.line, f.severity) for f in found]


def test_a_staged_file_that_no_longer_parses_is_an_error_at_its_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP, "notes.txt": "a\n"})
    root = tmp_path / "r"
    (root / "app.py").write_text(BROKEN)
    (root / "notes.txt").write_text("a (\n")  # no grammar: never parsed
    repo.index.add(["app.py", "notes.txt"])
    (root / "app.py").write_text(APP)  # mended in the work tree, still broken as staged
    found = syntax_findings(root, changes.staged(root))
    assert where(found) == [("app.py", 5, "error")]
    assert "no longer parses" in found[0].message
    assert syntax_findings(root, changes.worktree(root)) == []  # the work tree parses


def test_work_tree_changes_and_new_untracked_files(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP, "ok.py": "X = 1\n"})
    root = tmp_path / "r"
    (root / "app.py").write_text(APP.replace("def one():", "def one()"))
    (root / "ok.py").write_text("X = 2\n")
    (root / "new.py").write_text("def f(:\n    pass\n")
    found = syntax_findings(root, changes.worktree(root))
    # A new file that does not parse may be a template: a warning, not an error.
    assert where(found) == [("app.py", 8, "error"), ("new.py", 1, "warning")]
    assert "new file does not parse" in found[1].message


def test_a_file_that_never_parsed_is_judged_where_the_change_wrote(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"page.py": TEMPLATE})
    root = tmp_path / "r"
    (root / "page.py").write_text(TEMPLATE.replace("return 1", "return 2"))
    assert syntax_findings(root, changes.worktree(root)) == []
    (root / "page.py").write_text(TEMPLATE.replace("return 1", "return (1"))
    assert where(syntax_findings(root, changes.worktree(root))) == [("page.py", 10, "warning")]


def test_a_range_is_read_from_its_commits_and_whole_files_from_disk(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP})
    root = tmp_path / "r"
    first = repo.head.commit.hexsha
    commit(repo, {"app.py": BROKEN})
    broke = repo.head.commit.hexsha
    commit(repo, {"app.py": APP})
    assert where(syntax_findings(root, changes.revision_range(root, f"{first}..{broke}"))) == [
        ("app.py", 5, "error")]
    assert syntax_findings(root, changes.revision_range(root, f"{broke}..")) == []  # mended
    (root / "app.py").write_text(BROKEN)
    whole = syntax_findings(root, changes.whole_files(root, ["app.py"]))
    assert where(whole) == [("app.py", 5, "warning")]  # no earlier version to compare
    assert whole[0].message.startswith("the file does not parse here")  # not a new file


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def broken(:\n")
    repo = make_repo(tmp_path / "r", {"app.py": APP})
    root = tmp_path / "r"
    os.symlink(outside, root / "link.py")
    assert syntax_findings(root, changes.worktree(root)) == []  # untracked, a link out
    repo.index.add(["link.py"])
    assert syntax_findings(root, changes.staged(root)) == []  # staged as the path it holds


def test_the_review_reports_them_before_the_models_findings(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP})
    root = tmp_path / "r"
    (root / "app.py").write_text(BROKEN)
    repo.index.add(["app.py"])
    backend = FakeBackend(["app.py:5: warning: a path joined to a constant"])
    session = Session(root, config.load(root), ScriptedProvider(backend))
    items = list(reviewing.review(session, changes.staged(root)))
    review = items[-1]
    assert isinstance(review, Review)
    assert where(review.findings) == [("app.py", 5, "error"), ("app.py", 5, "warning")]
    no_reply = FakeBackend(["no findings"])
    items = list(reviewing.review(Session(root, config.load(root), ScriptedProvider(no_reply)),
                                  changes.staged(root)))
    assert isinstance(items[-1], Review)
    assert where(items[-1].findings) == [("app.py", 5, "error")]  # the model saw none


def test_sarif_names_the_parse_check_as_its_own_rule(tmp_path: Path) -> None:
    from sarif_pydantic import Sarif

    from codectx.assistant.review.report import review_sarif

    make_repo(tmp_path / "r", {"app.py": APP})
    (tmp_path / "r" / "app.py").write_text(BROKEN)
    found = syntax_findings(tmp_path / "r", changes.worktree(tmp_path / "r"))
    log = Sarif.model_validate(review_sarif(found, ()))
    assert [r.rule_id for r in log.runs[0].results] == ["codectx-parse"]
    assert "codectx-parse" in [rule.id for rule in log.runs[0].tool.driver.rules or []]
