"""`codectx chat` with the embedded model in a pseudo-terminal: ask, see an answer, quit."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.conftest import write_tree

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[PX^_].*?\x1b\\|\x1b\][^\x07]*\x07|\x1b.")


def read_until(fd: int, pattern: bytes, seconds: float, seen: bytearray) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen.extend(os.read(fd, 65536))
            except OSError:
                return False
            if pattern in ANSI.sub(b"", bytes(seen)).replace(b" ", b""):
                return True
    return False


@pytest.mark.model
def test_chat_answers_a_question_in_a_terminal(tmp_path: Path) -> None:
    write_tree(tmp_path / "repo", {
        "units.py": "INCH_CM = 2.54\n\n\ndef inches_to_cm(x: float) -> float:\n"
                    "    return x * INCH_CM\n"})
    primary, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "CODECTX_MAX_ANSWER_TOKENS": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "codectx", "chat", str(tmp_path / "repo")],
                            stdin=secondary, stdout=secondary, stderr=secondary, env=env,
                            start_new_session=True)
    os.close(secondary)
    seen = bytearray()
    try:
        assert read_until(primary, b"cache:warm", 180, seen), "the prefix was never warmed"
        os.write(primary, b"What is the value of INCH_CM? Reply with the number only.\r")
        answer = bytearray()  # only what is drawn after the question was sent
        assert read_until(primary, b"2.54", 180, answer), "no answer on the screen"
        os.write(primary, b"\x11")  # ctrl+q
        proc.wait(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(primary)
