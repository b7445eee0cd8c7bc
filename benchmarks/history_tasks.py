"""Edit tasks mined from real history, for bench_edit_history: what to ask, and how to check it.

A task is a commit that changes one source file by a few lines and adds or changes tests
in the same commit. The instruction is the commit's message (issue and pull-request
numbers and trailers taken out); the work tree is the commit's parent; the check is the
commit's own test files, laid over the parent's, run against the edited tree in a scratch
copy. A commit is kept only when, without any model, (a) its tests fail with the parent's
source file and (b) pass with the commit's own: that also drops what cannot run here.
Whether the parent's own versions of those tests still pass with the commit's source is
recorded too (`stale_tests`: when they do not, the project's own checks refuse even the
commit's change, as they would refuse a person's).

The projects come from git bundles in ../shared/repos, cloned under build/bench_history/
(read at run time only). How each runs its tests here:

- jinja, starlette (Python): pytest on the commit's test modules with the copy's src/ (or
  its root) first on PYTHONPATH, under an interpreter of its own: a virtual environment
  made at build/bench_history/venv with the packages their tests need, pinned
  (`TEST_PACKAGES`), so the project's .venv is never touched;
- anyhow (Rust): `cargo test --offline --test NAME` for each top-level test file. Its
  dev-dependencies (futures, rustversion, syn, thiserror, trybuild) are not in the cargo
  cache and cannot be fetched offline, so the task's tree has them removed from
  Cargo.toml (a tree committed that way, so `cargo check` runs too): tests that use them
  do not compile and are dropped by (b), the others run as written. The installed stable
  toolchain is used whatever rust-toolchain.toml asks (`RUST_HERE`: its rust-src
  component is not installed and cannot be fetched);
- ky (TypeScript) is not used: its tests need node_modules (ava, typescript, express,
  playwright) that are not here and cannot be installed offline, and node 22, where
  this machine has 20.

Mined and validated tasks are cached in build/bench_history/tasks.json, keyed by each
bundle's head and `MINING_VERSION`, so later runs skip the validation.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

WORK = Path(__file__).parents[1] / "build" / "bench_history"
SHARED = Path(__file__).parents[2] / "shared" / "repos"
MINING_VERSION = 2
"""Raised when what is mined or how it is checked changes: the cached task list is
mined again."""
TEST_PACKAGES = ("pytest==8.4.1", "trio==0.30.0", "anyio==4.9.0", "httpx==0.28.1",
                 "itsdangerous==2.2.0", "python-multipart==0.0.20", "pyyaml==6.0.2",
                 "jinja2==3.1.6", "markupsafe==3.0.2", "typing_extensions==4.14.1")
"""What jinja's and starlette's tests import, pinned near their heads' dates (Jinja2 is
starlette's; jinja's own tests import the copy, first on the path)."""
MAX_LINES = 15
TIMEOUT = 300


@dataclass(frozen=True)
class Project:
    name: str
    language: str
    extension: str
    """Of its source and test files."""
    held_out: bool
    """Kept out of development: reported apart, as the held-out figure."""
    unusable: str = ""
    """Why its tasks cannot be checked here ("" when they can)."""


PROJECTS = {
    "jinja": Project("jinja", "python", ".py", held_out=False),
    "anyhow": Project("anyhow", "rust", ".rs", held_out=False),
    "starlette": Project("starlette", "python", ".py", held_out=True),
    "ky": Project("ky", "typescript", ".ts", held_out=True,
                  unusable="its tests need node_modules (ava, typescript, express, "
                           "playwright) that cannot be installed offline, and node >= 22 "
                           "(this machine has 20)"),
}
NOT_SOURCE = ("docs/", "doc/", "examples/", "example/", "scripts/", "benches/", ".github/")


@dataclass(frozen=True)
class HistoryTask:
    project: str
    commit: str
    parent: str
    date: str
    source: str
    """The one source file the commit changes: the file to edit (`--files`)."""
    tests: tuple[str, ...]
    """The test files the commit adds or changes, laid over the parent's for the check."""
    targets: tuple[str, ...]
    """What the test runner is given: test modules (Python) or test names (Rust)."""
    instruction: str
    changed_lines: int
    stale_tests: bool = False
    """The parent's versions of the tests fail with the commit's source."""
    validate_s: float = 0.0

    @property
    def kind(self) -> str:
        return "history"

    @property
    def check(self) -> str:
        return f"{runner_name(self.project)} {' '.join(self.targets)}"


# -- the repositories -------------------------------------------------------------------

