"""The command line as a user meets it: help, output, JSON, and clear errors."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx import __version__
from codectx.cli import main
from tests.conftest import copy_fixture, make_repo, write_tree


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codectx", *args], capture_output=True,
                          text=True, check=False)


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"codectx, version {__version__}"
    runner = CliRunner()
    for args in ([], ["index"], ["config"], ["config", "show"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0
        assert "Usage: " in result.output
    assert "dependency graph" in runner.invoke(main, ["index", "--help"]).output


def test_index_writes_the_prompt_to_stdout_and_a_summary_to_stderr(tmp_path: Path) -> None:
    root = copy_fixture("go", tmp_path / "go")
    proc = run("index", str(root))
    assert proc.returncode == 0
    assert proc.stdout.startswith('<repository name="go">')
    assert "6 files: 6 in full" in proc.stderr and "order: first" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_index_to_a_file_in_markdown(tmp_path: Path) -> None:
    root = copy_fixture("rust", tmp_path / "rust")
    out = tmp_path / "prompt.md"
    result = CliRunner().invoke(main, ["index", str(root), "-o", str(out), "--format",
                                       "markdown", "-q"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert out.read_text().startswith("# Repository rust\n")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".prompt")] == []


def test_the_output_file_inside_the_repository_is_never_indexed(tmp_path: Path) -> None:
    root = copy_fixture("go", tmp_path / "go")
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(main, ["index", str(root), "-o", str(root / "prompt.xml"), "-q"])
        assert result.exit_code == 0, result.output
    text = (root / "prompt.xml").read_text()
    assert 'path="prompt.xml"' not in text and "prompt.xml" not in text.split("<tree>")[1]


def test_index_json_describes_the_index(tmp_path: Path) -> None:
    root = copy_fixture("typescript", tmp_path / "ts")
    write_tree(root, {"yarn.lock": ""})
    proc = run("index", str(root), "--json", "-q")
    data = json.loads(proc.stdout)
    assert set(data) >= {"root", "total_tokens", "token_count_exact", "files", "skipped",
                         "elapsed_s"}
    assert data["root"] == str(root.resolve())
    assert data["token_count_exact"] is False
    assert data["skipped"] == [{"path": "yarn.lock", "reason": "lock file"}]
    app = next(f for f in data["files"] if f["path"] == "src/app.tsx")
    assert app["language"] == "tsx" and app["mode"] == "full"
    assert sorted(app["imports"]) == ["src/lib/index.ts", "src/util.ts"]
    assert sum(f["tokens"] for f in data["files"]) < data["total_tokens"]
    spans = [f["span"] for f in data["files"]]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_index_says_which_directories_collapsed(tmp_path: Path) -> None:
    files = {f"vendor/lib{i:02}/mod.py": f"def vendored_{i}(x):\n    return x + {i}\n"
             for i in range(40)}
    make_repo(tmp_path / "r", {**files, "app.py": "def main():\n    return 0\n"})
    proc = run("index", str(tmp_path / "r"), "--json", "-q", "--budget", "200")
    data = json.loads(proc.stdout)
    assert data["total_tokens"] <= 200 and data["collapsed"]
    folder = data["collapsed"][0]
    assert set(folder) == {"path", "files", "summary", "why"} and "budget" in folder["why"]
    modes = [f["mode"] for f in data["files"]]
    assert sum(c["files"] for c in data["collapsed"]) >= modes.count("collapsed") > 0
    said = run("index", str(tmp_path / "r"), "--budget", "200", "-o", str(tmp_path / "p.xml"))
    summary = " ".join(said.stderr.split())
    assert f"{modes.count('collapsed')} collapsed" in summary
    assert "shown as one line each" in summary and f"{folder['path']}/" in summary


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["index", "/definitely/not/here"], "no such directory"),
        (["index", "--budget", "5"], "cannot hold the header and the repository"),
        (["index", "--model", "/no/model.gguf"], "model file not found"),
        (["index", "-o", "/no/such/dir/out.xml"], "directory /no/such/dir does not exist"),
    ],
)
def test_user_mistakes_are_one_clear_line(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"a.py": "def f():\n    return 1\n"})
    monkeypatch.chdir(tmp_path)
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("codectx: error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_a_config_typo_stops_the_command_naming_the_key(tmp_path: Path) -> None:
    write_tree(tmp_path, {".codectx.toml": "max_filesize = 10\n", "a.py": ""})
    proc = run("index", str(tmp_path))
    assert proc.returncode == 2
    assert "unknown setting 'max_filesize' in .codectx.toml" in proc.stderr
    assert "Did you mean 'max_file_size'?" in proc.stderr


def test_a_failed_run_leaves_an_existing_output_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "prompt.xml"
    out.write_text("previous prompt")
    proc = run("index", str(tmp_path / "missing"), "-o", str(out))
    assert proc.returncode == 2
    assert out.read_text() == "previous prompt"


def test_config_show_names_each_source(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {".codectx.toml": "budget = 1234\n"})
    proc = run("config", "show", str(tmp_path / "r"), "--json")
    data = json.loads(proc.stdout)
    assert data["budget"] == {"value": 1234, "from": ".codectx.toml"}
    assert data["format"] == {"value": "xml", "from": "default"}
    table = run("config", "show", str(tmp_path / "r")).stdout
    assert "budget" in table and ".codectx.toml" in table


def test_importing_the_cli_loads_no_heavy_libraries() -> None:
    code = ("import sys, codectx.cli; heavy = [m for m in ('textual', 'llama_cpp', "
            "'tree_sitter', 'networkx', 'git') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.model
def test_index_counts_exactly_with_a_model_named_from_the_catalog(tmp_path: Path) -> None:
    root = copy_fixture("go", tmp_path / "go")
    proc = run("index", str(root), "--json", "-q", "--model", "qwen2.5-coder-0.5b-instruct")
    data = json.loads(proc.stdout)
    assert data["token_count_exact"] is True and data["tokenizer"].startswith("gguf-")
