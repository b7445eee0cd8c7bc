"""Small edit tasks done with the embedded model, checked by running the edited code.

Three fixture repositories (Python, JavaScript, Go) are written to a temporary
directory and made git repositories; the Python and JavaScript ones have tests of
their own for behaviour no task changes, and are trusted, as a user trusts their
own project. Each task is an instruction, the file it names (`--files`) and a
check that runs the edited code (a Python snippet, `node`, `go test`), which the
model never sees. For each edit format, with the project's checks off and on
(`--checks`), the script asks the model for every task through `editing.edit`
(the grammar, the guard, the syntax gate, the checks and their retries included,
as `codectx edit --apply` does), applies the plan when there is one whose checks
pass, runs the task's check, and puts the repository back. It prints, per format
and checks setting: tasks done right, replies refused in the end, replies refused
by the syntax gate, changes undone by a failing check, retries that fixed one,
files touched outside the task (must be 0), files deleted (must be 0), and the
mean time per task; then the tasks that checks made worse, and the time ratio.

Targets: with the embedded model's default format and checks on, at least 90% of
the tasks right, no task worse than with checks off, and at most 1.5x the time
per task of checks off.

    python benchmarks/bench_edit_tasks.py [--formats definitions,whole,search-replace]
        [--checks off,on] [--model NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from codectx import config
from codectx.assistant import editing
from codectx.assistant.session import EditProposal, Session

PY = {
    "stats.py": ("def mean(values):\n    return sum(values) / len(values)\n\n\n"
                 "def spread(values):\n    return max(values) - min(values)\n"),
    "store.py": ("class Store:\n    def __init__(self):\n        self.items = []\n\n"
                 "    def add(self, item):\n        self.items.append(item)\n"),
    "text.py": ("def greet(name):\n    return 'hi ' + name\n\n\n"
                "def shout(text):\n    return text\n"),
    "main.py": "from stats import mean\n\nprint(mean([1, 2, 3]))\n",
    "tests/test_existing.py": ("from stats import mean, spread\nfrom store import Store\n\n\n"
                               "def test_mean():\n    assert mean([2, 4]) == 3\n\n\n"
                               "def test_spread():\n    assert spread([1, 5]) == 4\n\n\n"
                               "def test_add():\n    s = Store()\n    s.add(1)\n"
                               "    assert s.items == [1]\n"),
}
JS = {
    "math.js": ("export function add(a, b) {\n  return a + b;\n}\n\n"
                "export function subtract(a, b) {\n  return a + b;\n}\n"),
    "strings.js": ('export function greet(name) {\n  return "Hello " + name;\n}\n'),
    "package.json": '{"type": "module", "scripts": {"test": "node test.mjs"}}\n',
    "test.mjs": ("import { add } from './math.js';\n"
                 "if (add(2, 3) !== 5) { console.error('add is wrong'); process.exit(1); }\n"),
}
GO = {
    "go.mod": "module example.com/calc\n\ngo 1.19\n",
    "calc.go": ("package calc\n\n// Max returns the largest value.\nfunc Max(v []int) int {\n"
                "\treturn v[0]\n}\n\n// Greeting says hello.\nfunc Greeting() string {\n"
                '\treturn "hello"\n}\n'),
}


@dataclass(frozen=True)
class Task:
    repo: str
    file: str
    instruction: str
    check: str
    """python: a snippet run in the repository; node: a module; go: a test file's body."""


def py(file: str, instruction: str, check: str) -> Task:
    return Task("python", file, instruction, check)


def js(file: str, instruction: str, check: str) -> Task:
    return Task("javascript", file, instruction, check)


def go(instruction: str, check: str) -> Task:
    return Task("go", "calc.go", instruction, check)