GIT_ENV = {"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "LC_ALL": "C", "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00"}
"""Git as the benchmark runs it: no user or system config, a fixed author and date."""


def git_bytes(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True,
                          env={**GIT_ENV, "HOME": str(WORK)}, check=True).stdout


def git(repo: Path, *args: str) -> str:
    return git_bytes(repo, *args).decode("utf-8", "replace")


def clone(name: str) -> Path:
    """The project's history, cloned from its bundle (kept for later runs)."""
    bundle = SHARED / f"{name}.bundle"
    target = WORK / "repos" / name
    if not (target / ".git").is_dir():
        if not bundle.is_file():
            raise SystemExit(f"{bundle} is missing: the history tasks need ../shared/repos")
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", str(bundle), str(target)], check=True)
    return target


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def extract(repo: Path, commit: str, dest: Path) -> None:
    """The commit's tree, written to `dest` (no .git)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = git_bytes(repo, "archive", "--format=tar", commit)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def show(repo: Path, commit: str, path: str) -> bytes:
    return git_bytes(repo, "show", f"{commit}:{path}")


# -- mining -----------------------------------------------------------------------------

def is_test(project: Project, path: str) -> bool:
    p = PurePosixPath(path)
    if project.language == "rust":
        return path.startswith("tests/")
    return bool({"tests", "test"} & set(p.parts[:-1])) or p.name.startswith("test_") \
        or p.name.endswith(("_test.py", ".test.ts"))


def targets_of(project: Project, tests: list[str]) -> list[str]:
    if project.language == "rust":
        return [PurePosixPath(t).stem for t in tests
                if len(PurePosixPath(t).parts) == 2 and t.endswith(".rs")]
    return [t for t in tests if PurePosixPath(t).name.startswith("test_")
            and t.endswith(".py")]


TRAILER = re.compile(r"(?i)^(?:[a-z]+(?:-[a-z]+)*-by|cc|change-id|fix(?:es|ed)?|close[sd]?|"
                     r"resolve[sd]?|refs?|see-also|issue|pr)\s*:\s*\S")
"""A trailer line (Co-authored-by:, Signed-off-by:, Fixes: ...)."""
ISSUE_WORDS = r"(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?|refs?|see|part of|related to)"


def instruction_of(message: str) -> str:
    """The commit's message as a person's request: subject and body, issue and pull-request
    numbers, their links and the trailers taken out."""
    lines = message.strip().splitlines()
    while len(lines) > 1 and (TRAILER.match(lines[-1].strip()) or not lines[-1].strip()):
        lines.pop()  # the trailers and the blank line before them; never the subject
    text = "\n".join(line.rstrip() for line in lines)
    text = re.sub(rf"(?im)^\s*[-*]?\s*{ISSUE_WORDS}:?\s+(?:#|GH-|https?://\S+)\S*[.,]?\s*$",
                  "", text)
    text = re.sub(r"https?://github\.com/\S+/(?:issues|pull)/\d+\S*", "", text)
    text = re.sub(rf"(?i)\b{ISSUE_WORDS}:?\s+(?:#|GH-)\d+", "", text)
    text = re.sub(r"\s*\((?:#|GH-)\d+(?:,\s*(?:#|GH-)\d+)*\)", "", text)
    text = re.sub(r"(?<![\w&])(?:#|GH-)\d+\b", "", text)
    text = re.sub(r"[ \t]+([.,;:])", r"\1", text)
    text = re.sub(r"(?m)^[ \t]*[:,;.][ \t]*", "", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"(?m)[ \t]+$", "", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


@dataclass(frozen=True)
class Candidate:
    commit: str
    parent: str
    date: str
    source: str
    tests: tuple[str, ...]
    changed_lines: int


def candidates(repo: Path, project: Project) -> list[Candidate]:
    """Commits, newest first, that change exactly one source file by 1..MAX_LINES lines
    (added and removed) and add or change tests, with nothing else of code deleted."""
    log = git(repo, "log", "--no-merges", "--no-renames", "--format=%x00%H %P %cI",
              "--numstat", "HEAD")
    found = []
    for block in log.split("\x00")[1:]:
        first, _, rest = block.partition("\n")
        fields = first.split()
        if len(fields) != 3:
            continue  # a root commit has no parent
        commit, parent, date = fields
        rows = [line.split("\t") for line in rest.splitlines() if line.count("\t") == 2]
        code = [r for r in rows if r[2].endswith(project.extension)
                and not r[2].startswith(NOT_SOURCE)]
        tests = [r for r in code if is_test(project, r[2])]
        sources = [r for r in code if not is_test(project, r[2])]
        if len(sources) != 1 or not tests or "-" in sources[0][:2]:
            continue
        changed = int(sources[0][0]) + int(sources[0][1])
        if not 1 <= changed <= MAX_LINES:
            continue
        found.append(Candidate(commit, parent, date, sources[0][2],
                               tuple(sorted(r[2] for r in tests)), changed))
    return found


def status_of(repo: Path, c: Candidate) -> dict[str, str]:
    out = git(repo, "diff", "--no-renames", "--name-status", c.parent, c.commit)
    return {line.split("\t")[-1]: line.split("\t")[0] for line in out.splitlines()}


# -- running the check ------------------------------------------------------------------

def test_file(project: Project, target: str) -> str:
    """The file a test target is."""
    return f"tests/{target}.rs" if project.language == "rust" else target


def runner_name(project: str) -> str:
    return "cargo test --offline --test" if PROJECTS[project].language == "rust" \
        else "pytest"


def test_python() -> Path:
    """The interpreter the Python projects' tests run under (made once, with
    TEST_PACKAGES)."""
    venv = WORK / "venv"
    python = venv / "bin" / "python"
    stamp = venv / "packages.txt"
    wanted = "\n".join(TEST_PACKAGES)
    if python.is_file() and stamp.is_file() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *TEST_PACKAGES],
                   check=True)
    stamp.write_text(wanted)
    return python


def strip_dev_dependencies(tree: Path) -> None:
    """Cargo.toml without [dev-dependencies] (they cannot be fetched offline)."""
    manifest = tree / "Cargo.toml"
    text = manifest.read_text()
    manifest.write_text(re.sub(r"(?ms)^\[dev-dependencies\]\n.*?(?=^\[|\Z)", "", text))


def prepare(project: Project, tree: Path) -> None:
    """What a tree of this project needs before it can be checked here."""
    if project.language == "rust":
        strip_dev_dependencies(tree)


RUST_HERE = {"RUSTUP_TOOLCHAIN": "stable", "RUSTUP_AUTO_INSTALL": "0"}
"""The installed toolchain, whatever a rust-toolchain.toml asks for: its components
(rust-src) are not installed here and cannot be fetched."""


def environment(project: Project, tree: Path) -> dict[str, str]:
    cargo = Path.home() / ".cargo" / "bin"
    env = {"PATH": f"{test_python().parent}:{cargo}:/usr/local/bin:/usr/bin:/bin",
           "HOME": str(Path.home()), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
           "RUST_BACKTRACE": "0", "RUST_LIB_BACKTRACE": "0", "CARGO_TERM_COLOR": "never",
           **RUST_HERE}
    if project.language == "python":
        env["PYTHONPATH"] = str(tree / "src" if (tree / "src").is_dir() else tree)
    if project.language == "rust":
        env["CARGO_TARGET_DIR"] = str(WORK / "cargo-target" / project.name)
    for name in ("RUSTUP_HOME", "CARGO_HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_tests(project: Project, tree: Path, targets: tuple[str, ...]) -> tuple[bool, str]:
    """The given tests run in `tree`; whether they pass, and the last line they printed."""
    if project.language == "rust":
        command = ["cargo", "test", "--offline", "--quiet"]
        for name in targets:
            command += ["--test", name]
    else:
        command = [str(test_python()), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                   "-x", *(f"./{t}" for t in targets)]
    try:
        done = subprocess.run(command, cwd=tree, capture_output=True, text=True,
                              timeout=TIMEOUT, env=environment(project, tree))
    except subprocess.TimeoutExpired:
        return False, "the tests timed out"
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return done.returncode == 0, (lines[-1] if lines else "")


def check_tree(task: HistoryTask, tree: Path) -> tuple[bool, str]:
    """The task's check on an edited tree: the tree copied to a scratch folder, the
    commit's test files laid over it, the tests run."""
    project = PROJECTS[task.project]
    repo = clone(task.project)
    with tempfile.TemporaryDirectory(prefix=f"check-{task.project}-") as tmp:
        scratch = Path(tmp) / "tree"
        shutil.copytree(tree, scratch, symlinks=True,
                        ignore=shutil.ignore_patterns(".git"))
        prepare(project, scratch)
        for path in task.tests:
            (scratch / path).parent.mkdir(parents=True, exist_ok=True)
            (scratch / path).write_bytes(show(repo, task.commit, path))
        return run_tests(project, scratch, task.targets)


