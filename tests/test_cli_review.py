"""`codectx review` from the command line, with a scripted model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sarif_pydantic import Sarif

from codectx.cli import main
from tests.conftest import make_repo
from tests.support.fake import FakeBackend

APP = "def total(xs):\n    return sum(xs)\n"
MEAN = APP + "\ndef mean(xs):\n    return total(xs) / len(xs)\n"
REPLY = ("Findings:\n- app.py:5: error: an empty list divides by zero\n"
         "- app.py:2: warning: not a changed line\n- lib.py:5: note: another file\n")


def review(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["review", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    make_repo(tmp_path / "r", {"app.py": APP})
    (tmp_path / "r" / "app.py").write_text(MEAN)
    return tmp_path / "r"


def test_text_groups_by_file_and_shows_the_code(root: Path, scripted: FakeBackend) -> None:
    scripted.replies.append(REPLY)
    code, out, err = review(str(root))
    assert code == 0  # advisory by default
    assert out.splitlines()[:3] == ["app.py", "     5 │     return total(xs) / len(xs)",
                                    "         error: an empty list divides by zero"]
    assert "1 error in the uncommitted changes" in err
    assert "2 finding(s) left out" in err


def test_json_and_fail_on(root: Path, scripted: FakeBackend) -> None:
    scripted.replies.append(REPLY)
    code, out, _ = review(str(root), "--format", "json", "--fail-on", "error")
    data = json.loads(out)
    assert code == 1 and data["failed"] is True
    assert data["findings"] == [{"path": "app.py", "line": 5, "severity": "error",
                                 "message": "an empty list divides by zero",
                                 "found_by": "model"}]
    assert [d["reason"] for d in data["dropped"]] == [
        "line 2 of app.py is not a changed line", "lib.py is not a file of the change"]
    assert data["reviewed"] == ["app.py"]
    assert data["reply"] == f"app.py: mean\n{REPLY}"  # by changed definition


def test_sarif_is_valid_sarif_2_1_0(root: Path, scripted: FakeBackend) -> None:
    scripted.replies.append(REPLY)
    code, out, _ = review(str(root), "--format", "sarif", "--fail-on", "warning")
    assert code == 1
    raw = json.loads(out)
    assert raw["version"] == "2.1.0" and raw["$schema"].endswith("sarif-2.1.0.json")
    log = Sarif.model_validate(raw)
    result = log.runs[0].results[0]
    assert result.level.value == "error" and result.rule_id == "codectx-review"
    location = result.locations[0].physical_location
    assert (location.artifact_location.uri, location.region.start_line) == ("app.py", 5)


def test_no_findings_exits_zero_even_with_fail_on(root: Path, scripted: FakeBackend) -> None:
    scripted.replies.append("no findings")
    code, out, err = review(str(root), "--fail-on", "warning")
    assert code == 0 and out == "" and "no findings in the uncommitted changes" in err


def test_staged_files_and_range(root: Path, scripted: FakeBackend) -> None:
    scripted.replies.extend(["no findings"] * 3)
    code, _, err = review(str(root), "--staged")
    assert code == 0 and "nothing to review: there are no changes" in err
    assert review(str(root), "--files", "app.py")[0] == 0
    assert review(str(root), "--range", "HEAD..HEAD")[0] == 0
    asked = [bytes(p.suffix).decode() for p in scripted.prompts if p.suffix]
    assert asked[0].count("+1   |def total(xs):") == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--staged", "--files", "app.py"], "exclude each other"),
    (["--range", "nope..HEAD"], "--range nope..HEAD"),
    (["--files", "missing.py"], "no such file"),
    (["--format", "xml"], "Invalid value for '--format'"),
])
def test_bad_input_is_a_clear_error(root: Path, scripted: FakeBackend, args: list[str],
                                    message: str) -> None:
    code, _, err = review(str(root), *args)
    assert code == 2 and message in err and "Traceback" not in err


def test_outside_git_and_a_missing_path(tmp_path: Path, scripted: FakeBackend) -> None:
    code, _, err = review(str(tmp_path))
    assert code == 2 and "not inside a git repository" in err
    code, _, err = review(str(tmp_path / "missing"))
    assert code == 2 and "no such directory" in err
