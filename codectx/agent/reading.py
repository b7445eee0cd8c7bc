"""What an editor's prompt holds: its text, and the repository files it names.

Files are read as the editor has them (through `fs/read_text_file` when it
offers it), so the model sees unsaved changes; only text that differs from
the saved file goes along, since the cached prefix already holds the rest.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from acp import Client, RequestError
from acp.schema import (
    EmbeddedResourceContentBlock,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
)

from codectx.agent.state import SessionState
from codectx.assistant.edits.paths import safe_path
from codectx.assistant.results import Answer
from codectx.errors import CodectxError

log = logging.getLogger("codectx.acp")


async def read_prompt(client: Client, can_read: bool, state: SessionState,
                      blocks: list[Any]) -> tuple[str, dict[str, str]]:
    """The prompt's text, and the text of the repository files it names, as the editor has
    them (through fs/read_text_file when offered, so unsaved changes are seen)."""
    parts: list[str] = []
    named: list[str] = []
    buffers: dict[str, str] = {}
    for block in blocks:
        if isinstance(block, TextContentBlock):
            parts.append(block.text)
        elif isinstance(block, ResourceContentBlock):
            named.append(block.uri)
        elif isinstance(block, EmbeddedResourceContentBlock) and isinstance(
                block.resource, TextResourceContents):
            path = repo_path(state, block.resource.uri)
            if path is not None:
                buffers[path] = block.resource.text
    text = "\n".join(parts)
    if state.chat.index is None:
        state.chat.index = await asyncio.to_thread(state.session.index)
    known = {f.path for f in state.chat.index.files}
    named += [word for word in re.findall(r"[\w./-]+", text) if word in known]
    for name in named:
        path = repo_path(state, name)
        if path is None or path in buffers:
            continue
        if can_read:
            try:
                response = await client.read_text_file(
                    session_id=state.id, path=str(state.session.root.resolve() / path))
                buffers[path] = response.content
            except RequestError as exc:
                log.warning("could not read %s through the editor: %s", path, exc)
        elif (state.session.root / path).is_file():
            buffers[path] = (state.session.root / path).read_text(errors="replace")
    return text, buffers


def repo_path(state: SessionState, name: str) -> str | None:
    """A file URI or path as a repository path, or None when it is not in the repository."""
    if name.startswith("file://"):
        name = unquote(urlparse(name).path)
    root = state.session.root.resolve()
    candidate = Path(name) if Path(name).is_absolute() else root / name
    try:
        relative = candidate.resolve().relative_to(root).as_posix()
        return safe_path(root, relative)
    except (ValueError, CodectxError):
        return None


def unsaved(state: SessionState, buffers: dict[str, str]) -> list[str]:
    """The cached prefix already holds every file as saved: only unsaved text goes along."""
    root = state.session.root
    return sorted(p for p, text in buffers.items()
                  if not (root / p).is_file()
                  or (root / p).read_text(encoding="utf-8", errors="replace") != text)


async def show_retrieved(client: Client, state: SessionState,
                         answer: Answer | None) -> None:
    """The files a turn brought in full after the prefix, as a finished `search` tool call
    (nothing when none were retrieved)."""
    from acp import start_tool_call, text_block, tool_content
    from acp.schema import ToolCallLocation

    if answer is None or not answer.retrieved:
        return
    root = state.session.root.resolve()
    state.retrievals += 1
    listed = "\n".join(f"{r.path} ({r.tokens:,} tokens): {r.why}" for r in answer.retrieved)
    await client.session_update(state.id, start_tool_call(
        f"retrieved-{state.id}-{state.retrievals}",
        f"Retrieved {len(answer.retrieved)} file(s) in full for this turn", kind="search",
        status="completed", content=[tool_content(text_block(listed))],
        locations=[ToolCallLocation(path=str(root / r.path)) for r in answer.retrieved]))
