"""Core errors say what to change in words and name settings; each front end adds its own
way to change them: flags on the command line, the config files in the chat and editors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

import codectx
from codectx.advice import error_in_the_chat, in_the_config, named_settings, on_the_command_line
from codectx.assistant import commands
from codectx.cli import main
from codectx.errors import BudgetError, CodectxError, ModelError
from tests.conftest import make_repo

FLAGS = {"budget": "--budget", "base_url": "--base-url"}


def test_the_settings_an_error_names_are_read_from_its_hint() -> None:
    exc = ModelError("no room", "Lower the `budget` or `max_answer_tokens` setting, or set "
                                "`budget` again; `not_a_setting` is not one.")
    assert named_settings(exc) == ["budget", "max_answer_tokens"]
    assert named_settings(CodectxError("plain")) == []
    assert on_the_command_line(CodectxError("plain", "Try again."), FLAGS) is None


def test_the_command_line_gives_flags_and_the_chat_the_config() -> None:
    exc = ModelError("no room", "Lower the `budget` or `max_answer_tokens` setting.")
    line = on_the_command_line(exc, FLAGS)
    assert line is not None and "`budget`: --budget" in line
    assert "`max_answer_tokens`: in the config file" in line
    told = error_in_the_chat(exc)
    assert told.startswith("no room\nLower the `budget`")
    where = in_the_config(exc)
    assert where is not None and where in told and "--" not in told
    assert "codectx config show" in told


def test_the_config_file_named_is_the_one_codectx_reads(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODECTX_CONFIG", str(tmp_path / "mine.toml"))
    where = in_the_config(ModelError("no room", "Lower the `budget` setting."))
    assert where is not None and f"{tmp_path / 'mine.toml'}, or the repository's" in where


def test_a_budget_error_on_the_command_line_names_the_flag(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": "def f():\n    return 1\n" * 40})
    result = CliRunner().invoke(main, ["index", str(root), "--budget", "5"])
    assert result.exit_code == 2, result.output
    assert "Raise the `budget` setting" in result.output
    assert "On the command line, `budget`: --budget." in result.output


def test_the_chat_refusal_says_where_the_setting_is_set(tmp_path: Path) -> None:
    refusal = commands._failed(BudgetError("too small", "Raise the `budget` setting."))
    assert refusal.level == "error"
    assert "Set `budget` in the config file" in refusal.text and "--budget" not in refusal.text


def test_no_core_message_names_a_command_line_flag() -> None:
    """Outside the command line's own package, no error text names one of its flags."""
    flags = {"--budget", "--files", "--base-url", "--model", "--server-model",
             "--server-context", "--api-key-env", "--lengths", "--staged", "--check"}
    package = Path(codectx.__file__).parent
    found = []
    for path in package.rglob("*.py"):
        if path.parts[-2] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith("Error"):
                for arg in ast.walk(node):
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found += [f"{path.name}: {flag}" for flag in flags
                                  if flag in arg.value.split()
                                  or f"{flag} " in arg.value or f"{flag})" in arg.value]
    assert found == []