TASKS = [
    py("stats.py", "In stats.py add a function median(values) that returns the middle value "
       "of the sorted values", "from stats import median, mean\nassert median([3, 1, 2]) == 2"
       "\nassert mean([2, 4]) == 3"),
    py("stats.py", "In stats.py add a function total(values) that returns the sum of the "
       "values", "from stats import total, spread\nassert total([1, 2, 3]) == 6\n"
       "assert spread([1, 5]) == 4"),
    py("stats.py", "In stats.py make spread return 0 for an empty list",
       "from stats import spread\nassert spread([]) == 0\nassert spread([2, 7]) == 5"),
    py("store.py", "In store.py add a method remove(item) to the Store class that removes the "
       "item", "from store import Store\ns = Store()\ns.add(1)\ns.add(2)\ns.remove(1)\n"
       "assert s.items == [2]"),
    py("store.py", "In store.py add a method count() to the Store class that returns how many "
       "items it holds", "from store import Store\ns = Store()\ns.add('a')\n"
       "assert s.count() == 1"),
    py("store.py", "In store.py add a class Counter with a method increment() that adds one "
       "to its attribute value, which starts at 0", "from store import Counter, Store\n"
       "c = Counter()\nc.increment()\nc.increment()\nassert c.value == 2\nStore().add(1)"),
    py("text.py", "In text.py make greet say 'hello ' instead of 'hi '",
       "from text import greet\nassert greet('ann') == 'hello ann'"),
    py("text.py", "In text.py make shout return the text in upper case followed by '!'",
       "from text import shout, greet\nassert shout('hey') == 'HEY!'\n"
       "assert greet('x') == 'hi x'"),
    js("math.js", "In math.js add an exported function multiply(a, b) that returns a times b",
       "import { multiply, add } from './math.js';\nif (multiply(3, 4) !== 12 || add(1, 2) "
       "!== 3) process.exit(1);"),
    js("math.js", "In math.js fix subtract so that it returns a minus b",
       "import { subtract } from './math.js';\nif (subtract(5, 3) !== 2) process.exit(1);"),
    js("math.js", "In math.js add an exported function square(x) that returns x times x",
       "import { square } from './math.js';\nif (square(5) !== 25) process.exit(1);"),
    js("strings.js", "In strings.js add an exported function capitalize(s) that returns s "
       "with its first letter in upper case", "import { capitalize, greet } from "
       "'./strings.js';\nif (capitalize('abc') !== 'Abc' || greet('x') !== 'Hello x') "
       "process.exit(1);"),
    js("strings.js", "In strings.js make greet say \"Hi \" instead of \"Hello \"",
       "import { greet } from './strings.js';\nif (greet('ann') !== 'Hi ann') "
       "process.exit(1);"),
    js("strings.js", "In strings.js add an exported function reverse(s) that returns the "
       "string reversed", "import { reverse } from './strings.js';\n"
       "if (reverse('abc') !== 'cba') process.exit(1);"),
    js("math.js", "In math.js add an exported function negate(x) that returns minus x",
       "import { negate, add } from './math.js';\nif (negate(4) !== -4 || add(2, 2) !== 4) "
       "process.exit(1);"),
    go("In calc.go fix Max so that it returns the largest value of v",
       'if Max([]int{1, 9, 3}) != 9 { t.Fatal("max") }'),
    go("In calc.go add a function Sum(v []int) int that returns the sum of the values",
       'if Sum([]int{1, 2, 3}) != 6 { t.Fatal("sum") }'),
    go("In calc.go add a function Min(v []int) int that returns the smallest value",
       'if Min([]int{4, 2, 8}) != 2 { t.Fatal("min") }'),
    go("In calc.go make Greeting return \"hi\" instead of \"hello\"",
       'if Greeting() != "hi" { t.Fatal("greeting") }'),
    go("In calc.go add a function Double(x int) int that returns twice x",
       'if Double(21) != 42 { t.Fatal("double") }\nif Max([]int{5}) != 5 { t.Fatal("max") }'),
]
REPOS = {"python": PY, "javascript": JS, "go": GO}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
                        "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b",
                        "PATH": "/usr/bin:/bin:/usr/local/bin"})


def make_repo(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "fixture")


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts}


