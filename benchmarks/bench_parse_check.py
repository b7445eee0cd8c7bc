"""Whether the review's parse check names the line a syntax error was made on, in real code.

    python benchmarks/bench_parse_check.py attrs==25.3.0 rich==14.1.0 [--per-module 0]

Each project is taken as its source distribution from PyPI (as bench_real.py does).
In every Python module that parses, every one-line statement inside a function is
changed, one at a time, and the file before and after is given to the check that
`codectx review` runs on each changed file and the edit's syntax gate runs on each
reply (`assistant/edits/syntax.py`, tree-sitter):

- syntax errors: a call's closing parenthesis dropped, an `if`/`while` line's colon
  dropped; each alone, and again with a function added at the end of the module (a
  second place the change wrote, where the parser's recovery also reports errors);
  each is reported on the broken line, within two lines of it, elsewhere, or not at
  all;
- harmless changes: a comment added above a `return`, `return X` written as
  `result = X` then `return result`; any report on one is a false finding.

Target: at least 95% of the syntax errors reported on the changed line, and no
false finding. No model runs; prints the counts per project and the check's
median time per file.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_real import fetch
from bench_review_findings import BUGS, HARMLESS, Mutation, single_line_statements

from codectx.assistant.edits.plan import FileChange
from codectx.assistant.edits.syntax import problem


def _colon_dropped(line: str) -> str | None:
    body = line.strip()
    if body.startswith(("if ", "while ", "elif ")) and body.endswith(":"):
        return line.rstrip()[:-1]
    return None


ERRORS: dict[str, Mutation] = {"closing ) dropped": BUGS["closing ) dropped"],
                               "colon dropped": _colon_dropped}
ADDED = "\n\ndef _added_by_the_change(value):\n    return value\n"


def _place(reported: int | None, line: int) -> str:
    if reported is None:
        return "not reported"
    if reported == line:
        return "on the line"
    return "within 2 lines" if abs(reported - line) <= 2 else "elsewhere"


def measure(root: Path, per_module: int) -> tuple[Counter[str], list[float]]:
    counts: Counter[str] = Counter()
    seconds: list[float] = []
    for module in sorted(root.rglob("*.py")):
        source = module.read_text(encoding="utf-8", errors="replace")
        if problem(FileChange(module.name, "create", None, source)) is not None:
            counts["modules that do not parse (left out)"] += 1
            continue
        try:
            numbers = sorted(single_line_statements(source))
        except SyntaxError:
            continue
        lines = source.splitlines(keepends=True)
        done = 0
        for number in numbers:
            if per_module and done >= per_module:
                break
            for kind, mutation in {**ERRORS, **HARMLESS}.items():
                after = mutation(lines[number - 1].rstrip("\n"))
                if after is None:
                    continue
                changed = "".join([*lines[:number - 1], after + "\n", *lines[number:]])
                for text in (changed, changed + ADDED):
                    started = time.perf_counter()
                    found = problem(FileChange(module.name, "modify", source, text))
                    seconds.append(time.perf_counter() - started)
                    if kind in ERRORS:
                        counts["syntax errors"] += 1
                        counts[_place(found.line if found else None, number)] += 1
                    else:
                        counts["harmless changes"] += 1
                        counts["false findings"] += found is not None
                done += 1
    return counts, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("projects", nargs="+")
    parser.add_argument("--per-module", type=int, default=0,
                        help="changes per module at most (0: every one-line statement)")
    args = parser.parse_args()
    for project in args.projects:
        counts, seconds = measure(fetch(project), args.per_module)
        errors = counts["syntax errors"]
        on_line = counts["on the line"]
        met = errors and on_line >= 0.95 * errors and counts["false findings"] == 0
        print(f"{project}: {errors} syntax errors: {on_line} on the line "
              f"({100 * on_line / max(errors, 1):.1f}%), {counts['within 2 lines']} within two "
              f"lines, {counts['elsewhere']} elsewhere, {counts['not reported']} not reported; "
              f"{counts['false findings']} false findings on {counts['harmless changes']} "
              f"harmless changes; median check {1000 * statistics.median(seconds):.1f} ms per "
              f"file; {counts['modules that do not parse (left out)']} modules left out "
              f"(they do not parse); target {'met' if met else 'NOT met'}", flush=True)


if __name__ == "__main__":
    main()
