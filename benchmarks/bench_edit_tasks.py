"""Small edit tasks done with the embedded model, checked by running the edited code.

Three fixture repositories (Python, JavaScript, Go) are written to a temporary
directory and made git repositories. Each task is an instruction, the file it
names (`--files`) and a check that runs the edited code (a Python snippet,
`node`, `go test`). For each edit format the script asks the embedded model
for every task through `Session.edit` (the grammar, the guard and one retry
included, as `codectx edit --apply` does), applies the plan when there is one,
runs the check, and puts the repository back. It prints, per format: tasks
done right, replies refused, files touched outside the task (must be 0),
files deleted (must be 0), and the mean time per task. Target: at least 70% of
the tasks done right with the embedded model's default format.

    python benchmarks/bench_edit_tasks.py [--formats definitions,whole,search-replace]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from codectx import config
from codectx.assistant.session import EditProposal, Session

PY = {
    "stats.py": ("def mean(values):\n    return sum(values) / len(values)\n\n\n"
                 "def spread(values):\n    return max(values) - min(values)\n"),
    "store.py": ("class Store:\n    def __init__(self):\n        self.items = []\n\n"
                 "    def add(self, item):\n        self.items.append(item)\n"),
    "text.py": ("def greet(name):\n    return 'hi ' + name\n\n\n"
                "def shout(text):\n    return text\n"),
    "main.py": "from stats import mean\n\nprint(mean([1, 2, 3]))\n",
}
JS = {
    "math.js": ("export function add(a, b) {\n  return a + b;\n}\n\n"
                "export function subtract(a, b) {\n  return a + b;\n}\n"),
    "strings.js": ('export function greet(name) {\n  return "Hello " + name;\n}\n'),
    "package.json": '{"type": "module"}\n',
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
    outside: int = 0
    deleted: int = 0
    seconds: float = 0.0
    run: int = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", default="definitions,whole,search-replace")
    args = parser.parse_args()
    have_go = shutil.which("go") is not None
    tasks = [t for t in TASKS if t.repo != "go" or have_go]
    work = Path(tempfile.mkdtemp(prefix="codectx-edit-tasks-"))
    for name, files in REPOS.items():
        make_repo(work / name, files)
    tallies: dict[str, Tally] = {}
    for fmt in args.formats.split(","):
        tally = tallies[fmt] = Tally()
        sessions: dict[str, Session] = {}
        for task in tasks:
            root = work / task.repo
            session = sessions.get(task.repo)
            if session is None:
                session = sessions[task.repo] = Session(root, config.load(root))
            before = snapshot(root)
            started = time.perf_counter()
            proposal = [item for item in session.edit(task.instruction, files=[task.file],
                                                      fmt=fmt)
                        if isinstance(item, EditProposal)][-1]
            tally.seconds += time.perf_counter() - started
            tally.run += 1
            if proposal.plan.ok:
                session.apply(proposal.plan)
            else:
                tally.refused += 1
            after = snapshot(root)
            changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
            tally.outside += len(changed - {task.file})
            tally.deleted += len(before.keys() - after.keys())
            ok = proposal.plan.ok and run_check(task, root)
            tally.right += ok
            print(f"{fmt:15} {'right' if ok else 'wrong'} "
                  f"{'' if proposal.plan.ok else '(refused) '}{task.instruction[:70]}",
                  flush=True)
            git(root, "reset", "-q", "--hard")
            git(root, "clean", "-qfdx")
    print()
    if not have_go:
        print("go is not installed: the 5 Go tasks were not run")
    print(f"{'format':15} {'right':>12} {'refused':>8} {'outside':>8} {'deleted':>8} "
          f"{'s/task':>7}")
    for fmt, t in tallies.items():
        share = t.right / t.run if t.run else 0.0
        print(f"{fmt:15} {t.right:>3}/{t.run:<3} {share:4.0%} {t.refused:>8} {t.outside:>8} "
              f"{t.deleted:>8} {t.seconds / max(t.run, 1):7.1f}")
    default = next(iter(tallies.values()))
    met = default.run and default.right / default.run >= 0.7
    print(f"target (>= 70% right with the default format, {next(iter(tallies))}): "
          f"{'met' if met else 'not met'}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
