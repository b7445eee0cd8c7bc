"""The pre-commit hook in real repositories, committing with real `git commit`.

The hook runs codectx in a subprocess of git; `backend = "scripted"` in its
environment, with the scripted model registered in $CODECTX_TEST_BACKENDS
(`tests/support/fake.py`), gives it a scripted model.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx.assistant.review import hook
from codectx.cli import main
from tests.conftest import make_repo, scripted_env

APP = "def total(xs):\n    return sum(xs)\n"
MEAN = APP + "\ndef mean(xs):\n    return total(xs) / len(xs)\n"
ERROR = "app.py:5: error: an empty list divides by zero"
WARNING = "app.py:5: warning: say what an empty list gives"


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def git_commit(root: Path, *args: str, replies: list[str] | None = None,
               **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    if replies is not None:
        environment.update(scripted_env(replies, float(env.get("CODECTX_SCRIPTED_DELAY", 0))))
    return subprocess.run(["git", "commit", "-m", "change", *args], cwd=root, text=True,
                          capture_output=True, env=environment, timeout=120)


def staged_repo(root: Path) -> Path:
    repo = make_repo(root, {"app.py": APP})
    (root / "app.py").write_text(MEAN)
    repo.index.add(["app.py"])
    return root


def commits(root: Path) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, text=True,
                         capture_output=True)
    return int(out.stdout.strip() or 0)


def test_advisory_mode_prints_findings_and_lets_the_commit_through(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    assert cli("hook", "install", str(root))[0] == 0
    done = git_commit(root, replies=[ERROR])
    assert done.returncode == 0, done.stderr
    assert "error: an empty list divides by zero" in done.stderr
    assert "return total(xs) / len(xs)" in done.stderr  # the code line is shown
    assert commits(root) == 2


def test_fail_on_error_blocks_on_an_error_and_not_on_a_warning(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    assert cli("hook", "install", str(root), "--fail-on", "error")[0] == 0
    blocked = git_commit(root, replies=[ERROR])
    assert blocked.returncode != 0 and "commit blocked" in blocked.stderr
    assert commits(root) == 1
    passed = git_commit(root, replies=[WARNING])
    assert passed.returncode == 0 and "warning" in passed.stderr
    assert commits(root) == 2


def test_codectx_failures_never_block(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    cli("hook", "install", str(root), "--fail-on", "error")
    broken = git_commit(root, CODECTX_MODEL=str(tmp_path / "missing.gguf"))
    assert broken.returncode == 0
    assert "codectx: review skipped: model file not found" in broken.stderr
    assert commits(root) == 2


def test_a_staged_file_that_no_longer_parses_blocks_even_without_a_model(
        tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    (root / "app.py").write_text(MEAN.replace("len(xs)", "len(xs"))
    subprocess.run(["git", "add", "app.py"], cwd=root, check=True)
    cli("hook", "install", str(root), "--fail-on", "error")
    blocked = git_commit(root, CODECTX_MODEL=str(tmp_path / "missing.gguf"))
    assert blocked.returncode == 1 and commits(root) == 1, blocked.stderr
    assert "app.py" in blocked.stderr and "no longer parses" in blocked.stderr
    assert "the model's review was skipped: model file not found" in blocked.stderr
    assert "commit blocked by 1 finding(s)" in blocked.stderr


def test_the_hook_imports_nothing_from_the_repository(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    planted = "from pathlib import Path\nPath(__file__).with_name('ran').write_text('x')\n"
    (root / "codectx").mkdir()
    for name in ("__init__.py", "__main__.py"):
        (root / "codectx" / name).write_text(planted)
    cli("hook", "install", str(root))
    done = git_commit(root, replies=[ERROR])
    assert done.returncode == 0, done.stderr
    assert not (root / "codectx" / "ran").exists()  # the repository's `codectx` never ran
    assert "error: an empty list divides by zero" in done.stderr  # codectx's own did
    script = root / ".git" / "hooks" / "pre-commit"
    assert "outdated" not in cli("hook", "status", str(root))[1]
    script.write_text(script.read_text().replace(" -P -m codectx", " -m codectx"))
    assert "outdated" in cli("hook", "status", str(root))[1]  # as written before -P


def test_the_time_limit_lets_the_commit_through(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    cli("hook", "install", str(root), "--fail-on", "error")
    slow = git_commit(root, replies=[ERROR + " and more" * 50], CODECTX_SCRIPTED_DELAY="0.2",
                      CODECTX_HOOK_TIMEOUT="1")
    assert slow.returncode == 0 and "time limit of 1 s was reached" in slow.stderr
    assert commits(root) == 2


def test_skipping(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    cli("hook", "install", str(root), "--fail-on", "error")
    skipped = git_commit(root, replies=[ERROR], CODECTX_SKIP="1")
    assert skipped.returncode == 0 and "codectx" not in skipped.stdout + skipped.stderr
    (root / "app.py").write_text(MEAN + "# again\n")
    subprocess.run(["git", "add", "app.py"], cwd=root, check=True)
    no_verify = git_commit(root, "--no-verify", replies=[ERROR])
    assert no_verify.returncode == 0 and commits(root) == 3


def test_an_existing_hook_is_chained_and_restored(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    original = "#!/bin/sh\necho previous hook ran >> \"$(git rev-parse --git-dir)/ran\"\n"
    existing = root / ".git" / "hooks" / "pre-commit"
    existing.write_text(original)
    existing.chmod(0o755)
    code, _, err = cli("hook", "install", str(root))
    assert code == 0 and "previous hook runs first" in err
    assert "chained" not in cli("hook", "status", str(root))[1]
    assert hook.state(root).chained and hook.state(root).installed
    done = git_commit(root, replies=[WARNING])
    assert done.returncode == 0 and "warning" in done.stderr
    assert (root / ".git" / "ran").read_text() == "previous hook ran\n"
    assert cli("hook", "uninstall", str(root))[0] == 0
    assert existing.read_text() == original and os.access(existing, os.X_OK)
    assert not (existing.parent / hook.PREVIOUS).exists()


def test_a_failing_previous_hook_still_blocks(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    existing = root / ".git" / "hooks" / "pre-commit"
    existing.write_text("#!/bin/sh\necho lint failed >&2\nexit 3\n")
    existing.chmod(0o755)
    cli("hook", "install", str(root))
    done = git_commit(root, replies=["no findings"])
    assert done.returncode != 0 and "lint failed" in done.stderr and commits(root) == 1


def test_core_hooks_path_is_respected(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    subprocess.run(["git", "config", "core.hooksPath", ".githooks"], cwd=root, check=True)
    assert cli("hook", "install", str(root), "--fail-on", "error")[0] == 0
    assert (root / ".githooks" / "pre-commit").is_file()
    assert not (root / ".git" / "hooks" / "pre-commit").exists()
    blocked = git_commit(root, replies=[ERROR])
    assert blocked.returncode != 0 and "commit blocked" in blocked.stderr


def test_status_and_uninstall_without_a_hook(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    assert "not installed" in cli("hook", "status", str(root))[1]
    code, _, err = cli("hook", "uninstall", str(root))
    assert code == 2 and "not installed" in err and "Traceback" not in err
    cli("hook", "install", str(root), "--fail-on", "warning")
    status = cli("hook", "status", str(root))[1]
    assert "installed" in status and "fail-on warning" in status and "120 s" in status
    code, _, err = cli("hook", "install", str(tmp_path / "nowhere"))
    assert code == 2 and "not inside a git repository" in err


@pytest.mark.parametrize("case", ["empty", "binary", "first commit", "merge"])
def test_special_commits_get_a_clear_message(tmp_path: Path, case: str) -> None:
    root = tmp_path / "r"
    args: list[str] = []
    if case == "first commit":
        make_repo(root)
        (root / "app.py").write_text(APP)
        subprocess.run(["git", "add", "app.py"], cwd=root, check=True)
        expected = "first commit: reviewing all 1 staged file(s)"
    else:
        repo = make_repo(root, {"app.py": APP, "img.bin": b"\0\1"})
        if case == "empty":
            args, expected = ["--allow-empty"], "nothing staged to review"
        elif case == "binary":
            (root / "img.bin").write_bytes(b"\0\2")
            repo.index.add(["img.bin"])
            expected = "only binary or deleted files are staged"
        else:
            repo.git.checkout("-b", "side")
            (root / "side.py").write_text("S = 1\n")
            repo.git.add("side.py")
            repo.git.commit("-m", "side")
            repo.git.checkout("main")
            (root / "main.py").write_text("M = 1\n")
            repo.git.add("main.py")
            repo.git.commit("-m", "main")
            repo.git.merge("--no-ff", "--no-commit", "side")
            expected = "a merge commit is not reviewed"
    cli("hook", "install", str(root), "--fail-on", "error")
    done = git_commit(root, *args, replies=[ERROR])
    assert done.returncode == 0, done.stderr
    assert expected in done.stderr


def test_commit_all_reviews_what_it_commits(tmp_path: Path) -> None:
    """`git commit -a` stages into a temporary index (GIT_INDEX_FILE); that is what is reviewed."""
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP})
    (root / "app.py").write_text(MEAN)  # not staged beforehand
    cli("hook", "install", str(root), "--fail-on", "error")
    blocked = git_commit(root, "-a", replies=[ERROR])
    assert blocked.returncode != 0 and "return total(xs) / len(xs)" in blocked.stderr
    assert commits(root) == 1


def husky_repo(root: Path) -> tuple[Path, Path]:
    """A repository whose core.hooksPath is a directory of its own work tree (as husky
    sets it), with its own pre-commit hook there."""
    root = staged_repo(root)
    own = root / ".husky" / "pre-commit"
    own.parent.mkdir()
    own.write_text("#!/bin/sh\n"
                   "echo the repository hook ran >> \"$(git rev-parse --git-dir)/ran\"\n")
    own.chmod(0o755)
    subprocess.run(["git", "config", "core.hooksPath", ".husky"], cwd=root, check=True)
    return root, own


def test_the_repositorys_own_hook_is_not_chained_in_an_untrusted_repository(
        tmp_path: Path) -> None:
    root, own = husky_repo(tmp_path / "r")
    before = sorted(p.name for p in own.parent.iterdir())
    code, _, err = cli("hook", "install", str(root))
    assert code == 2
    [line] = err.strip().splitlines()
    assert "the repository's own hook" in line and str(own) in line
    assert f"codectx trust {root.resolve()}" in line and "nothing was changed" in line
    assert sorted(p.name for p in own.parent.iterdir()) == before  # nothing moved or written
    assert "the repository hook ran" in own.read_text()
    # Nor is a previous hook the repository ships beside codectx's marker chained.
    own.write_text(f"#!/bin/sh\n{hook.MARKER}\n")
    (own.parent / hook.PREVIOUS).write_text("#!/bin/sh\nexit 0\n")
    assert cli("hook", "install", str(root))[0] == 2
    assert own.read_text() == f"#!/bin/sh\n{hook.MARKER}\n"


def test_the_repositorys_own_hook_is_chained_once_trusted(tmp_path: Path) -> None:
    root, _ = husky_repo(tmp_path / "r")
    assert cli("trust", str(root))[0] == 0
    code, _, err = cli("hook", "install", str(root))
    assert code == 0, err
    assert "previous hook runs first" in err and "the repository's own hook" in err
    assert hook.state(root).chained and hook.state(root).own
    assert "the repository's own hook" in cli("hook", "status", str(root))[1]
    done = git_commit(root, replies=[WARNING])
    assert done.returncode == 0 and "warning" in done.stderr
    assert (root / ".git" / "ran").read_text() == "the repository hook ran\n"


def test_a_hooks_path_outside_the_work_tree_is_the_users(tmp_path: Path) -> None:
    root = staged_repo(tmp_path / "r")
    mine = tmp_path / "my-hooks"
    mine.mkdir()
    (mine / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (mine / "pre-commit").chmod(0o755)
    subprocess.run(["git", "config", "core.hooksPath", str(mine)], cwd=root, check=True)
    code, _, err = cli("hook", "install", str(root))
    assert code == 0 and "previous hook runs first" in err and "own" not in err
    assert not hook.state(root).own
