"""The protocol's pipes: stdout only for protocol messages, and bad lines answered, not fatal.

Before anything else runs, the real stdout is kept for the protocol and file
descriptor 1 is pointed at stderr, so nothing else (a library's print, the
C code of a model) can ever write into the protocol stream. Each line read
from stdin is checked before the SDK sees it: a line that is not JSON gets a
JSON-RPC parse error (-32700), a JSON value that is not a request,
notification or response gets an invalid-request error (-32600); the agent
goes on either way. At the end of stdin the SDK's connection ends, and so
does the agent.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import IO, Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
LINE_LIMIT = 50 * 1024 * 1024  # one message: a large file's text fits
_tasks: set[asyncio.Task[None]] = set()  # the line checker, kept alive


def protocol_stdout() -> IO[bytes]:
    """The real stdout, for the protocol alone; fd 1 (print, C code) goes to stderr after this."""
    sys.stdout.flush()
    kept = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(kept, "wb", buffering=0)


def _problem(line: bytes) -> tuple[int, str] | None:
    try:
        message = json.loads(line)
    except ValueError:
        return PARSE_ERROR, "Parse error: the line is not JSON"
    if not isinstance(message, dict):
        return INVALID_REQUEST, "Invalid Request: a message must be a JSON object"
    if "method" in message and not isinstance(message["method"], str):
        return INVALID_REQUEST, "Invalid Request: method must be a string"
    if "method" not in message and "id" not in message:
        return INVALID_REQUEST, "Invalid Request: neither a method nor an id"
    return None


async def streams(stdout: IO[bytes]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A reader of the checked lines of stdin, and a writer to the protocol's stdout."""
    loop = asyncio.get_running_loop()
    raw = asyncio.StreamReader(limit=LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(raw), sys.stdin)
    protocol = _WriteProtocol()
    transport, _ = await loop.connect_write_pipe(lambda: protocol, stdout)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    checked = asyncio.StreamReader(limit=LINE_LIMIT)
    _tasks.add(loop.create_task(_check_lines(raw, checked, writer)))
    return checked, writer


async def _check_lines(raw: asyncio.StreamReader, checked: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            line = await raw.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            line = exc.partial  # the last line, without a newline
        except asyncio.LimitOverrunError as exc:
            await _drop_line(raw, exc.consumed)
            _send(writer, None, INVALID_REQUEST, "Invalid Request: the message is too long")
            continue
        except (ConnectionError, OSError):
            line = b""
        if not line:
            checked.feed_eof()
            return
        if not line.strip():
            continue
        problem = _problem(line)
        if problem is None:
            checked.feed_data(line if line.endswith(b"\n") else line + b"\n")
        else:
            _send(writer, _id_of(line), *problem)


async def _drop_line(raw: asyncio.StreamReader, buffered: int) -> None:
    while True:
        await raw.readexactly(buffered)
        try:
            await raw.readuntil(b"\n")
            return
        except asyncio.LimitOverrunError as exc:
            buffered = exc.consumed
        except asyncio.IncompleteReadError:
            return


def _id_of(line: bytes) -> Any:
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message.get("id") if isinstance(message, dict) else None


def _send(writer: asyncio.StreamWriter, request_id: Any, code: int, message: str) -> None:
    error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
    writer.write((json.dumps(error) + "\n").encode())


class _WriteProtocol(asyncio.streams.FlowControlMixin, asyncio.Protocol):
    """What asyncio.StreamWriter needs of a pipe's protocol (drain)."""