def run_check(task: Task, root: Path) -> bool:
    if task.repo == "python":
        command = [sys.executable, "-c", task.check]
    elif task.repo == "javascript":
        (root / "check.mjs").write_text(task.check + "\n")
        command = ["node", "check.mjs"]
    else:
        (root / "calc_check_test.go").write_text(
            f'package calc\n\nimport "testing"\n\nfunc TestTask(t *testing.T) {{\n'
            f"\t{task.check}\n}}\n")
        command = ["go", "test", "./..."]
    try:
        return subprocess.run(command, cwd=root, capture_output=True, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class Tally:
    right: int = 0
    refused: int = 0
    syntax: int = 0
    """Replies the syntax gate refused (any attempt)."""
    undone: int = 0
    """Changes undone by a failing check (any attempt)."""
    fixed: int = 0
    """Tasks right after a change of theirs failed a check."""
    outside: int = 0
    deleted: int = 0
    seconds: float = 0.0
    run: int = 0
    results: list[bool] = field(default_factory=list)


def do_task(session: Session, task: Task, root: Path, fmt: str, checks: bool,
            tally: Tally) -> bool:
    """One task: proposed, applied when it may be, its check run, the repository put back."""
    before = snapshot(root)
    started = time.perf_counter()
    proposal = [item for item in editing.edit(session, task.instruction, files=[task.file], fmt=fmt,
                                              check=checks)
                if isinstance(item, EditProposal)][-1]
    tally.seconds += time.perf_counter() - started
    tally.run += 1
    applies = proposal.plan.ok and not proposal.failed_checks
    if applies:
        editing.apply(session.root, session.loaded, proposal.plan)
    else:
        tally.refused += 1
    tally.syntax += sum(any("does not parse" in p for p in problems)
                        for problems in proposal.attempt_problems)
    failed_attempts = {c.attempt for c in proposal.checks if c.failed}
    tally.undone += len(failed_attempts)
    after = snapshot(root)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    tally.outside += len(changed - {task.file})
    tally.deleted += len(before.keys() - after.keys())
    ok = applies and run_check(task, root)
    tally.right += ok
    tally.fixed += ok and bool(failed_attempts)
    tally.results.append(ok)
    git(root, "reset", "-q", "--hard")
    git(root, "clean", "-qfdx")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", default="definitions,whole,search-replace")
    parser.add_argument("--checks", default="off,on", help="off, on, or both (off,on)")
    parser.add_argument("--model", default=None, help="A catalog name or GGUF path "
                        "(default: the configured model, else the embedded one).")
    args = parser.parse_args()
    modes = args.checks.split(",")
    if set(modes) - {"off", "on"}:
        parser.error("--checks takes off, on, or off,on")
    have_go = shutil.which("go") is not None
    tasks = [t for t in TASKS if t.repo != "go" or have_go]
    # The fixtures' own tests run with this interpreter (it has pytest).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    work = Path(tempfile.mkdtemp(prefix="codectx-edit-tasks-"))
    store = config.trust_store()
    flags = {"model": args.model} if args.model else {}
    for name, files in REPOS.items():
        make_repo(work / name, files)
        trust = config.load(work / name, flags).trust
        assert trust is not None
        store.grant(trust)  # the user's own project; forgotten at the end
    tallies: dict[tuple[str, str], Tally] = {}
    try:
        for fmt in args.formats.split(","):
            sessions: dict[str, Session] = {}
            for mode in modes:
                tally = tallies[fmt, mode] = Tally()
                for task in tasks:
                    root = work / task.repo
                    session = sessions.get(task.repo)
                    if session is None:
                        session = sessions[task.repo] = Session(root, config.load(root, flags))
                    ok = do_task(session, task, root, fmt, mode == "on", tally)
                    print(f"{fmt:15} checks {mode:3} {'right' if ok else 'wrong'} "
                          f"{task.instruction[:70]}", flush=True)
    finally:
        for name in REPOS:
            store.revoke((work / name).resolve())
        shutil.rmtree(work, ignore_errors=True)
    report(tallies, tasks, have_go)


def report(tallies: dict[tuple[str, str], Tally], tasks: list[Task], have_go: bool) -> None:
    print()
    if not have_go:
        print("go is not installed: the 5 Go tasks were not run")
    print(f"{'format':15} {'checks':6} {'right':>12} {'refused':>8} {'syntax':>7} "
          f"{'undone':>7} {'fixed':>6} {'outside':>8} {'deleted':>8} {'s/task':>7}")
    for (fmt, mode), t in tallies.items():
        share = t.right / t.run if t.run else 0.0
        print(f"{fmt:15} {mode:6} {t.right:>3}/{t.run:<3} {share:4.0%} {t.refused:>8} "
              f"{t.syntax:>7} {t.undone:>7} {t.fixed:>6} {t.outside:>8} {t.deleted:>8} "
              f"{t.seconds / max(t.run, 1):7.1f}")
    for fmt in dict.fromkeys(f for f, _ in tallies):
        off, on = tallies.get((fmt, "off")), tallies.get((fmt, "on"))
        if off is None or on is None:
            continue
        worse = [tasks[i].instruction for i, (a, b) in enumerate(
            zip(off.results, on.results, strict=True)) if a and not b]
        ratio = (on.seconds / max(on.run, 1)) / max(off.seconds / max(off.run, 1), 1e-9)
        print(f"{fmt}: time per task, checks on / off: {ratio:.2f}x; worse with checks on: "
              + ("none" if not worse else "; ".join(w[:60] for w in worse)))
    default = next(iter(tallies))[0]
    on = tallies.get((default, "on"))
    off = tallies.get((default, "off"))
    if on is not None and on.run:
        met = on.right / on.run >= 0.9
        print(f"target (>= 90% right with {default}, checks on): "
              f"{on.right}/{on.run}, {'met' if met else 'NOT met'}")
    if on is not None and off is not None and on.run and off.run:
        count = sum(a and not b for a, b in zip(off.results, on.results, strict=True))
        ratio = (on.seconds / on.run) / max(off.seconds / off.run, 1e-9)
        print(f"target (no task worse with checks on): {count} worse, "
              f"{'met' if not count else 'NOT met'}")
        print(f"target (time per task <= 1.5x with checks on): {ratio:.2f}x, "
              f"{'met' if ratio <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