# -- validation -------------------------------------------------------------------------

def validate(repo: Path, project: Project, c: Candidate) -> tuple[HistoryTask | None, str]:
    """The task if the commit's tests fail with the parent's source and pass with the
    commit's; else None and why not."""
    status = status_of(repo, c)
    if status.get(c.source) != "M":
        return None, "the source file is new"
    if any(status.get(t) not in ("A", "M") for t in c.tests):
        return None, "a test file is deleted"
    targets = tuple(targets_of(project, list(c.tests)))
    if not targets:
        return None, "no test module among the changed tests"
    message = git(repo, "log", "-1", "--format=%B", c.commit)
    said = instruction_of(message)
    if len(said.split()) < 3:
        return None, f"the message says too little: {said!r}"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"validate-{project.name}-") as tmp:
        tree = Path(tmp) / "tree"
        extract(repo, c.parent, tree)
        prepare(project, tree)
        new_tests = {t: show(repo, c.commit, t) for t in c.tests}
        old_tests = {t: (tree / t).read_bytes() for t in c.tests if (tree / t).is_file()}
        for path, data in new_tests.items():
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            (tree / path).write_bytes(data)
        before, _ = run_tests(project, tree, targets)
        if before:
            return None, "its tests pass on the parent already"
        (tree / c.source).write_bytes(show(repo, c.commit, c.source))
        after, line = run_tests(project, tree, targets)
        if not after:
            return None, f"its tests fail with its own change: {line[:100]}"
        stale = False
        if old_tests:
            for path in new_tests:
                if path in old_tests:
                    (tree / path).write_bytes(old_tests[path])
                else:
                    (tree / path).unlink()
            old_targets = tuple(t for t in targets if (tree / test_file(project, t)).is_file())
            if old_targets:
                stale = not run_tests(project, tree, old_targets)[0]
    seconds = time.perf_counter() - started
    return HistoryTask(project.name, c.commit, c.parent, c.date, c.source, c.tests, targets,
                       said, c.changed_lines, stale, round(seconds, 2)), ""


