"""The agent behind `codectx acp`: editor sessions driving `assistant.Session`.

Each ACP session is a codectx Session on the repository at its `cwd`. The
model work runs in a worker thread (one turn at a time per session, as in
the TUI) and its pieces reach the editor as `session/update` notifications
from the event loop, which stays free to take `session/cancel`.

What the editor sees:
- questions: the answer streamed as `agent_message_chunk`s;
- `/edit INSTRUCTION`: the planned change as an `edit` tool call whose
  content holds one `diff` per file; nothing is written before the user
  allows it through `session/request_permission`, then through the editor's
  `fs/write_text_file` when it offers it (so its buffers stay in sync), or
  to disk (journaled, as `codectx edit`) otherwise;
- `/review [--staged]`: the review's findings; `/tokens`: how the context is used;
- while the repository is prefilled, a `read` tool call with its progress.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urlparse

from acp import (
    PROTOCOL_VERSION,
    Client,
    RequestError,
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_tool_call,
    update_user_message_text,
)
from acp.schema import (
    AgentCapabilities,
    AllowedOutcome,
    AvailableCommand,
    AvailableCommandInput,
    AvailableCommandsUpdate,
    EmbeddedResourceContentBlock,
    Implementation,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PermissionOption,
    PromptCapabilities,
    PromptResponse,
    ResourceContentBlock,
    TextContentBlock,
    TextResourceContents,
    ToolCallLocation,
    ToolCallUpdate,
    UnstructuredCommandInput,
)

from codectx import __version__, config
from codectx.assistant import conversations
from codectx.assistant.conversations import Conversation
from codectx.assistant.edits.paths import safe_path
from codectx.assistant.session import Answer, EditProposal, Review, Session
from codectx.assistant.watcher import Watcher, WatchEvent
from codectx.errors import CodectxError
from codectx.indexer.result import IndexResult

log = logging.getLogger("codectx.acp")
T = TypeVar("T")

COMMANDS = [
    ("review", "Review the uncommitted changes (--staged: what would be committed)",
     "--staged, or nothing"),
    ("tokens", "Show how the context is used: the repository, the last turn", None),
    ("edit", "Ask for a change; it is shown as a diff and written only if you allow it",
     "what to change"),
]
SERVER_ERROR = -32000  # JSON-RPC's range for application errors
PROGRESS_EVERY_S = 1.0
StopReason = Literal["end_turn", "max_tokens", "max_turn_requests", "refusal", "cancelled"]
STOP_REASONS: dict[str, StopReason] = {"stop": "end_turn", "length": "max_tokens",
                                       "cancelled": "cancelled", "error": "end_turn"}


@dataclass
class _State:
    id: str
    session: Session
    conversation: Conversation
    cancel: threading.Event = field(default_factory=threading.Event)
    """Stops the current turn; a new one per prompt."""
    stop_prefill: threading.Event = field(default_factory=threading.Event)
    """Stops the session's first prefill (a cancel stops it too: what it did is saved)."""
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    index: IndexResult | None = None
    last: Answer | None = None
    prefill: str | None = None  # the id of the prefill tool call, while it runs
    edits: int = 0
    watcher: Watcher | None = None
    refreshes: int = 0


