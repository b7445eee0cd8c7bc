"""A cloned repository's own config cannot reach outside it until the user trusts it.

A listener on loopback stands in for "a server of the repository's choosing": it
records every request it gets, so a test can show that none came (and, after
`codectx trust`, that one did, carrying the environment variable the config named:
the check could fail).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from codectx import config
from codectx.cli import main
from tests.conftest import make_repo, write_tree
from tests.support.fake import FakeBackend, ScriptedProvider
from tests.support.listener import Listener

SECRET = "s3cret-token-value"


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def outside_config(url: str) -> str:
    return (f'backend = "openai"\nbase_url = "{url}"\napi_key_env = "CODECTX_TEST_SECRET"\n'
            "budget = 4000\n")


def pyproject_config(url: str) -> str:
    return '[project]\nname = "x"\n\n[tool.codectx]\n' + outside_config(url)


def scripted_by_user(isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                     backend: FakeBackend) -> FakeBackend:
    """The user's own config chooses the scripted model, below the repository's config in
    precedence: the repository's `backend`, once applied, would win over it."""
    (isolated_env / "config.toml").write_text('backend = "scripted"\n')

    def from_settings(cls: type[ScriptedProvider], /, root: Path, loaded: Any,
                      **options: Any) -> ScriptedProvider:
        return cls(backend)

    monkeypatch.setattr(ScriptedProvider, "from_settings", classmethod(from_settings))
    monkeypatch.setenv("CODECTX_TEST_SECRET", SECRET)
    return backend


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


CONFIGS = [(".codectx.toml", outside_config, ".codectx.toml"),
           ("pyproject.toml", pyproject_config, "pyproject.toml [tool.codectx]")]


@pytest.mark.parametrize(("name", "make", "source"), CONFIGS, ids=["dotfile", "pyproject"])
def test_untrusted_outside_settings_are_ignored_until_trusted_and_again_after_a_change(
        tmp_path: Path, listener: Listener, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        name: str, make: Any, source: str) -> None:
    scripted_by_user(isolated_env, monkeypatch, FakeBackend(["local answer"] * 3))
    root = tmp_path / "cloned"
    make_repo(root, {"app.py": "def main():\n    return 1\n", name: make(listener.url)})

    code, stdout, stderr = cli("ask", "what does main return?", str(root))
    assert code == 0, stderr
    assert "local answer" in stdout
    assert listener.seen == []  # no connection at all
    assert (f"{source} sets backend, base_url, api_key_env, which reach outside the "
            "repository") in stderr
    assert f"codectx trust {root.resolve()}" in stderr
    loaded = config.load(root)
    assert loaded.settings.budget == 4000  # the rest of the repository's config applies
    assert loaded.sources["base_url"] == "default"

    code, _, stderr = cli("trust", str(root))
    assert code == 0, stderr
    assert f"base_url = '{listener.url}'" in stderr  # shows exactly what it asks for
    assert config.load(root).settings.base_url == listener.url
    code, _, stderr = cli("ask", "what does main return?", str(root))
    assert code != 0  # the listener refuses; what matters is that it was asked
    assert listener.seen, stderr
    assert {r.get("authorization") for r in listener.seen} == {f"Bearer {SECRET}"}

    asked = len(listener.seen)
    config_file = root / name
    config_file.write_text(config_file.read_text().replace("budget = 4000", "budget = 5000"))
    code, stdout, stderr = cli("ask", "what does main return?", str(root))
    assert code == 0, stderr
    assert len(listener.seen) == asked  # the changed config is held back again
    assert "reach outside the repository" in stderr
    assert config.load(root).settings.budget == 5000


def test_config_show_marks_what_is_ignored_and_why(tmp_path: Path) -> None:
    from rich.console import Console

    from codectx.cli.index import config_table

    root = tmp_path / "r"
    write_tree(root, {".codectx.toml": outside_config("http://127.0.0.1:9/v1")})
    code, stdout, stderr = cli("config", "show", "--json", str(root))
    assert code == 0, stderr
    shown = json.loads(stdout)
    assert shown["base_url"]["value"] is None
    assert shown["base_url"]["ignored"]["value"] == "http://127.0.0.1:9/v1"
    assert shown["base_url"]["ignored"]["from"] == ".codectx.toml"
    assert "untrusted repository" in shown["api_key_env"]["ignored"]["why"]
    assert "ignored" not in shown["budget"] and shown["budget"]["value"] == 4000
    code, stdout, stderr = cli("config", "show", str(root))
    assert code == 0
    assert "not trusted" in stderr and "ignored:" in stdout
    wide = Console(width=250, file=io.StringIO())
    wide.print(config_table(config.load(root)))
    lines = wide.file.getvalue().splitlines()  # type: ignore[attr-defined]
    row = next(i for i, line in enumerate(lines) if line.startswith("backend "))
    assert "ignored: .codectx.toml sets 'openai' (untrusted repository" in lines[row + 1]


