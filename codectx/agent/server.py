"""The agent behind `codectx acp`: editor sessions driving `assistant.Session`.

Each ACP session is a codectx Session on the repository at its `cwd`. The
model work runs in a worker thread (one turn at a time per session, as in
the TUI) and its pieces reach the editor as `session/update` notifications
from the event loop, which stays free to take `session/cancel`.

What the editor sees:
- questions: the answer streamed as `agent_message_chunk`s;
- `/edit INSTRUCTION`: the planned change as an `edit` tool call (see edits.py);
- `/review [--staged]`: the review's findings; the other slash commands of
  `assistant.commands` offered to editors (`/tokens`, `/model`, ...): their text;
- while the repository is prefilled, a `read` tool call with its progress.

What a command does is decided in `assistant.commands`; this module renders it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from acp import (
    PROTOCOL_VERSION,
    Client,
    RequestError,
    start_tool_call,
    text_block,
    tool_content,
    update_agent_message_text,
    update_tool_call,
    update_user_message_text,
)
from acp.schema import (
    AgentCapabilities,
    AvailableCommand,
    AvailableCommandInput,
    AvailableCommandsUpdate,
    CloseSessionResponse,
    Implementation,
    InitializeResponse,
    LoadSessionResponse,
    NewSessionResponse,
    PromptCapabilities,
    PromptResponse,
    SessionCapabilities,
    SessionCloseCapabilities,
    UnstructuredCommandInput,
)

from codectx import __version__, config
from codectx.advice import error_in_the_chat, named_settings
from codectx.agent.edits import edit_turn
from codectx.agent.providers import SharedProviders
from codectx.agent.reading import read_prompt, show_retrieved, unsaved
from codectx.agent.state import SessionState, StopReason
from codectx.assistant import commands, conversations, outcomes
from codectx.assistant.background import Work, aiterate
from codectx.assistant.chat import Chat
from codectx.assistant.conversations import Conversation
from codectx.assistant.session import Answer, Review, Session
from codectx.assistant.watcher import Watcher, WatchEvent
from codectx.errors import CodectxError

log = logging.getLogger("codectx.acp")
T = TypeVar("T")

SERVER_ERROR = -32000  # JSON-RPC's range for application errors
PROGRESS_EVERY_S = 1.0
STOP_REASONS: dict[str, StopReason] = {"stop": "end_turn", "length": "max_tokens",
                                       "cancelled": "cancelled", "error": "end_turn"}


class CodectxAgent:
    def __init__(self, flags: dict[str, Any] | None = None, watch: bool = True,
                 providers: SharedProviders | None = None) -> None:
        """`flags` override the config for every session (--model, --budget); with `watch`,
        each session follows its repository's changes and keeps the cache warm;
        `providers`: where sessions get their repository's model."""
        self._flags = flags or {}
        self._watch = watch
        self._client: Client | None = None
        self._sessions: dict[str, SessionState] = {}
        self._can_read = False
        self.can_write = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._providers = providers if providers is not None else SharedProviders()

    def on_connect(self, conn: Client) -> None:
        self._client = conn

    @property
    def client(self) -> Client:
        assert self._client is not None, "on_connect comes first"
        return self._client

    def shutdown(self) -> None:
        """Stop every generation (stdin closed)."""
        for state in self._sessions.values():
            state.end()
        self._providers.close_all()

    # -- the protocol's methods ---------------------------------------------------------

    async def initialize(self, protocol_version: int, client_capabilities: Any = None,
                         client_info: Any = None, **_: Any) -> InitializeResponse:
        fs = getattr(client_capabilities, "fs", None)
        self._can_read = bool(fs and fs.read_text_file)
        self.can_write = bool(fs and fs.write_text_file)
        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=True,
                prompt_capabilities=PromptCapabilities(embedded_context=True),
                session_capabilities=SessionCapabilities(close=SessionCloseCapabilities())),
            agent_info=Implementation(name="codectx", title="codectx", version=__version__),
            auth_methods=[],
        )

    async def new_session(self, cwd: str, mcp_servers: Any = None, **_: Any) -> NewSessionResponse:
        state = self._open(cwd, None)
        self.spawn(self._prepare(state))
        return NewSessionResponse(session_id=state.id)

    async def load_session(self, cwd: str, session_id: str, mcp_servers: Any = None,
                           **_: Any) -> LoadSessionResponse:
        state = self._open(cwd, session_id)
        for question, answer in state.chat.turns:  # the history, replayed
            await self.client.session_update(state.id, update_user_message_text(question))
            await self.client.session_update(state.id, update_agent_message_text(answer))
        self.spawn(self._prepare(state))
        return LoadSessionResponse()

    async def close_session(self, session_id: str, **_: Any) -> CloseSessionResponse:
        """The editor is done with a session: its work and watcher stop, and its
        repository's model is freed when no other session holds it."""
        state = self._sessions.pop(session_id, None)
        if state is not None:
            state.end()
        return CloseSessionResponse()

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
            text, buffers = await read_prompt(self.client, self._can_read, state, prompt)
            try:
                # A command may read a model's header or reach a server: not on the loop.
                outcome = await asyncio.to_thread(commands.run, state.chat, text,
                                                  buffers=buffers, pinned=unsaved(state, buffers))
                stop = await self._render(state, outcome, text, buffers)
            except CodectxError as exc:
                raise _error(exc) from exc
            return PromptResponse(stop_reason=stop)

    async def _render(self, state: SessionState, outcome: outcomes.Outcome, text: str,
                      buffers: dict[str, str]) -> StopReason:
        """The result of a command or a question, as the editor shows it."""
        if isinstance(outcome, outcomes.Note | outcomes.Refusal):
            return await self.say(state, outcome.text)
        if not isinstance(outcome, outcomes.Start):  # a change or a clear: the chat's alone
            return await self.say(state, "That command is not offered here.")
        if outcome.kind == "ask":
            return await self._ask(state, text, outcome)
        if outcome.kind == "review":
            return await self._review(state, outcome)
        return await edit_turn(self, state, outcome, buffers)

    # -- sessions -------------------------------------------------------------------------

    def _open(self, cwd: str, session_id: str | None) -> SessionState:
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
        earlier = self._sessions.pop(conversation.id, None)
        if earlier is not None:  # loaded again: the earlier one's turns and watcher stop
            earlier.end()
        lease = self._providers.lease(root, loaded)
        chat = Chat(Session(root, loaded, lease.provider, turn_lock=lease.turn_lock), conversation,
                    front_end="acp")
        state = SessionState(conversation.id, chat, lease=lease)
        self._sessions[state.id] = state
        return state

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a coroutine as a task of its own, kept alive until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _prepare(self, state: SessionState) -> None:
        """After session/new: the slash commands, then the index and the prefill, with progress."""
        await asyncio.sleep(0)  # the session/new response goes out first
        trust = state.session.loaded.trust
        notice = trust.notice() if trust is not None else None
        if notice:  # an editor session never asks: it goes on without them and says so
            await self.say(state, f"Note: {notice}; run that in a terminal, then start a new "
                                  "session.")
        await self.client.session_update(state.id, AvailableCommandsUpdate(
            session_update="available_commands_update",
            available_commands=[
                AvailableCommand(name=name, description=description,
                                 input=AvailableCommandInput(UnstructuredCommandInput(hint=hint))
                                 if hint else None)
                for name, description, hint in _offered()]))
        tool_id = f"prefill-{state.id}"
        state.prefill = tool_id
        await self.client.session_update(state.id, start_tool_call(
            tool_id, "Reading the repository", kind="read", status="in_progress"))
        try:
            index = state.chat.index = await asyncio.to_thread(state.session.index)
            await self._update_prefill(state, f"{len(index.files)} files, "
                                              f"{index.total_tokens:,} tokens")
            warmed = await self.final(state, Answer, lambda cancel, progress: iter(
                [state.session.warm(cancel=state.stop_prefill, progress=progress)]))
            title = ("Repository ready (prompt cache warm)" if warmed.stop_reason != "cancelled"
                     else "Prefill stopped (what it evaluated is saved)")
            outcome = update_tool_call(tool_id, status="completed", title=title)
        except CodectxError as exc:
            outcome = update_tool_call(
                tool_id, status="failed", title="Could not prepare the repository",
                content=[tool_content(text_block(error_in_the_chat(exc)))])
        except Exception:  # the session stays usable; the next prompt reports the problem
            log.exception("preparing session %s", state.id)
            outcome = update_tool_call(tool_id, status="failed")
        finally:
            state.prefill = None
        if self._watch:  # listening before the editor is told: a save from then on is seen
            await self._follow(state)
        await self.client.session_update(state.id, outcome)

    async def _follow(self, state: SessionState) -> None:
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
        if state.ended:  # ended while the watcher started
            watcher.stop()

    async def _watched(self, state: SessionState, event: WatchEvent) -> None:
        if event.exact:
            return  # an idle re-prefill of cells reused at new positions: nothing to show
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
            state.chat.index = None  # read again at the next prompt
        elif event.kind == "error":
            await self.client.session_update(state.id, update_tool_call(
                tool_id, status="failed", content=[tool_content(text_block(event.message))]))
        elif event.kind in ("polling", "stopped") and event.message:
            log.info("%s", event.message)

    async def _update_prefill(self, state: SessionState, text: str) -> None:
        if state.prefill is not None:
            await self.client.session_update(state.id, update_tool_call(
                state.prefill, content=[tool_content(text_block(text))]))

    # -- turns ----------------------------------------------------------------------------

    async def _ask(self, state: SessionState, text: str, start: outcomes.Start) -> StopReason:
        answer: Answer | None = None
        async for item in self._stream(state, start.work):
            if isinstance(item, Answer):
                answer = item
            elif isinstance(item, str):
                await self.client.session_update(state.id, update_agent_message_text(item))
        assert answer is not None
        state.chat.keep(answer, text)
        await show_retrieved(self.client, state, answer)
        for note in answer.notes:
            await self.client.session_update(state.id, update_agent_message_text(
                f"\n\n_note: {note}_"))
        return STOP_REASONS[answer.stop_reason]

    async def _review(self, state: SessionState, start: outcomes.Start) -> StopReason:
        review = await self.final(state, Review, start.work)
        state.chat.keep(review, start.label)
        if review.answer is not None:
            await show_retrieved(self.client, state, review.answer)
        text = review.markdown() if review.answer else ""
        notes = "\n".join(f"\n_note: {n}_" for n in review.notes)
        await self.say(state, (text + "\n" + notes).strip())
        cancelled = review.answer is not None and review.answer.stop_reason == "cancelled"
        return "cancelled" if cancelled else "end_turn"

    async def say(self, state: SessionState, text: str) -> StopReason:
        await self.client.session_update(state.id, update_agent_message_text(text))
        return "end_turn"

    async def final(self, state: SessionState, kind: type[T],
                     work: Callable[[threading.Event, Any], Iterator[Any]]) -> T:
        """Run `work` in a thread and return the last item it yields of type `kind`."""
        final: T | None = None
        async for item in self._stream(state, work):
            if isinstance(item, kind):
                final = item
        assert final is not None, f"the work yielded no {kind.__name__}"
        return final

    async def _stream(self, state: SessionState, work: Work) -> AsyncIterator[Any]:
        """Run `work` in a thread; yield what it yields, on the event loop."""
        reporter = _Progress(self, state)
        async for item in aiterate(work, state.cancel, reporter, name=f"codectx-{state.id}"):
            yield item


class _Progress:
    """A Session progress callback (called on the event loop) that reports the prefill."""

    def __init__(self, agent: CodectxAgent, state: SessionState) -> None:
        self.agent, self.state = agent, state
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != "prefill" or total <= 0 or (now - self.last < PROGRESS_EVERY_S
                                                and done < total):
            return
        self.last = now
        text = f"Prefilling the repository: {done:,} of {total:,} tokens"
        self.agent.spawn(self.agent._update_prefill(self.state, text))


def _offered() -> list[tuple[str, str, str | None]]:
    """The slash commands the editor is offered: (name, description, argument hint)."""
    return [(c.name.removeprefix("/"), commands.describe(c), c.argument)
            for c in commands.offered("acp")]


def _error(exc: CodectxError) -> RequestError:
    return RequestError(SERVER_ERROR, error_in_the_chat(exc),
                        {"message": exc.message, "hint": exc.hint,
                         "settings": named_settings(exc)})