def mine(names: list[str], per_project: int, refresh: bool = False,
         say: Callable[[str], None] = print) -> list[HistoryTask]:
    """Up to `per_project` validated tasks per project, the most recent first (cached)."""
    cache = WORK / "tasks.json"
    stored: dict[str, dict[str, Any]] = {}
    if cache.is_file() and not refresh:
        stored = json.loads(cache.read_text())
    tasks: list[HistoryTask] = []
    for name in names:
        project = PROJECTS[name]
        if project.unusable:
            say(f"{name}: not used ({project.unusable})")
            continue
        repo = clone(name)
        key = f"{head(repo)}:{MINING_VERSION}:{MAX_LINES}:{per_project}"
        entry = stored.get(name)
        if entry is not None and entry.get("key") == key:
            kept = [HistoryTask(**{**t, "tests": tuple(t["tests"]),
                                   "targets": tuple(t["targets"])})
                    for t in entry["tasks"]]
            say(f"{name}: {len(kept)} task(s) from {cache} (mined at {head(repo)[:10]})")
            tasks += kept
            continue
        started = time.perf_counter()
        found: list[HistoryTask] = []
        tried = 0
        dropped: dict[str, int] = {}
        for c in candidates(repo, project):
            if len(found) >= per_project:
                break
            tried += 1
            task, why = validate(repo, project, c)
            if task is None:
                reason = why.split(":")[0]
                dropped[reason] = dropped.get(reason, 0) + 1
                say(f"  {name} {c.commit[:10]} dropped: {why}")
                continue
            say(f"  {name} {c.commit[:10]} kept ({task.validate_s:.1f} s"
                + (", stale tests" if task.stale_tests else "") + "): "
                + task.instruction.splitlines()[0][:70])
            found.append(task)
        seconds = time.perf_counter() - started
        say(f"{name}: {len(found)} task(s) of {tried} candidate(s) tried, validated in "
            f"{seconds:.0f} s; dropped: "
            + (", ".join(f"{n} {why}" for why, n in sorted(dropped.items())) or "none"))
        stored[name] = {"key": key, "seconds": round(seconds, 1), "tried": tried,
                        "dropped": dropped, "tasks": [asdict(t) for t in found]}
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(stored, indent=1))
        tasks += found
    return tasks


def parent_tree(task: HistoryTask, dest: Path) -> None:
    """The task's work tree at `dest`: the parent's files, made ready to check here,
    committed as one commit (so that what an edit writes shows in `git status`)."""
    if dest.exists():
        shutil.rmtree(dest)
    extract(clone(task.project), task.parent, dest)
    prepare(PROJECTS[task.project], dest)
    for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                    ["commit", "-q", "-m", f"{task.project} at {task.parent[:10]}"]):
        git(dest, *command)
