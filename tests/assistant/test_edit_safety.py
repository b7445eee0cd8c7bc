"""What a hostile repository's paths and configs cannot make an edit or its checks do:
write through a link into git's directory or hooks, hand a check program an option,
read a file outside through ruff's config, pick the interpreter, or undo into elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codectx.assistant.checks.detect import checks_for, python
from codectx.assistant.checks.trial import trial
from codectx.assistant.edits.journal import UndoError, journal_dir, undo_last
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.paths import EditRefused, readable_path, safe_path
from codectx.assistant.edits.plan import EditPlan, FileChange, plan_edits
from tests.conftest import installed_tools, make_repo, write_tree


def sr(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def refused(root: Path, path: str) -> str:
    with pytest.raises(EditRefused) as info:
        safe_path(root, path)
    return info.value.message


def test_a_link_to_the_git_directory_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": "x = 1\n"})
    (root / "lnk").symlink_to(".git")
    (root / "deep").mkdir()
    (root / "deep" / "hooks").symlink_to("../.git/hooks")
    for path in ("lnk/config", "lnk/hooks/pre-commit", "deep/hooks/pre-commit", "lnk"):
        message = refused(root, path)
        assert repr(path) in message and "git directory" in message
    # as a reply: nothing is planned, and the failure names the path
    reply = sr("lnk/config", "", "[core]\n\tfsmonitor = touch x\n")
    plan = plan_edits(parse_reply(reply, whole_files=False).edits, root)
    assert not plan.changes and "lnk/config" in plan.failures[0].path
    assert safe_path(root, "app.py") == "app.py"


def test_a_git_file_naming_a_directory_in_the_tree_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    # `.git` is a file here ("gitdir: store"): the git directory is an ordinary folder.
    subprocess.run(["git", "init", "-q", f"--separate-git-dir={root / 'store'}"], cwd=root,
                   check=True)
    (root / "app.py").write_text("x = 1\n")
    for path in ("store/config", "store/hooks/pre-commit"):
        assert "git directory" in refused(root, path)
    assert safe_path(root, "app.py") == "app.py"


def test_a_worktree_common_directory_is_refused(tmp_path: Path) -> None:
    main = tmp_path / "main"
    make_repo(main, {"app.py": "x = 1\n"})
    # A worktree kept inside the main checkout: opened as a repository of its own, the main
    # .git (the worktree's common directory, with the hooks and config) is inside its root.
    subprocess.run(["git", "worktree", "add", "-q", str(main / "wt")], cwd=main, check=True)
    (main / "common").symlink_to(".git")
    assert "git directory" in refused(main, "common/worktrees/wt/HEAD")
    assert "git directory" in refused(main, "common/hooks/pre-commit")


def test_a_hooks_path_inside_the_work_tree_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {".husky/pre-commit": "#!/bin/sh\nexit 0\n", "app.py": "x = 1\n"})
    subprocess.run(["git", "config", "core.hooksPath", ".husky"], cwd=root, check=True)
    message = refused(root, ".husky/pre-commit")
    assert "hooks" in message
    assert safe_path(root, "app.py") == "app.py"


def test_codectx_state_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": "x = 1\n"})
    import platformdirs

    state = Path(platformdirs.user_config_dir("codectx", appauthor=False))
    state.mkdir(parents=True, exist_ok=True)
    # Inside the repository (a user who keeps their home in it), still not an edit's target.
    monkeypatch.setattr(platformdirs, "user_config_dir", lambda *a, **k: str(root / "state"))
    (root / "state").mkdir()
    assert "codectx's own state" in refused(root, "state/trusted.json")


def test_a_path_part_that_reads_as_an_option_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.js": "1\n"})
    for path in ("--require=./evil.js", "src/-rf", "-x.py"):
        assert "option" in refused(root, path)
    # Reading such a file (a user's /add) is no program's option, and is allowed.
    (root / "-notes.txt").write_text("n\n")
    assert readable_path(root, "-notes.txt", "/add -notes.txt") == "-notes.txt"


def test_check_programs_get_paths_that_are_no_options(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    installed_tools(tmp_path, monkeypatch, "node", "ruff")
    root = tmp_path / "r"
    write_tree(root, {"ruff.toml": "", "--require=x.js": "", "--output-file=x.py": ""})
    found = checks_for(root, ["--require=x.js", "--output-file=x.py"], [], setting=None,
                       origin="", trusted=True)
    arguments = [a for c in found.checks for a in c.argv[1:] if "=" in a]
    assert arguments and all(a.startswith("./") for a in arguments)


def test_go_checks_run_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed_tools(tmp_path, monkeypatch, "go")
    root = tmp_path / "r"
    write_tree(root, {"go.mod": "module x\n\ngo 1.21\ntoolchain go1.99.0\n", "a/a.go": ""})
    found = checks_for(root, ["a/a.go"], [], setting=None, origin="", trusted=True)
    assert [c.name for c in found.checks] == ["go vet", "go test"]
    for check in found.checks:
        env = dict(check.env)
        assert env["GOTOOLCHAIN"] == "local" and env["GOPROXY"] == "off"
        assert env["GOWORK"] == "off"
    assert not found.held_back
    # A module replaced by a directory outside: vet would read it, so it waits for trust.
    (root / "go.mod").write_text("module x\n\ngo 1.21\n\nreplace (\n\tex.com/y => ../y\n)\n")
    found = checks_for(root, ["a/a.go"], [], setting=None, origin="", trusted=False)
    assert found.checks == () and [c.name for c in found.held_back] == ["go vet", "go test"]
    (root / "go.mod").write_text("module x\n\nreplace ex.com/y => ./vendor/y\n")
    found = checks_for(root, ["a/a.go"], [], setting=None, origin="", trusted=False)
    assert [c.name for c in found.checks] == ["go vet"]


def test_a_ruff_config_reaching_outside_is_not_used(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    assert ruff.exists(), "ruff is a development dependency"
    monkeypatch.setenv("PATH", f"{ruff.parent}{os.pathsep}/usr/bin:/bin")
    canary = tmp_path / "credentials.toml"
    canary.write_text('aws_secret = "CANARY-7731"\n')
    root = tmp_path / "r"
    make_repo(root, {"pyproject.toml": f'[tool.ruff]\nextend = "{canary}"\n',
                     "pkg/ruff.toml": 'output-file = "../../written.txt"\n',
                     "m.py": "import os\n", "pkg/n.py": "x = 1\n"})
    for changed in ("m.py", "pkg/n.py"):
        found = checks_for(root, [changed], [], setting=None, origin="", trusted=False)
        (check,) = [c for c in found.checks if c.argv[0] == str(ruff)]
        assert "--isolated" in check.argv and "outside the repository" in check.name
    change = FileChange("m.py", "modify", "import os\n", "import os\nimport sys\n")
    found = checks_for(root, ["m.py"], [], setting=None, origin="", trusted=False)
    results = trial(EditPlan((change,), ()), root, found.checks, 60)
    assert results and all("CANARY" not in r.output for r in results)
    assert not (tmp_path / "written.txt").exists()
    # Without the reach, the project's own config is used.
    (root / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    (root / "pkg" / "ruff.toml").unlink()
    found = checks_for(root, ["m.py"], [], setting=None, origin="", trusted=False)
    assert [c.name for c in found.checks if c.argv[0] == str(ruff)] == ["ruff"]


def test_a_shim_never_chooses_the_interpreter(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "python3"
    shim.write_text('#!/bin/sh\nexec "$(cat .python-version)" "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}/usr/bin:/bin")
    assert python() == sys.executable
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin")
    assert python() == str(Path(sys.executable).parent / "python3")


def test_undo_checks_the_journal_paths_again(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": "x = 1\n"})
    outside = tmp_path / "outside.txt"
    outside.write_text("mine\n")
    journal = journal_dir(tmp_path / "cache", root)
    journal.mkdir(parents=True)
    record = {"time": 0, "new_dirs": [], "files": [
        {"path": "../outside.txt", "before": "cHduZWQK", "after": "bWluZQo="}]}
    (journal / "1.json").write_text(json.dumps(record))
    with pytest.raises(UndoError) as info:
        undo_last(root, journal)
    assert "../outside.txt" in info.value.message and "nothing was changed" in info.value.message
    assert outside.read_text() == "mine\n"
    assert (journal / "1.json").exists()
