"""Running one check: its own process group, a time limit, and what it said.

A check starts a session of its own, so a time-out or a stop (Ctrl-C, a cancelled
turn) kills it and everything it started: a test runner's workers, a build's
compilers. Its output goes to a temporary file (a pipe would block a chatty check)
and is kept up to a bound. What goes back to the model is the output around its
first failure, bounded in tokens.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from codectx.assistant.checks.detect import Check

Status = Literal["passed", "failed", "timed out", "failed before", "stopped", "not run"]
KEEP_BYTES = 256_000
"""Output kept of one check (its head and tail)."""
GRACE_S = 2.0
"""After SIGTERM, how long a check's processes have before SIGKILL."""
TAIL_LINES = 12
FAILURE = re.compile(r"error|fail|traceback|exception|assert|panic|cannot|undefined|"
                     r"not defined|invalid", re.IGNORECASE)


@dataclass(frozen=True)
class CheckResult:
    name: str
    command: str
    status: Status
    seconds: float
    output: str
    attempt: int = 1
    """Which of the edit's attempts it checked."""

    @property
    def failed(self) -> bool:
        """Whether it counts against the change (a check that failed before it does not)."""
        return self.status in ("failed", "timed out")

    @property
    def output_tail(self) -> str:
        lines = self.output.rstrip().splitlines()
        return "\n".join(lines[-TAIL_LINES:])

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "command": self.command, "status": self.status,
                "seconds": round(self.seconds, 2), "output_tail": self.output_tail,
                "attempt": self.attempt}

    def line(self) -> str:
        """One line: the command, how it ended and in what time."""
        return f"{self.status}: {self.command} ({self.seconds:.1f} s)"


def report(results: Sequence[CheckResult], held_back: str | None) -> list[tuple[str, bool]]:
    """What a front end shows under a change, line by line, each with whether it tells of a
    failure: every check (command, how it ended, its time), the tail of what a failed one
    said, and what was held back."""
    lines: list[tuple[str, bool]] = []
    for result in results:
        lines.append((f"check {result.line()}", result.failed))
        if result.failed and result.output_tail:
            lines.append((result.output_tail, True))
    if held_back:
        lines.append((held_back, False))
    return lines


def environment(check: Check, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's environment with what the place of the run adds (`extra`) and what the
    check itself needs (its `env`), and no bytecode written beside the sources."""
    env = dict(os.environ)
    env.update(extra or {})
    env.update(check.env)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _kill(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGTERM)


def _kill_hard(group: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def _read(handle: IO[bytes]) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    if size <= KEEP_BYTES:
        data = handle.read()
    else:
        head = handle.read(KEEP_BYTES // 2)
        handle.seek(size - KEEP_BYTES // 2)
        data = head + b"\n...\n" + handle.read()
    return data.decode("utf-8", "replace")


def run_check(check: Check, root: Path, timeout: float,
              cancel: threading.Event | None = None, attempt: int = 1,
              env: Mapping[str, str] | None = None) -> CheckResult:
    """Run `check` in `root` within `timeout` seconds (a set `cancel` stops it too), with
    `env` added to the environment."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        try:
            proc = subprocess.Popen(check.argv, cwd=root, stdin=subprocess.DEVNULL,
                                    stdout=sink, stderr=subprocess.STDOUT,
                                    env=environment(check, env),
                                    start_new_session=True)
        except OSError as exc:
            return CheckResult(check.name, check.command, "not run",
                               time.perf_counter() - started,
                               f"could not start: {exc.strerror or exc}", attempt)
        status: Status | None = None
        try:
            while proc.poll() is None:
                if cancel is not None and cancel.is_set():
                    status = "stopped"
                elif time.perf_counter() - started > timeout:
                    status = "timed out"
                if status is not None:
                    _kill(proc.pid)
                    try:
                        proc.wait(GRACE_S)
                    except subprocess.TimeoutExpired:
                        _kill_hard(proc.pid)
                        proc.wait()
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(0.05)
        except BaseException:  # KeyboardInterrupt in a foreground run: the whole group goes
            _kill_hard(proc.pid)
            proc.wait()
            raise
        finally:
            _kill_hard(proc.pid)  # what it left running in the background goes with it
        seconds = time.perf_counter() - started
        output = _read(sink)
    if status == "timed out":
        output += f"\n(stopped after {timeout:g} s, the check_timeout setting)"
    final: Status = status or ("passed" if proc.returncode == 0 else "failed")
    return CheckResult(check.name, check.command, final, seconds, output, attempt)


def problem_lines(output: str) -> set[str]:
    """The lines of an output that report a problem, numbers left out (a change moves
    line numbers), to tell new problems from ones that were there before."""
    return {re.sub(r"\d+", "N", line.strip()) for line in output.splitlines()
            if FAILURE.search(line)}


def around_failure(output: str, max_tokens: int,
                   count: Callable[[str], int] | None = None) -> str:
    """The output from a little before its first failure on, within `max_tokens` tokens
    (`count`: the model's counter; without one, about four characters a token)."""
    lines = output.rstrip().splitlines()
    first = next((i for i, line in enumerate(lines) if FAILURE.search(line)), 0)
    text = "\n".join(lines[max(0, first - 3):])
    measure = count or (lambda s: (len(s) + 3) // 4)
    if measure(text) <= max_tokens:
        return text
    keep = max_tokens * 4
    while keep > 0:
        cut = text[:keep].rsplit("\n", 1)[0] if "\n" in text[:keep] else text[:keep]
        shown = cut + "\n..."
        if measure(shown) <= max_tokens:
            return shown
        keep = keep * 3 // 4
    return ""
