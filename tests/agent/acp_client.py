"""A test editor: the ACP SDK's client side, driving `codectx acp` as a real subprocess."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from acp import PROTOCOL_VERSION, Client, spawn_agent_process, text_block
from acp.client.connection import ClientSideConnection
from acp.schema import (
    AgentMessageChunk,
    AllowedOutcome,
    ClientCapabilities,
    DeniedOutcome,
    FileSystemCapabilities,
    ReadTextFileResponse,
    RequestPermissionResponse,
    TextContentBlock,
    WriteTextFileResponse,
)

from tests.conftest import scripted_env


class Editor:
    """Records what the agent sends; answers permission requests and file reads/writes."""

    def __init__(self, allow: bool | Callable[[Any], bool] = True,
                 buffers: dict[str, str] | None = None) -> None:
        """`allow`: the answer to every permission request, or a function of the tool
        call asked about."""
        self.allow = allow
        self.buffers = buffers or {}
        self.updates: list[Any] = []
        self.permissions: list[Any] = []
        self.written: dict[str, str] = {}
        self.read: list[str] = []

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.updates.append(update)

    async def request_permission(self, session_id: str, tool_call: Any, options: Any,
                                 **_: Any) -> RequestPermissionResponse:
        self.permissions.append(tool_call)
        if self.allow(tool_call) if callable(self.allow) else self.allow:
            return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected",
                                                                    option_id="apply"))
        return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))

    async def read_text_file(self, session_id: str, path: str, **_: Any) -> ReadTextFileResponse:
        self.read.append(path)
        if path in self.buffers:
            return ReadTextFileResponse(content=self.buffers[path])
        return ReadTextFileResponse(content=Path(path).read_text())

    async def write_text_file(self, session_id: str, path: str, content: str,
                              **_: Any) -> WriteTextFileResponse:
        self.written[path] = content
        Path(path).write_text(content)
        return WriteTextFileResponse()

    def text(self) -> str:
        """Every agent message chunk so far, joined."""
        return "".join(u.content.text for u in self.updates
                       if isinstance(u, AgentMessageChunk)
                       and isinstance(u.content, TextContentBlock))

    def kinds(self) -> list[str]:
        return [u.session_update for u in self.updates]


def agent_env(replies: list[str] | None, delay: float = 0.0) -> dict[str, str]:
    env = dict(os.environ)
    if replies is not None:
        env.update(scripted_env(replies, delay))
    return env


@asynccontextmanager
async def connected(editor: Editor, replies: list[str] | None, *, delay: float = 0.0,
                    fs: bool = True) -> AsyncIterator[ClientSideConnection]:
    """`codectx acp` started and initialized, with `editor` as its client."""
    async with spawn_agent_process(cast(Client, editor), sys.executable, "-m", "codectx", "acp",
                                   env=agent_env(replies, delay)) as (conn, _process):
        await conn.initialize(
            protocol_version=PROTOCOL_VERSION,
            client_capabilities=ClientCapabilities(fs=FileSystemCapabilities(
                read_text_file=fs, write_text_file=fs)))
        yield conn


async def wait_for(check: Any, timeout: float = 60.0) -> None:
    """Wait until check() is true (notifications arrive on their own)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def prompt_text(text: str) -> list[Any]:
    return [text_block(text)]
