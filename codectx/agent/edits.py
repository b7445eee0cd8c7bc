"""An edit asked for from the editor: a diff shown first, written only when allowed.

The planned change becomes an `edit` tool call holding one diff per file;
nothing is written before the user allows it through
`session/request_permission`, then through the editor's `fs/write_text_file`
when it offers it (so its buffers stay in sync), or to disk (journaled, as
`codectx edit`) otherwise. A file with unsaved changes is never overwritten.
"""

from __future__ import annotations

import asyncio
from typing import Any

from acp import start_tool_call, tool_diff_content, update_tool_call
from acp.schema import AllowedOutcome, PermissionOption, ToolCallLocation, ToolCallUpdate

from codectx.agent.state import Agent, SessionState, StopReason
from codectx.assistant import commands
from codectx.assistant.results import EditProposal


async def edit_turn(agent: Agent, state: SessionState, start: commands.Start,
                    buffers: dict[str, str]) -> StopReason:
    """Plan the change, show it as an edit tool call, and write it only if allowed."""
    instruction = start.instruction
    proposal = await agent.final(state, EditProposal, start.work)
    state.chat.last_proposal = proposal
    if proposal.answer.stop_reason == "cancelled":
        return "cancelled"
    plan = proposal.plan
    if not plan.ok:
        problems = "\n".join(f"- {p}" for p in proposal.problems)
        return await agent.say(state, "The change could not be planned, so nothing was "
                                      f"written:\n{problems}")
    root = state.session.root.resolve()
    state.edits += 1
    tool_id = f"edit-{state.id}-{state.edits}"
    paths = [c.path for c in plan.changes]
    diffs: list[Any] = [tool_diff_content(str(root / c.path), c.after or "", c.before)
                        for c in plan.changes]
    locations = [ToolCallLocation(path=str(root / p)) for p in paths]
    title = f"Edit {', '.join(paths)}"
    await agent.client.session_update(state.id, start_tool_call(
        tool_id, title, kind="edit", status="pending", content=diffs, locations=locations,
        raw_input={"instruction": instruction}))
    unsaved = [c.path for c in plan.changes
               if c.path in buffers and c.before is not None and buffers[c.path] != c.before]
    if unsaved:
        await agent.client.session_update(state.id, update_tool_call(tool_id, status="failed"))
        return await agent.say(state, f"{', '.join(unsaved)} has unsaved changes in the "
                                      "editor; save, then ask again. Nothing was written.")
    response = await agent.client.request_permission(
        session_id=state.id,
        tool_call=ToolCallUpdate(tool_call_id=tool_id, title=title, kind="edit",
                                 status="pending", content=diffs, locations=locations),
        options=[PermissionOption(option_id="apply", name="Apply", kind="allow_once"),
                 PermissionOption(option_id="reject", name="Reject", kind="reject_once")])
    outcome = response.outcome
    if not (isinstance(outcome, AllowedOutcome) and outcome.option_id == "apply"):
        await agent.client.session_update(state.id, update_tool_call(tool_id, status="failed"))
        return await agent.say(state, "Not applied; nothing was written.")
    await agent.client.session_update(state.id, update_tool_call(tool_id, status="in_progress"))
    written = await _write(agent, state, plan)
    await agent.client.session_update(state.id, update_tool_call(tool_id, status="completed"))
    state.chat.record(f"/edit {instruction}", proposal.replies[-1])
    return await agent.say(state, f"Applied to {', '.join(written)}.")


async def _write(agent: Agent, state: SessionState, plan: Any) -> list[str]:
    """Through the editor when it can (not deletions, which it cannot), else to disk."""
    if not agent.can_write or any(c.after is None for c in plan.changes):
        return await asyncio.to_thread(state.session.apply, plan)
    root = state.session.root.resolve()
    for change in plan.changes:
        await agent.client.write_text_file(session_id=state.id, path=str(root / change.path),
                                          content=change.after)
    return [c.path for c in plan.changes]