class CodectxAgent:
    def __init__(self, flags: dict[str, Any] | None = None, watch: bool = True) -> None:
        """`flags` override the config for every session (--model, --budget); with `watch`,
        each session follows its repository's changes and keeps the cache warm."""
        self._flags = flags or {}
        self._watch = watch
        self._client: Client | None = None
        self._sessions: dict[str, _State] = {}
        self._can_read = False
        self._can_write = False
        self._tasks: set[asyncio.Task[None]] = set()

    def on_connect(self, conn: Client) -> None:
        self._client = conn

    @property
    def client(self) -> Client:
        assert self._client is not None, "on_connect comes first"
        return self._client

    def shutdown(self) -> None:
        """Stop every generation (stdin closed)."""
        for state in self._sessions.values():
            state.cancel.set()
            state.stop_prefill.set()
            if state.watcher is not None:
                state.watcher.stop()

    # -- the protocol's methods ---------------------------------------------------------

    async def initialize(self, protocol_version: int, client_capabilities: Any = None,
                         client_info: Any = None, **_: Any) -> InitializeResponse:
        fs = getattr(client_capabilities, "fs", None)
        self._can_read = bool(fs and fs.read_text_file)
        self._can_write = bool(fs and fs.write_text_file)
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True)),
            agent_info=Implementation(name="codectx", title="codectx", version=__version__),
            auth_methods=[],
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **_: Any) -> NewSessionResponse:
        state = self._open(cwd, None)
        self._start(self._prepare(state))
        return NewSessionResponse(session_id=state.id)

    async def load_session(self, cwd: str, session_id: str, mcp_servers: Any = None,
                           **_: Any) -> LoadSessionResponse:
        state = self._open(cwd, session_id)
        for question, answer in state.conversation.turns:  # the history, replayed
            await self.client.session_update(state.id, update_user_message_text(question))
            await self.client.session_update(state.id, update_agent_message_text(answer))
        self._start(self._prepare(state))
        return LoadSessionResponse()

    async def authenticate(self, method_id: str, **_: Any) -> None:
        """Nothing to sign in to: the model is local (clients that always call this get None)."""
        return None

    async def cancel(self, session_id: str, **_: Any) -> None:
        state = self._sessions.get(session_id)
        if state is not None:
            state.cancel.set()
            state.stop_prefill.set()  # a prompt waiting for the first prefill stops now

    async def prompt(self, session_id: str, prompt: list[Any], **_: Any) -> PromptResponse:
        state = self._sessions.get(session_id)
        if state is None:
            raise RequestError.invalid_params({"sessionId": f"no session {session_id!r}"})
        async with state.turn:
            state.cancel = threading.Event()
            text, buffers = await self._read_prompt(state, prompt)
            command, _space, argument = text.strip().partition(" ")
            try:
                if command == "/review":
                    stop = await self._review(state, argument.strip())
                elif command == "/tokens":
                    stop = await self._say(state, self._tokens(state))
                elif command == "/edit":
                    stop = await self._edit(state, argument.strip(), buffers)
                else:
                    stop = await self._ask(state, text, buffers)
            except CodectxError as exc:
                raise _error(exc) from exc
            return PromptResponse(stop_reason=stop)

    # -- sessions -------------------------------------------------------------------------

    def _open(self, cwd: str, session_id: str | None) -> _State:
        root = Path(cwd)
        if not root.is_absolute() or not root.is_dir():
            raise RequestError.invalid_params(
                {"cwd": f"{cwd}: not an absolute path to a directory"})
        try:
            loaded = config.load(root, self._flags)
            if session_id is None:
                conversation = Conversation(conversations.new_id(), time.time(), ())
            else:
                conversation = conversations.load(loaded.cache_path(), root, session_id)
        except CodectxError as exc:
            raise _error(exc) from exc
        state = _State(conversation.id, Session(root, loaded), conversation)
        self._sessions[state.id] = state
        return state

    def _start(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _prepare(self, state: _State) -> None:
        """After session/new: the slash commands, then the index and the prefill, with progress."""
        await asyncio.sleep(0)  # the session/new response goes out first
        await self.client.session_update(state.id, AvailableCommandsUpdate(
            session_update="available_commands_update",
            available_commands=[
                AvailableCommand(name=name, description=description,
                                 input=AvailableCommandInput(UnstructuredCommandInput(hint=hint))
                                 if hint else None)
                for name, description, hint in COMMANDS]))
        tool_id = f"prefill-{state.id}"
        state.prefill = tool_id
        await self.client.session_update(state.id, start_tool_call(
            tool_id, "Reading the repository", kind="read", status="in_progress"))
        try:
            state.index = await asyncio.to_thread(state.session.index)
            await self._update_prefill(state, f"{len(state.index.files)} files, "
                                              f"{state.index.total_tokens:,} tokens")
            reporter = _Progress(self, state, asyncio.get_running_loop())
            warmed = await asyncio.to_thread(state.session.warm, cancel=state.stop_prefill,
                                             progress=reporter)
            title = ("Repository ready (prompt cache warm)" if warmed.stop_reason != "cancelled"
                     else "Prefill stopped (what it evaluated is saved)")
            await self.client.session_update(state.id, update_tool_call(
                tool_id, status="completed", title=title))
        except CodectxError as exc:
            await self.client.session_update(state.id, update_tool_call(
                tool_id, status="failed", title="Could not prepare the repository",
                content=[tool_content(text_block(_describe(exc)))]))
        except Exception:  # the session stays usable; the next prompt reports the problem
            log.exception("preparing session %s", state.id)
            await self.client.session_update(state.id, update_tool_call(tool_id, status="failed"))
        finally:
            state.prefill = None
        if self._watch:
            await self._follow(state)

    async def _follow(self, state: _State) -> None:
        """Watch the repository; each rebuild shows as a `read` tool call with its progress."""
        loop = asyncio.get_running_loop()

        def report(event: WatchEvent) -> None:
            asyncio.run_coroutine_threadsafe(self._watched(state, event), loop)

        watcher = Watcher(state.session, report)
        try:
            await asyncio.to_thread(watcher.start)
        except CodectxError as exc:
            log.warning("not watching %s: %s", state.session.root, exc.message)
            return
        state.watcher = watcher

    async def _watched(self, state: _State, event: WatchEvent) -> None:
        tool_id = f"refresh-{state.id}-{state.refreshes}"
        if event.kind == "changed":
            state.refreshes += 1
            tool_id = f"refresh-{state.id}-{state.refreshes}"
            names = ", ".join(event.files[:3]) + (" ..." if len(event.files) > 3 else "")
            await self.client.session_update(state.id, start_tool_call(
                tool_id, f"Re-reading {names}", kind="read", status="in_progress"))
        elif event.kind == "prefilling" and event.done == 0:
            await self.client.session_update(state.id, update_tool_call(
                tool_id, content=[tool_content(text_block(
                    f"Prefilling {event.tokens:,} tokens again"))]))
        elif event.kind in ("ready", "unchanged"):
            what = (f"{event.tokens:,} tokens prefilled again" if event.kind == "ready"
                    else "the prompt is as it was")
            await self.client.session_update(state.id, update_tool_call(
                tool_id, status="completed", content=[tool_content(text_block(what))]))
            state.index = None  # read again at the next prompt
        elif event.kind == "error":
            await self.client.session_update(state.id, update_tool_call(
                tool_id, status="failed", content=[tool_content(text_block(event.message))]))
        elif event.kind in ("polling", "stopped") and event.message:
            log.info("%s", event.message)

    async def _update_prefill(self, state: _State, text: str) -> None:
        if state.prefill is not None:
            await self.client.session_update(state.id, update_tool_call(
                state.prefill, content=[tool_content(text_block(text))]))

    # -- turns ----------------------------------------------------------------------------

    async def _read_prompt(self, state: _State, blocks: list[Any]) -> tuple[str, dict[str, str]]:
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
                path = self._repo_path(state, block.resource.uri)
                if path is not None:
                    buffers[path] = block.resource.text
        text = "\n".join(parts)
        if state.index is None:
            state.index = await asyncio.to_thread(state.session.index)
        known = {f.path for f in state.index.files}
        named += [word for word in re.findall(r"[\w./-]+", text) if word in known]
        for name in named:
            path = self._repo_path(state, name)
            if path is None or path in buffers:
                continue
            if self._can_read:
                try:
                    response = await self.client.read_text_file(
                        session_id=state.id, path=str(state.session.root.resolve() / path))
                    buffers[path] = response.content
                except RequestError as exc:
                    log.warning("could not read %s through the editor: %s", path, exc)
            elif (state.session.root / path).is_file():
                buffers[path] = (state.session.root / path).read_text(errors="replace")
        return text, buffers

    def _repo_path(self, state: _State, name: str) -> str | None:
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

    async def _ask(self, state: _State, text: str, buffers: dict[str, str]) -> StopReason:
        answer: Answer | None = None
        root = state.session.root
        # The cached prefix already holds every file as saved: only unsaved text goes along.
        pinned = sorted(p for p, text in buffers.items()
                        if not (root / p).is_file()
                        or (root / p).read_text(encoding="utf-8", errors="replace") != text)
        async for item in self._stream(state, lambda cancel, progress: state.session.ask(
                text, history=state.conversation.turns, pinned=pinned, buffers=buffers,
                cancel=cancel, progress=progress)):
            if isinstance(item, Answer):
                answer = item
            elif isinstance(item, str):
                await self.client.session_update(state.id, update_agent_message_text(item))
        assert answer is not None
        state.last = answer
        for note in answer.notes:
            await self.client.session_update(state.id, update_agent_message_text(
                f"\n\n_note: {note}_"))
        if answer.stop_reason != "cancelled":
            self._remember(state, text, answer.text)
        return STOP_REASONS[answer.stop_reason]

    async def _review(self, state: _State, argument: str) -> StopReason:
        if argument not in ("", "--staged"):
            return await self._say(state, "`/review` reviews the uncommitted changes; "
                                          "`/review --staged` what would be committed.")
        change = await asyncio.to_thread(state.session.change, argument == "--staged")
        review = await self._final(state, Review, lambda cancel, progress:
                                   state.session.review(change, cancel=cancel, progress=progress))
        if review.answer is not None:
            state.last = review.answer
        text = review.markdown() if review.answer else ""
        notes = "\n".join(f"\n_note: {n}_" for n in review.notes)
        await self._say(state, (text + "\n" + notes).strip())
        cancelled = review.answer is not None and review.answer.stop_reason == "cancelled"
        return "cancelled" if cancelled else "end_turn"

    async def _edit(self, state: _State, instruction: str,
                    buffers: dict[str, str]) -> StopReason:
        if not instruction:
            return await self._say(state, "`/edit` needs an instruction: `/edit rename foo to bar`")
        proposal = await self._final(state, EditProposal, lambda cancel, progress:
                                     state.session.edit(instruction, cancel=cancel,
                                                        progress=progress))
        if proposal.answer.stop_reason == "cancelled":
            return "cancelled"
        plan = proposal.plan
        if not plan.ok:
            problems = "\n".join(f"- {p}" for p in proposal.problems)
            return await self._say(state, "The change could not be planned, so nothing was "
                                          f"written:\n{problems}")
        root = state.session.root.resolve()
        state.edits += 1
        tool_id = f"edit-{state.id}-{state.edits}"
        paths = [c.path for c in plan.changes]
        diffs: list[Any] = [tool_diff_content(str(root / c.path), c.after or "", c.before)
                            for c in plan.changes]
        locations = [ToolCallLocation(path=str(root / p)) for p in paths]
        title = f"Edit {', '.join(paths)}"
        await self.client.session_update(state.id, start_tool_call(
            tool_id, title, kind="edit", status="pending", content=diffs, locations=locations,
            raw_input={"instruction": instruction}))
        unsaved = [c.path for c in plan.changes
                   if c.path in buffers and c.before is not None and buffers[c.path] != c.before]
        if unsaved:
            await self.client.session_update(state.id, update_tool_call(tool_id, status="failed"))
            return await self._say(state, f"{', '.join(unsaved)} has unsaved changes in the "
                                          "editor; save, then ask again. Nothing was written.")
        response = await self.client.request_permission(
            session_id=state.id,
            tool_call=ToolCallUpdate(tool_call_id=tool_id, title=title, kind="edit",
                                     status="pending", content=diffs, locations=locations),
            options=[PermissionOption(option_id="apply", name="Apply", kind="allow_once"),
                     PermissionOption(option_id="reject", name="Reject", kind="reject_once")])
        outcome = response.outcome
        if not (isinstance(outcome, AllowedOutcome) and outcome.option_id == "apply"):
            await self.client.session_update(state.id, update_tool_call(tool_id, status="failed"))
            return await self._say(state, "Not applied; nothing was written.")
        await self.client.session_update(state.id, update_tool_call(tool_id, status="in_progress"))
        written = await self._write(state, plan)
        await self.client.session_update(state.id, update_tool_call(tool_id, status="completed"))
        self._remember(state, f"/edit {instruction}", proposal.replies[-1])
        return await self._say(state, f"Applied to {', '.join(written)}.")

    async def _write(self, state: _State, plan: Any) -> list[str]:
        """Through the editor when it can (not deletions, which it cannot), else to disk."""
        if not self._can_write or any(c.after is None for c in plan.changes):
            return await asyncio.to_thread(state.session.apply, plan)
        root = state.session.root.resolve()
        for change in plan.changes:
            await self.client.write_text_file(session_id=state.id, path=str(root / change.path),
                                              content=change.after)
        return [c.path for c in plan.changes]

    def _tokens(self, state: _State) -> str:
        lines = []
        if state.index is not None:
            index = state.index
            full = sum(f.mode.value == "full" for f in index.files)
            lines.append(f"Repository: {len(index.files)} files ({full} in full), "
                         f"{index.total_tokens:,} tokens.")
        window = state.session.context_window
        if state.last is not None:
            last = state.last
            of = f" of a {window:,}-token context" if window else ""
            lines.append(f"Last turn: {last.prompt_tokens:,} prompt tokens{of}, "
                         f"{last.reused_tokens:,} reused from the cache, "
                         f"{last.evaluated_tokens:,} evaluated, {last.generated_tokens} "
                         "generated.")
        return "\n".join(lines) or "Nothing indexed yet."

    async def _say(self, state: _State, text: str) -> StopReason:
        await self.client.session_update(state.id, update_agent_message_text(text))
        return "end_turn"

    def _remember(self, state: _State, question: str, answer: str) -> None:
        state.conversation = Conversation(state.conversation.id, state.conversation.started,
                                          (*state.conversation.turns, (question, answer)))
        conversations.save(state.session.loaded.cache_path(), state.session.root,
                           state.conversation)

    async def _final(self, state: _State, kind: type[T],
                     work: Callable[[threading.Event, Any], Iterator[Any]]) -> T:
        """Run `work` in a thread and return the last item it yields of type `kind`."""
        final: T | None = None
        async for item in self._stream(state, work):
            if isinstance(item, kind):
                final = item
        assert final is not None, f"the work yielded no {kind.__name__}"
        return final

    async def _stream(self, state: _State,
                      work: Callable[[threading.Event, Any], Iterator[Any]]
                      ) -> AsyncIterator[Any]:
        """Run `work` in a thread; yield what it yields, on the event loop."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        reporter = _Progress(self, state, loop)

        def run() -> None:
            try:
                for item in work(state.cancel, reporter):
                    loop.call_soon_threadsafe(queue.put_nowait, ("item", item))
            except BaseException as exc:  # raised again on the loop
                loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, ("done", None))

        threading.Thread(target=run, name=f"codectx-{state.id}", daemon=True).start()
        while True:
            kind, value = await queue.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                return


class _Progress:
    """A Session progress callback (called in a worker thread) that reports the prefill."""

    def __init__(self, agent: CodectxAgent, state: _State, loop: asyncio.AbstractEventLoop):
        self.agent, self.state, self.loop = agent, state, loop
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != "prefill" or total <= 0 or (now - self.last < PROGRESS_EVERY_S
                                                and done < total):
            return
        self.last = now
        text = f"Prefilling the repository: {done:,} of {total:,} tokens"
        asyncio.run_coroutine_threadsafe(self.agent._update_prefill(self.state, text), self.loop)


def _describe(exc: CodectxError) -> str:
    return exc.message + (f"\n{exc.hint}" if exc.hint else "")


def _error(exc: CodectxError) -> RequestError:
    return RequestError(SERVER_ERROR, _describe(exc), {"message": exc.message, "hint": exc.hint})