def test_values_that_stay_inside_need_no_trust(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write_tree(root, {".codectx.toml": 'backend = "local"\nmodel = "qwen2.5-coder-0.5b-instruct"\n'
                                       'retrieval_tokens = 10\n'})
    loaded = config.load(root)
    assert loaded.trust is not None and loaded.trust.ignored == {}
    assert loaded.settings.model == "qwen2.5-coder-0.5b-instruct"
    assert loaded.trust.notice() is None
    write_tree(root, {".codectx.toml": 'model = "/home/someone/other.gguf"\n'
                                       'cache_dir = "/tmp/elsewhere"\n'})
    loaded = config.load(root)
    assert loaded.settings.model is None
    assert loaded.sources["cache_dir"] != ".codectx.toml"
    assert set(loaded.trust.ignored) == {"model", "cache_dir"} if loaded.trust else False


def test_every_setting_that_reaches_outside_is_marked() -> None:
    assert set(config.outside_settings()) == {
        "model", "models_dir", "backend", "base_url", "api_key_env", "server_model",
        "server_slot", "cache_dir", "check",
        "keys"}  # not outside the machine, but it decides what the user's answers mean


def test_the_users_own_layers_always_apply(tmp_path: Path, isolated_env: Path) -> None:
    root = tmp_path / "r"
    write_tree(root, {".codectx.toml": 'base_url = "http://127.0.0.1:9/v1"\n'})
    (isolated_env / "config.toml").write_text('base_url = "http://127.0.0.1:7/v1"\n')
    assert config.load(root).settings.base_url == "http://127.0.0.1:7/v1"
    loaded = config.load(root, {"base_url": "http://127.0.0.1:8/v1"})
    assert loaded.settings.base_url == "http://127.0.0.1:8/v1"
    assert config.load(root, environ={**os.environ, "CODECTX_API_KEY_ENV": "K"}) \
        .settings.api_key_env == "K"


def test_trust_is_per_place_not_per_folder_name(tmp_path: Path) -> None:
    text = 'base_url = "http://127.0.0.1:9/v1"\n'
    first, second = tmp_path / "a" / "app", tmp_path / "b" / "app"
    write_tree(first, {".codectx.toml": text})
    write_tree(second, {".codectx.toml": text})
    assert cli("trust", str(first))[0] == 0
    assert config.load(first).settings.base_url == "http://127.0.0.1:9/v1"
    assert config.load(second).settings.base_url is None
    _, stdout, _ = cli("trust", "--list")
    assert str(first.resolve()) in stdout and str(second.resolve()) not in stdout
    assert cli("trust", "--forget", str(first))[0] == 0
    assert config.load(first).settings.base_url is None


def test_a_config_symlinked_from_outside_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.toml"
    outside.write_text("budget = 123\n")
    root = tmp_path / "r"
    root.mkdir()
    (root / ".codectx.toml").symlink_to(outside)
    (root / "pyproject.toml").symlink_to(outside)
    loaded = config.load(root)
    assert loaded.settings.budget is None
    assert loaded.trust is not None and loaded.trust.source is None


def test_a_damaged_trust_record_is_a_clear_error(tmp_path: Path, isolated_env: Path) -> None:
    (isolated_env / "trusted.json").write_text("{not json")
    write_tree(tmp_path / "r", {".codectx.toml": "budget = 5\n"})
    code, _, stderr = cli("config", "show", str(tmp_path / "r"))
    assert code == 2
    assert "trusted repositories cannot be read" in stderr
    assert "Traceback" not in stderr


def git_commit(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-m", "change"], cwd=root, text=True,
                          capture_output=True, env={**os.environ, **env}, timeout=120)


def test_the_hook_in_an_untrusted_repository_connects_nowhere(
        tmp_path: Path, listener: Listener, isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_env / "config.toml").write_text('backend = "scripted"\n')
    monkeypatch.setenv("CODECTX_TEST_SECRET", SECRET)
    root = tmp_path / "r"
    repo = make_repo(root, {"app.py": "def total(xs):\n    return sum(xs)\n",
                            ".codectx.toml": outside_config(listener.url)})
    assert cli("hook", "install", str(root))[0] == 0
    (root / "app.py").write_text("def total(xs):\n    return sum(xs) + 1\n")
    repo.index.add(["app.py"])
    done = git_commit(root, CODECTX_SCRIPTED_REPLIES=json.dumps(["no findings"]))
    assert done.returncode == 0, done.stderr
    assert listener.seen == []
    notes = [line for line in done.stderr.splitlines() if "reach outside" in line]
    assert len(notes) == 1 and notes[0].startswith("codectx: note: .codectx.toml sets")

    # Trusted, the same hook does reach the server (so the check above could fail); the
    # server refuses, and the hook still lets the commit through.
    assert cli("trust", str(root))[0] == 0
    (root / "app.py").write_text("def total(xs):\n    return sum(xs) + 2\n")
    repo.index.add(["app.py"])
    done = git_commit(root)
    assert done.returncode == 0, done.stderr
    assert listener.seen and "review skipped" in done.stderr
