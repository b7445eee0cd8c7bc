"""Git, as codectx runs it, executes nothing a repository's own configuration names.

A repository can come with its `.git` (an archive, a shared folder, a copied checkout),
and its `.git/config` can name programs for git to run: an fsmonitor, hooks, a pager, a
signing program, filter and diff drivers, an ssh command, editors. Each test here plants
such a command in a real repository's config (a script that leaves a marker file), runs
codectx's real code path (indexing, a review, the order step, the watcher, committing an
edit) and asserts that no marker appears.
"""

from __future__ import annotations

import ast
import os
import pty
import subprocess
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from codectx import config, gitsafe
from codectx.assistant.edits.git import commit_paths
from codectx.assistant.review import change as changes
from codectx.assistant.review import hook
from codectx.assistant.session import Session
from codectx.assistant.watcher import Watcher
from codectx.indexer import order
from codectx.indexer.gittree import INDEX
from codectx.indexer.repository import index_repository
from codectx.tokens import EstimateCounter
from tests.conftest import commit, index, make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

APP = "def total(xs):\n    return sum(xs)\n"
MEAN = APP + "\ndef mean(xs):\n    return total(xs) / len(xs)\n"
ATTRIBUTES = "*.py filter=evil diff=evil\n"
PACKAGE = Path(__file__).parents[1] / "codectx"


class Planted:
    """Commands a repository's config could name; each leaves `<name>.ran` when run."""

    def __init__(self, where: Path) -> None:
        self.where = where
        where.mkdir()

    def command(self, name: str) -> str:
        script = self.where / name
        # `cat` passes a filter's or a textconv's input through, as a real driver would.
        script.write_text(f"#!/bin/sh\ntouch '{self.where / name}.ran'\nexec cat \"$@\"\n")
        script.chmod(0o755)
        return str(script)

    def hooks(self, *names: str) -> Path:
        """A hooks directory holding each of `names`."""
        folder = self.where / "hooks"
        folder.mkdir(exist_ok=True)
        for name in names:
            (folder / name).symlink_to(self.command(f"hook-{name}"))
        return folder

    def ran(self) -> list[str]:
        return sorted(p.name.removesuffix(".ran") for p in self.where.glob("*.ran"))


@pytest.fixture
def planted(tmp_path: Path) -> Planted:
    return Planted(tmp_path / "planted")


def configure(root: Path, settings: dict[str, str]) -> None:
    """What a repository's own .git/config would say (written by plain git, as a test)."""
    for key, value in settings.items():
        subprocess.run(["git", "config", key, value], cwd=root, check=True)


def repository(root: Path, files: dict[str, str] | None = None) -> Path:
    make_repo(root, files or {"app.py": APP, ".gitattributes": ATTRIBUTES})
    return root


def filters(planted: Planted, name: str = "evil") -> dict[str, str]:
    return {f"filter.{name}.clean": planted.command("clean"),
            f"filter.{name}.smudge": planted.command("smudge"),
            f"filter.{name}.process": planted.command("process"),
            f"filter.{name}.required": "true"}


def diff_drivers(planted: Planted) -> dict[str, str]:
    return {"diff.evil.textconv": planted.command("textconv"),
            "diff.evil.command": planted.command("diff-command"),
            "diff.external": planted.command("diff-external")}


def everything(planted: Planted) -> dict[str, str]:
    """Every mechanism at once."""
    return {"core.fsmonitor": planted.command("fsmonitor"),
            "core.hooksPath": str(planted.hooks("pre-commit", "commit-msg", "post-commit",
                                                "reference-transaction", "post-index-change")),
            "core.pager": planted.command("pager"),
            "core.editor": planted.command("editor"),
            "sequence.editor": planted.command("sequence-editor"),
            "core.sshCommand": planted.command("ssh"),
            "commit.gpgSign": "true", "log.showSignature": "true",
            "gpg.program": planted.command("gpg"),
            **filters(planted), **diff_drivers(planted)}


def sign_head(root: Path) -> None:
    """Make HEAD a commit that carries a (made-up) signature, so that showing signatures
    would call the signing program to verify it."""
    def out(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                              text=True).stdout.strip()

    body = (f"tree {out('rev-parse', 'HEAD^{tree}')}\nparent {out('rev-parse', 'HEAD')}\n"
            "author Test <test@example.com> 1 +0000\n"
            "committer Test <test@example.com> 1 +0000\n"
            "gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n"
            "\nsigned\n")
    made = subprocess.run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], cwd=root,
                          input=body, check=True, capture_output=True, text=True)
    subprocess.run(["git", "update-ref", "HEAD", made.stdout.strip()], cwd=root, check=True)


