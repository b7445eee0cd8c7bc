"""An edit asked for from the editor: a diff shown first, written only when allowed.

The changes to existing files become one `edit` tool call holding a diff per
file; each new file (an `edit` call titled "Create ...") and each deletion (a
`delete` call) is a tool call of its own, asked for apart. Nothing is written
before the user allows it through `session/request_permission`, then through
the editor's `fs/write_text_file` when it offers it (so its buffers stay in
sync), or to disk (journaled, as `codectx edit`) otherwise. A file with unsaved
changes is never overwritten.
"""

from __future__ import annotations

import asyncio
from typing import Any

from acp import (
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_tool_call,
)
from acp.schema import AllowedOutcome, PermissionOption, ToolCallLocation, ToolCallUpdate

from codectx.agent.reading import show_retrieved
from codectx.agent.state import Agent, SessionState, StopReason
from codectx.assistant import editing, outcomes
from codectx.assistant.edits import show
from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.assistant.results import EditProposal


async def edit_turn(agent: Agent, state: SessionState, start: outcomes.Start,
                    buffers: dict[str, str]) -> StopReason:
    """EditPlan the change, show it as an edit tool call, and write it only if allowed."""
    instruction = start.instruction
    proposal = await agent.final(state, EditProposal, start.work)
    state.chat.keep(proposal)
    await show_retrieved(agent.client, state, proposal.answer)
    if proposal.answer.stop_reason == "cancelled":
        return "cancelled"
    await _report_checks(agent, state, proposal)
    plan = proposal.plan
    if not plan.ok:
        problems = "\n".join(f"- {p}" for p in proposal.problems)
        return await agent.say(state, "The change could not be planned, so nothing was "
                                      f"written:\n{problems}")
    for note in plan.notes:
        await agent.client.session_update(state.id, update_agent_message_text(
            f"_note: {note}_\n\n"))
    unsaved = [c.path for c in plan.changes
               if c.path in buffers and c.before is not None and buffers[c.path] != c.before]
    if unsaved:
        return await agent.say(state, f"{', '.join(unsaved)} has unsaved changes in the "
                                      "editor; save, then ask again. Nothing was written.")
    # Changes to existing files are asked for together; each new file and each deletion
    # on its own, as a tool call of its own kind, so none is allowed by the way.
    parts = [plan.only("modify")] + [EditPlan((c,), ()) for c in plan.files_made_or_removed]
    allowed: list[FileChange] = []
    for part in parts:
        if part.changes and await _allowed(agent, state, part, instruction):
            allowed.extend(part.changes)
    if not allowed:
        return await agent.say(state, "Not applied; nothing was written.")
    written = await _write(agent, state, EditPlan(tuple(allowed), ()))
    state.chat.applied(proposal)
    left = [c.path for c in plan.changes if c not in allowed]
    skipped = f" Not applied: {', '.join(left)}." if left else ""
    return await agent.say(state, f"Applied to {', '.join(written)}.{skipped}")


async def _report_checks(agent: Agent, state: SessionState, proposal: EditProposal) -> None:
    """Each check run on the change, as an `execute` tool call holding its output; what was
    held back, said."""
    for result in proposal.checks:
        state.edits += 1
        status: Any = "failed" if result.failed else "completed"
        await agent.client.session_update(state.id, start_tool_call(
            f"check-{state.id}-{state.edits}", f"{result.command} (attempt {result.attempt})",
            kind="execute", status=status,
            content=[tool_content(text_block(f"{result.line()}\n{result.output_tail}"))],
            raw_input={"command": result.command, "attempt": result.attempt},
            raw_output=result.to_json()))
    if proposal.held_back:
        await agent.client.session_update(state.id, update_agent_message_text(
            f"{proposal.held_back}\n"))
    if proposal.failed_checks:
        await agent.client.session_update(state.id, update_agent_message_text(
            "The change fails its checks; apply it only if you mean to.\n"))


async def _allowed(agent: Agent, state: SessionState, part: EditPlan, instruction: str) -> bool:
    """Show one part of the change as a tool call and ask for permission to write it;
    whether it was given (the tool call ends in progress if so, failed if not)."""
    root = state.session.root.resolve()
    state.edits += 1
    tool_id = f"edit-{state.id}-{state.edits}"
    first = part.changes[0]
    kind: Any = "delete" if first.action == "delete" else "edit"
    if first.action == "delete":
        title = f"Delete {first.path}"
        content: list[Any] = [tool_content(text_block(show.heading(first)))]
        allow, reject = "Delete", "Keep"
    else:
        title = (f"Create {first.path}" if first.action == "create"
                 else f"Edit {', '.join(c.path for c in part.changes)}")
        content = [tool_diff_content(str(root / c.path), c.after or "", c.before)
                   for c in part.changes]
        allow, reject = ("Create", "Skip") if first.action == "create" else ("Apply", "Reject")
    locations = [ToolCallLocation(path=str(root / c.path)) for c in part.changes]
    await agent.client.session_update(state.id, start_tool_call(
        tool_id, title, kind=kind, status="pending", content=content, locations=locations,
        raw_input={"instruction": instruction, "action": first.action}))
    response = await agent.client.request_permission(
        session_id=state.id,
        tool_call=ToolCallUpdate(tool_call_id=tool_id, title=title, kind=kind,
                                 status="pending", content=content, locations=locations),
        options=[PermissionOption(option_id="apply", name=allow, kind="allow_once"),
                 PermissionOption(option_id="reject", name=reject, kind="reject_once")])
    outcome = response.outcome
    given = isinstance(outcome, AllowedOutcome) and outcome.option_id == "apply"
    await agent.client.session_update(state.id, update_tool_call(
        tool_id, status="completed" if given else "failed"))
    return given


async def _write(agent: Agent, state: SessionState, plan: EditPlan) -> list[str]:
    """Through the editor when it can (not deletions, which it cannot), else to disk."""
    if not agent.can_write or any(c.after is None for c in plan.changes):
        return await asyncio.to_thread(editing.apply, state.session.root,
                                       state.session.loaded, plan)
    root = state.session.root.resolve()
    for change in plan.changes:
        await agent.client.write_text_file(session_id=state.id, path=str(root / change.path),
                                          content=change.after or "")
    return [c.path for c in plan.changes]
