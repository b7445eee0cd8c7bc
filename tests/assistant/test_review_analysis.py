"""What a review finds without the model, on the change's lines only (review/analysis.py),
in real git repositories: ruff's correctness rules run isolated, and attributes that do
not exist. The cases are of the kinds real bug fixes undo: a misspelt attribute of a
standard module or of a string, a name nothing defines, a repository module's function
called by a name it does not have."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx.assistant.review import change as changes
from codectx.assistant.review.analysis import analysis_findings, repository_files
from codectx.assistant.review.findings import Finding
from codectx.assistant.review.precommit import without_model
from codectx.assistant.review.report import review_sarif
from codectx.cli import main
from tests.conftest import make_repo, stage
from tests.support.fake import FakeBackend

UTILS = '''import copy
import os
from pkg import helpers


def clone(items):
    return copy.deepcopy(items)


def joined(items):
    return ", ".join(items)


def where(name):
    return os.path.join(helpers.base(), name)
'''
HELPERS = "def base():\n    return '/srv'\n"
FILES = {"pkg/__init__.py": "", "pkg/helpers.py": HELPERS, "pkg/utils.py": UTILS}


def staged(root: Path, path: str, text: str) -> changes.Change:
    stage(root, {path: text})
    return changes.staged(root)


def found(root: Path, change: changes.Change) -> tuple[list[Finding], list[str]]:
    paths, read = repository_files(root, change)
    return analysis_findings(root, change, paths, read)


def lines(findings: list[Finding]) -> list[tuple[int | None, str, str]]:
    return [(f.line, f.found_by, f.message) for f in findings]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("copy.deepcopy(items)", "copy.deepcpoy(items)",
     [(7, "attributes", "module copy (the standard library's copy) has no attribute "
                        "`deepcpoy`")]),
    ('", ".join(items)', '", ".jion(items)', [(11, "attributes", "str has no attribute `jion`")]),
    ("helpers.base()", "helpers.basename()",
     [(15, "attributes", "module pkg.helpers (pkg/helpers.py) has no attribute `basename`")]),
    ("os.path.join(helpers.base(), name)", "os.path.join(helpers.base(), nmae)",
     [(15, "ruff F821", "Undefined name `nmae` (F821)")]),
    ("return copy.deepcopy(items)", "result = copy.deepcopy(items)\n    return items",
     [(7, "ruff F841", "Local variable `result` is assigned to but never used (F841)")]),
    # Harmless: a rename, another standard function, a method str has.
    ("copy.deepcopy(items)", "copy.copy(items)", []),
    ('", ".join(items)', '"; ".join(items).strip()', []),
])
def test_what_the_change_adds_is_found_on_its_line(tmp_path: Path, old: str, new: str,
                                                   expected: list[tuple[int, str, str]]) -> None:
    make_repo(tmp_path / "r", FILES)
    change = staged(tmp_path / "r", "pkg/utils.py", UTILS.replace(old, new))
    findings, notes = found(tmp_path / "r", change)
    assert lines(findings) == expected and notes == []
    assert all(f.severity == ("warning" if "F841" in f.found_by else "error")
               for f in findings)


def test_what_the_file_had_before_is_not_the_change_s(tmp_path: Path) -> None:
    broken = UTILS.replace("copy.deepcopy(items)", "copy.deepcopy(itmes)")
    make_repo(tmp_path / "r", {**FILES, "pkg/utils.py": broken})
    change = staged(tmp_path / "r", "pkg/utils.py", broken + "\n\ndef more():\n    return 1\n")
    assert found(tmp_path / "r", change) == ([], [])


def test_a_standard_module_is_read_never_imported(tmp_path: Path) -> None:
    """`antigravity` opens a browser when imported: its source is read instead."""
    make_repo(tmp_path / "r", FILES)
    change = staged(tmp_path / "r", "pkg/fly.py", "import antigravity\n\nantigravity.fly()\n")
    imported = "antigravity" in sys.modules
    findings, _ = found(tmp_path / "r", change)
    assert [f.message for f in findings] == [
        "module antigravity (the standard library's antigravity) has no attribute `fly`"]
    assert ("antigravity" in sys.modules) == imported


def test_a_repository_config_does_not_choose_the_rules(tmp_path: Path) -> None:
    """A ruff.toml that ignores every rule, or reads a file outside, changes nothing."""
    outside = tmp_path / "outside.toml"
    outside.write_text("[lint]\nignore = ['F']\n")
    make_repo(tmp_path / "r", {**FILES, "ruff.toml": f"extend = '{outside}'\n[lint]\n"
                                                      "ignore = ['F821', 'F841']\n"})
    change = staged(tmp_path / "r", "pkg/utils.py", UTILS.replace("items)", "itmes)", 1))
    assert [f.found_by for f in found(tmp_path / "r", change)[0]] == ["ruff F821"]


def test_the_hook_reports_analysis_findings_without_a_model(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    change = staged(tmp_path / "r", "pkg/utils.py", UTILS.replace("deepcopy", "deepcpoy"))
    review = without_model(tmp_path / "r", change, "no model here")
    assert review is not None and review.answer is None
    assert [(f.path, f.line, f.found_by) for f in review.findings] == [
        ("pkg/utils.py", 7, "attributes")]
    assert review.notes == ("the model's review was skipped: no model here",)
    sarif = review_sarif(review.findings, review.notes)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "codectx-attributes"
    assert "codectx-attributes" in {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}


def test_the_review_command_shows_what_found_each_finding(tmp_path: Path,
                                                          scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", FILES)
    scripted.replies.extend(["no findings"] * 2)  # the model saw nothing; analysis did
    staged(tmp_path / "r", "pkg/utils.py", UTILS.replace("deepcopy", "deepcpoy"))
    result = CliRunner().invoke(main, ["review", str(tmp_path / "r"), "--staged",
                                       "--format", "json"])
    report = json.loads(result.stdout)
    assert [(f["line"], f["found_by"]) for f in report["findings"]] == [(7, "attributes")]
    text = CliRunner().invoke(main, ["review", str(tmp_path / "r"), "--staged"]).stdout
    assert "`deepcpoy` (found by attributes)" in text  # after the message


def test_a_package_s_submodules_are_its_attributes(tmp_path: Path) -> None:
    """`http.cookies` (the standard library's) and `pkg.helpers` (the repository's) are
    submodules, named nowhere in their package's text (a real false alarm, before)."""
    make_repo(tmp_path / "r", FILES)
    text = ("import http.cookies\n\nimport pkg\n\n\ndef jar():\n"
            "    return http.cookies.SimpleCookie(), pkg.helpers.base(), pkg.nothing\n")
    change = staged(tmp_path / "r", "pkg/jar.py", text)
    assert [f.message for f in found(tmp_path / "r", change)[0]] == [
        "module pkg (pkg/__init__.py) has no attribute `nothing`"]