# -- each mechanism, through the code paths that would run it --------------------------


def test_indexing_runs_no_fsmonitor(tmp_path: Path, planted: Planted) -> None:
    root = repository(tmp_path / "r")
    configure(root, {"core.fsmonitor": planted.command("fsmonitor")})
    assert "app.py" in {f.path for f in index(root).files}
    assert planted.ran() == []


def test_the_watchers_check_ignore_runs_no_fsmonitor(tmp_path: Path, planted: Planted) -> None:
    root = repository(tmp_path / "r", {"app.py": APP, ".gitignore": "build/\n"})
    configure(root, {"core.fsmonitor": planted.command("fsmonitor"), **filters(planted)})
    assert watcher(root)._git_ignored(["build/out.o", "app.py"]) == {"build/out.o"}
    assert planted.ran() == []


def watcher(root: Path) -> Watcher:
    session = Session(root, config.load(root), ScriptedProvider(FakeBackend()))
    return Watcher(session, lambda event: None)


@pytest.mark.parametrize("kind", ["staged", "worktree", "range"])
def test_reviews_run_no_textconv_and_no_external_diff(tmp_path: Path, planted: Planted,
                                                      kind: str) -> None:
    root = repository(tmp_path / "r")
    repo = git.Repo(root)
    (root / "app.py").write_text(MEAN)
    if kind == "staged":
        repo.index.add(["app.py"])
    elif kind == "range":
        commit(repo, {"app.py": MEAN})
    configure(root, diff_drivers(planted))
    change = {"staged": lambda: changes.staged(root), "worktree": lambda: changes.worktree(root),
              "range": lambda: changes.revision_range(root, "HEAD~1..HEAD")}[kind]()
    assert planted.ran() == []
    changed = change.file("app.py")
    assert changed is not None
    assert changed.text_at(5) == "    return total(xs) / len(xs)"  # git's own diff, no driver's


@pytest.mark.parametrize("path", ["review", "order", "commit"])
def test_filter_drivers_never_run(tmp_path: Path, planted: Planted, path: str) -> None:
    root = repository(tmp_path / "r")
    (root / "app.py").write_text(MEAN)
    configure(root, filters(planted))
    if path == "review":
        assert changes.worktree(root).file("app.py") is not None
    elif path == "order":
        assert order.uncommitted(root) == ["app.py"]
    else:
        sha = commit_paths(root, ["app.py"], "mean")
        # `cat-file blob` runs no filter; a GitPython stream left to the garbage collector
        # would fail later, in another test, once its repository is gone.
        stored = subprocess.run(["git", "cat-file", "blob", f"{sha}:app.py"], cwd=root,
                                capture_output=True, check=True).stdout
        assert stored == MEAN.encode()  # the file as it is: no clean filter between
    assert planted.ran() == []


def test_a_filter_named_with_an_equals_sign_never_runs(tmp_path: Path, planted: Planted) -> None:
    root = repository(tmp_path / "r", {"app.py": APP, ".gitattributes": "*.py filter=a=b\n"})
    (root / "app.py").write_text(MEAN)
    configure(root, filters(planted, "a=b"))
    assert changes.worktree(root).file("app.py") is not None
    assert order.uncommitted(root) == ["app.py"]
    assert planted.ran() == []


def test_git_argv_fails_closed_without_the_environment_run_git_gives_it(
        tmp_path: Path, planted: Planted) -> None:
    """A driver name that `-c` cannot say is overridden through an environment variable:
    the bare argv, run without it, makes git refuse rather than run the driver."""
    root = repository(tmp_path / "r", {"app.py": APP, ".gitattributes": "*.py filter=a=b\n"})
    (root / "app.py").write_text(MEAN)
    configure(root, filters(planted, "a=b"))
    done = subprocess.run(gitsafe.git_argv(root, "diff", "HEAD"), cwd=root, capture_output=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("CODECTX")})
    assert done.returncode != 0
    assert planted.ran() == []


def test_a_filter_from_an_included_config_file_never_runs(tmp_path: Path,
                                                          planted: Planted) -> None:
    root = repository(tmp_path / "r")
    (root / "app.py").write_text(MEAN)
    included = tmp_path / "included.cfg"
    included.write_text("".join(f"[filter \"evil\"]\n\t{key.rsplit('.', 1)[1]} = {value}\n"
                                for key, value in filters(planted).items()))
    configure(root, {"include.path": str(included)})
    assert changes.worktree(root).file("app.py") is not None
    assert planted.ran() == []


