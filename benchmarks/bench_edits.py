"""How reliably and how fast model replies become file changes.

Replays the table of realistic model replies (tests/assistant/edit_cases.py)
through parse -> plan -> apply on real files, and prints the success rate on
the recoverable cases (target >= 95%), the number of files written by the
unrecoverable ones (target: zero), and the time to plan and apply an edit of
20 files of 200 lines each (median of 20 runs).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
from codectx.assistant.edits.guard import Request, plan_reply
from codectx.assistant.edits.journal import apply_plan
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.plan import plan_edits
from tests.assistant.edit_cases import CASES, Case


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file()}


def run_case(case: Case, work: Path) -> tuple[bool, int]:
    """(the outcome is the expected one, files written)."""
    root = work / "repo"
    root.mkdir()
    for path, text in case.files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text.encode())
    before = snapshot(root)
    request = Request(case.instruction) if case.instruction is not None else None
    plan, _ = plan_reply(case.reply, root, case.fmt or "whole", request)
    if plan.ok:
        apply_plan(plan, root, work / "journal")
    after = snapshot(root)
    written = len({p for p in before.keys() | after.keys() if before.get(p) != after.get(p)})
    if case.recoverable:
        expected = dict(before)
        for path, new in case.after.items():
            if new is None:
                expected.pop(path, None)
            else:
                expected[path] = new.encode()
        return after == expected, written
    return written == 0, written


def twenty_file_edit(work: Path) -> float:
    root = work / "big"
    root.mkdir()
    reply = []
    for i in range(20):
        lines = [f"def f_{i}_{k}(x):\n    return x * {k} + {i}\n" for k in range(100)]
        (root / f"mod_{i}.py").write_text("".join(lines))
        reply.append(f"mod_{i}.py\n<<<<<<< SEARCH\ndef f_{i}_50(x):\n    return x * 50 + {i}\n"
                     f"=======\ndef f_{i}_50(x):\n    return x * 51 + {i}\n>>>>>>> REPLACE\n")
    text = "\n".join(reply)
    timings = []
    for n in range(20):
        started = time.perf_counter()
        plan = plan_edits(parse_reply(text).edits, root)
        assert plan.ok and len(plan.changes) == 20
        apply_plan(plan, root, work / f"journal{n}")
        timings.append(time.perf_counter() - started)
        for change in plan.changes:  # put the files back for the next run
            (root / change.path).write_text(change.before or "")
    return statistics.median(timings)


def main() -> None:
    recoverable = [c for c in CASES if c.recoverable]
    refused = [c for c in CASES if not c.recoverable]
    ok = 0
    stray_writes = 0
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            right, written = run_case(case, Path(tmp))
        if case.recoverable:
            ok += right
            if not right:
                print(f"  not recovered: {case.name}")
        else:
            stray_writes += written
    with tempfile.TemporaryDirectory() as tmp:
        median = twenty_file_edit(Path(tmp))
    print(f"recoverable replies applied as expected: {ok}/{len(recoverable)} "
          f"({ok / len(recoverable):.0%}; target >= 95%)")
    print(f"files written by the {len(refused)} unrecoverable replies: {stray_writes} "
          "(target: 0)")
    print(f"plan and apply a 20-file edit (200 lines each): {median * 1000:.1f} ms (median of 20)")


if __name__ == "__main__":
    main()