def test_a_git_that_cannot_say_where_a_setting_comes_from_still_runs_no_filter(
        tmp_path: Path, planted: Planted, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before git 2.26 `git config` has no --show-scope: every driver not set on the command
    line is then taken for the repository's."""
    plain = gitsafe._plain

    def older(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
        if "--show-scope" in args:
            return subprocess.CompletedProcess(args, 129, b"", b"error: unknown option")
        return plain(root, *args)

    monkeypatch.setattr(gitsafe, "_plain", older)
    monkeypatch.setattr(gitsafe, "_learnt", {})
    root = repository(tmp_path / "r")
    (root / "app.py").write_text(MEAN)
    configure(root, filters(planted))
    assert changes.worktree(root).file("app.py") is not None
    assert order.uncommitted(root) == ["app.py"]
    assert planted.ran() == []


def test_a_filter_planted_after_git_first_ran_never_runs(tmp_path: Path,
                                                         planted: Planted) -> None:
    """What was learnt of a repository's config is forgotten when its config changes."""
    root = repository(tmp_path / "r")
    (root / "app.py").write_text(MEAN)
    assert changes.worktree(root).file("app.py") is not None
    configure(root, filters(planted))
    (root / "app.py").write_text(MEAN + "\n# again\n")
    assert changes.worktree(root).file("app.py") is not None
    assert order.uncommitted(root) == ["app.py"]
    assert planted.ran() == []


def test_a_submodules_own_filter_never_runs(tmp_path: Path, planted: Planted) -> None:
    """git would look inside a submodule for uncommitted changes with a git of its own,
    which reads the submodule's config: diffs see a submodule by its commit instead."""
    sub = repository(tmp_path / "sub", {"s.py": "Y = 1\n", ".gitattributes": "*.py filter=x\n"})
    root = repository(tmp_path / "r")
    subprocess.run(["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q",
                    str(sub), "sub"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "sub"], cwd=root, check=True)
    configure(root / "sub", {"filter.x.clean": planted.command("submodule-clean")})
    (root / "sub" / "s.py").write_text("Y = 2\n")
    (root / "app.py").write_text(MEAN)
    assert [f.path for f in changes.worktree(root).files] == ["app.py"]
    assert order.uncommitted(root) == ["app.py"]
    assert "sub/s.py" in {f.path for f in index(root, submodules=True).files}
    assert planted.ran() == []


def test_the_order_steps_history_verifies_no_signature(tmp_path: Path, planted: Planted) -> None:
    root = repository(tmp_path / "r")
    commit(git.Repo(root), {"app.py": MEAN})
    sign_head(root)
    configure(root, {"log.showSignature": "true", "gpg.program": planted.command("gpg")})
    assert order.change_history(root, 10) == [[], ["app.py"], [".gitattributes", "app.py"]]
    assert order.git_head(root) is not None
    index(root)
    assert planted.ran() == []


@pytest.mark.parametrize("where", ["git-dir", "hooks-path"])
def test_committing_an_edit_runs_no_hook(tmp_path: Path, planted: Planted, where: str) -> None:
    root = repository(tmp_path / "r")
    (root / "app.py").write_text(MEAN)
    names = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit",
             "reference-transaction", "post-index-change")
    hooks = planted.hooks(*names)
    if where == "hooks-path":
        configure(root, {"core.hooksPath": str(hooks)})
    else:
        for name in names:
            (root / ".git" / "hooks" / name).symlink_to(hooks / name)
    sha = commit_paths(root, ["app.py"], "mean")
    assert git.Repo(root).head.commit.hexsha == sha
    assert planted.ran() == []


def test_committing_an_edit_signs_nothing(tmp_path: Path, planted: Planted) -> None:
    root = repository(tmp_path / "r")
    (root / "app.py").write_text(MEAN)
    configure(root, {"commit.gpgSign": "true", "gpg.program": planted.command("gpg")})
    sha = commit_paths(root, ["app.py"], "mean")
    assert "gpgsig" not in subprocess.run(["git", "cat-file", "commit", sha], cwd=root,
                                          capture_output=True, text=True).stdout
    assert planted.ran() == []


def packs(root: Path) -> int:
    return len(list((root / ".git" / "objects" / "pack").glob("*.pack")))


def test_committing_an_edit_starts_no_garbage_collection(tmp_path: Path) -> None:
    """gc (and `git maintenance`) rewrites the repository, in the background by default:
    three packs where gc.autoPackLimit asks for one stay three."""
    root = repository(tmp_path / "r")
    for n in range(3):
        (root / f"f{n}.txt").write_text(f"{n}\n")
        subprocess.run(["git", "add", f"f{n}.txt"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-qm", str(n)], cwd=root, check=True)
        subprocess.run(["git", "repack", "-q"], cwd=root, check=True)
    assert packs(root) == 3
    configure(root, {"gc.autoPackLimit": "1", "gc.autoDetach": "false"})
    (root / "app.py").write_text(MEAN)
    commit_paths(root, ["app.py"], "mean")
    assert packs(root) == 3


@pytest.fixture
def no_editor_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_EDITOR", "GIT_SEQUENCE_EDITOR", "VISUAL", "EDITOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_editor_in_env")
def test_no_editor_runs(tmp_path: Path, planted: Planted) -> None:
    root = repository(tmp_path / "r")
    commit(git.Repo(root), {"app.py": MEAN})
    configure(root, {"core.editor": planted.command("editor"),
                     "sequence.editor": planted.command("sequence-editor")})
    assert gitsafe.run_git(root, "commit", "--allow-empty", check=False).returncode != 0
    with pytest.raises(git.GitCommandError):
        gitsafe.open_repo(root).git.commit("--allow-empty")
    gitsafe.run_git(root, "rebase", "-i", "HEAD~1")
    assert planted.ran() == []


def on_a_terminal(argv: list[str], root: Path, env: dict[str, str] | None = None) -> None:
    """Run argv with a terminal as its stdin, stdout and stderr (where git starts a pager)."""
    leader, follower = pty.openpty()
    try:
        subprocess.run(argv, cwd=root, stdin=follower, stdout=follower, stderr=follower,
                       env=env, timeout=30, check=False)
    finally:
        os.close(follower)
        os.close(leader)


def test_no_pager_runs_even_on_a_terminal(tmp_path: Path, planted: Planted,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_PAGER", "PAGER"):
        monkeypatch.delenv(name, raising=False)
    root = repository(tmp_path / "r")
    configure(root, {"core.pager": planted.command("pager"),
                     "pager.log": planted.command("pager-log")})
    on_a_terminal(["git", "log", "-1"], root)
    assert planted.ran() == ["pager-log"]  # the test's terminal does start a pager
    (planted.where / "pager-log.ran").unlink()
    on_a_terminal(gitsafe.git_argv(root, "log", "-1"), root)
    on_a_terminal(gitsafe.git_argv(root, "diff", "HEAD"), root)
    assert planted.ran() == []


def test_no_transport_and_no_ssh_command(tmp_path: Path, planted: Planted) -> None:
    other = repository(tmp_path / "other")
    root = repository(tmp_path / "r")
    configure(root, {"core.sshCommand": planted.command("ssh"),
                     "remote.far.url": "ssh://example.invalid/x",
                     "remote.near.url": str(other),
                     "remote.near.uploadpack": planted.command("upload-pack")})
    for remote in ("far", "near"):
        done = gitsafe.run_git(root, "ls-remote", remote, check=False)
        assert done.returncode != 0 and b"not allowed" in done.stderr
        with pytest.raises(git.GitCommandError):
            gitsafe.open_repo(root).git.ls_remote(remote)
    assert planted.ran() == []


# -- every code path, with everything planted at once -----------------------------------


@pytest.fixture
def armed(tmp_path: Path, planted: Planted) -> Iterator[Path]:
    """A repository with a staged change, a further change in the work tree, an untracked
    file, a signed head, and every mechanism planted."""
    root = repository(tmp_path / "r", {"app.py": APP, ".gitattributes": ATTRIBUTES,
                                       ".gitignore": "build/\n", "util.py": "X = 1\n"})
    commit(git.Repo(root), {"util.py": "X = 2\n"})
    sign_head(root)
    (root / "app.py").write_text(MEAN)
    git.Repo(root).index.add(["app.py"])
    (root / "util.py").write_text("X = 3\n")
    (root / "new.py").write_text("Y = 1\n")
    for name in ("pre-commit", "post-commit", "reference-transaction"):
        (root / ".git" / "hooks" / name).symlink_to(planted.command(f"git-dir-{name}"))
    configure(root, everything(planted))
    yield root
    assert planted.ran() == []


def test_indexing_runs_nothing(armed: Path) -> None:
    assert {f.path for f in index(armed).files} >= {"app.py", "util.py", "new.py"}


def test_indexing_the_staged_tree_runs_nothing(armed: Path) -> None:
    staged = index_repository(armed, config.load(armed), EstimateCounter(), tree=INDEX)
    assert {f.path for f in staged.files} >= {"app.py", "util.py"}


@pytest.mark.parametrize("kind", ["staged", "worktree", "range"])
def test_reviews_run_nothing(armed: Path, kind: str) -> None:
    change = {"staged": lambda: changes.staged(armed), "worktree": lambda: changes.worktree(armed),
              "range": lambda: changes.revision_range(armed, "HEAD~2..HEAD")}[kind]()
    assert change.files
    assert changes.has_commits(armed) and not changes.merge_in_progress(armed)


def test_the_order_step_runs_nothing(armed: Path) -> None:
    assert order.change_history(armed, 10)
    assert set(order.uncommitted(armed)) == {"app.py", "util.py"}
    (armed / "build").mkdir()
    assert order.git_subdir(armed / "build") == "build"


def test_the_watcher_runs_nothing(armed: Path) -> None:
    assert watcher(armed)._git_ignored(["build/x", "app.py"]) == {"build/x"}


def test_committing_an_edit_runs_nothing(armed: Path) -> None:
    commit_paths(armed, ["util.py", "new.py"], "edit")
    assert git.Repo(armed).head.commit.message == "edit\n"


def test_the_hook_install_reads_where_hooks_are_and_runs_nothing(armed: Path) -> None:
    assert hook.state(armed).path.parent.name == "hooks"


# -- nothing else in codectx runs git ----------------------------------------------------


RUNNERS = {"run", "Popen", "call", "check_call", "check_output", "getoutput",
           "getstatusoutput", "system", "popen", "execvp", "execlp", "spawnlp", "spawnvp",
           "create_subprocess_exec", "create_subprocess_shell"}
"""What starts a program named by its first argument (subprocess, os, asyncio)."""


def _callee(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else (
        func.id if isinstance(func, ast.Name) else None)


def direct_git(source: str) -> list[str]:
    """Where a module runs git other than through codectx.gitsafe: a GitPython Repo or Git
    made directly, or a command line whose first word is git."""
    found: list[str] = []
    tree = ast.parse(source)
    annotations = {id(n) for node in ast.walk(tree)
                   for field in ("annotation", "returns")
                   if isinstance(getattr(node, field, None), ast.expr)
                   for n in ast.walk(getattr(node, field))}
    for node in ast.walk(tree):
        if id(node) in annotations:
            continue
        if (isinstance(node, ast.Attribute) and node.attr in ("Repo", "Git")
                and isinstance(node.value, ast.Name) and node.value.id == "git"):
            found.append(f"line {node.lineno}: git.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module and (
                node.module == "git" or node.module.startswith("git.")):
            names = {a.name for a in node.names} & {"Repo", "Git", "cmd", "repo", "*"}
            if names or node.module in ("git.cmd", "git.repo"):
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.List | ast.Tuple) and node.elts and isinstance(
                node.elts[0], ast.Constant) and node.elts[0].value in ("git", b"git"):
            found.append(f"line {node.lineno}: a command line starting with git")
        elif isinstance(node, ast.Call) and _callee(node) in RUNNERS and node.args and (
                isinstance(first := node.args[0], ast.Constant)) and isinstance(
                first.value, str) and (first.value == "git" or first.value.startswith("git ")):
            found.append(f"line {node.lineno}: {_callee(node)}({first.value!r})")
    return found


def test_only_gitsafe_runs_git() -> None:
    offenders = {str(path.relative_to(PACKAGE.parent)): found
                 for path in sorted(PACKAGE.rglob("*.py")) if path.name != "gitsafe.py"
                 if (found := direct_git(path.read_text(encoding="utf-8")))}
    assert offenders == {}


@pytest.mark.parametrize("source", [
    "import git\nrepo = git.Repo(root, search_parent_directories=True)\n",
    "import git\nout = git.Git(root).ls_files()\n",
    "from git import Repo\n",
    "import subprocess\nsubprocess.run(['git', 'ls-files'], cwd=root)\n",
    "import subprocess\nargv = ('git', 'diff')\n",
    "import os\nos.system('git diff HEAD')\n",
    "import subprocess\nsubprocess.Popen('git', cwd=root)\n",
])
def test_the_direct_git_check_finds_each_way(source: str) -> None:
    assert direct_git(source)


def test_the_direct_git_check_leaves_the_safe_ways_alone() -> None:
    source = ("from __future__ import annotations\nimport git\n"
              "def f(root) -> git.Repo:\n    try:\n        return open_repo(root)\n"
              "    except git.InvalidGitRepositoryError:\n        raise\n"
              "out = run_git(root, 'ls-files', '-z')\nflags = ('--no-color', 'git')\n"
              "found = shutil.which('git')\n")
    assert direct_git(source) == []
