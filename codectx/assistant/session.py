"""The one object every front end talks to: questions in, answers out.

A Session indexes its repository, resolves and plans the model, builds the
prompt (instructions and repository as the cacheable prefix, the question
after) and streams the answer. It never prints: progress goes through a
callback, text pieces and a final `Answer` come out of `ask`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codectx.assistant.edits import formats
from codectx.assistant.edits.journal import apply_plan, journal_dir, undo_last
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.paths import safe_path
from codectx.assistant.edits.plan import Plan, plan_edits
from codectx.assistant.prompts import build_prompt
from codectx.assistant.review.change import Change
from codectx.assistant.review.findings import Finding, parse_findings, render_change, review_request
from codectx.config import Loaded
from codectx.errors import CodectxError, ConfigError, ModelError
from codectx.indexer.repository import index_repository
from codectx.indexer.result import IndexResult
from codectx.indexer.serialize import Mode
from codectx.models import planner
from codectx.models.backend import Completion, GenerationParams, ModelBackend, Prompt
from codectx.models.gguf import ModelInfo, read_info
from codectx.models.resolve import ResolvedModel, resolve_model

if TYPE_CHECKING:
    from codectx.models.openai_compat import OpenAICompatBackend

ProgressFn = Callable[[str, int, int], None]
"""progress(stage, done, total): stages "read", "parse", "tokens", "load", "prefill"."""

PROMPT_OVERHEAD = 512  # instructions, chat template pieces and the question, roughly
RETRY_ROOM = 2048  # an edit's retry carries the first reply and what failed


@dataclass(frozen=True)
class Answer(Completion):
    """A completion, timed from the question (indexing and model loading included)."""

    model: str = ""

    @property
    def tokens_per_s(self) -> float:
        gen_s = self.total_s - self.ttft_s
        return self.generated_tokens / gen_s if gen_s > 0 and self.generated_tokens else 0.0


@dataclass(frozen=True)
class EditProposal:
    """Planned changes (empty when the reply could not be applied) and how they came about."""

    plan: Plan
    attempts: int
    problems: tuple[str, ...]
    replies: tuple[str, ...]
    answer: Answer
    request: str = ""
    """What the model was last asked (a revision continues from it)."""


@dataclass(frozen=True)
class Review:
    """What a review found in a change; `answer` is None when there was nothing to review."""

    change: Change
    findings: list[Finding]
    dropped: list[tuple[Finding, str]]
    notes: tuple[str, ...]
    answer: Answer | None

    def markdown(self) -> str:
        """The findings as markdown, each under its code line, after a one-line summary."""
        from codectx.assistant.review.report import review_markdown

        count = len(self.findings)
        summary = (f"{count} finding(s) in {self.change.description}" if count
                   else f"no findings in {self.change.description}")

        def line(path: str, number: int) -> str | None:
            changed = self.change.file(path)
            return changed.text_at(number) if changed else None

        return review_markdown(self.findings, line, summary)


def _plan_reply(reply: str, root: Path, whole_files: bool) -> tuple[Plan, tuple[str, ...]]:
    parsed = parse_reply(reply, whole_files)
    if parsed.errors:
        return Plan((), ()), parsed.errors
    if not parsed.edits:
        return Plan((), ()), ("the reply holds no edits in the requested format",)
    plan = plan_edits(parsed.edits, root)
    if not plan.failures and not plan.changes:
        return plan, ("the edits leave every file as it was",)
    return plan, tuple(f.describe() for f in plan.failures)


def _fit_notes(index: IndexResult) -> tuple[str, ...]:
    """Say so when the repository did not fit in full (never degrade silently)."""
    skeletons = sum(f.mode is Mode.SKELETON for f in index.files)
    omitted = sum(f.mode is Mode.OMITTED for f in index.files)
    if not skeletons and not omitted:
        return ()
    return (f"to fit the context, {skeletons} file(s) are in the prompt as skeletons and "
            f"{omitted} omitted (`codectx index --json` lists them)",)


def _noop(stage: str, done: int, total: int) -> None:
    pass


class Session:
    def __init__(self, root: Path, loaded: Loaded, backend: ModelBackend | None = None, *,
                 persist: bool = True) -> None:
        """A session on the repository at root; `backend` replaces the model (tests).

        `persist=False` keeps prompt states in memory only (an evaluation's many
        one-off haystacks would only fill the disk cache).
        """
        self.root = root
        self.loaded = loaded
        self._persist = persist
        self._backend = backend
        self._scripted = backend is not None
        self._model: tuple[ResolvedModel, ModelInfo] | None = None
        self._server: OpenAICompatBackend | None = None
        self._load_s = 0.0
        # One model, one turn at a time: a question asked while the prefix is being
        # warmed in the background waits for it instead of loading a second model.
        self._turn = threading.Lock()

    # -- what the front ends call ------------------------------------------------

    def ask(self, question: str, *, history: Sequence[tuple[str, str]] = (),
            pinned: Sequence[str] = (), buffers: Mapping[str, str] | None = None,
            cancel: threading.Event | None = None,
            progress: ProgressFn = _noop) -> Iterator[str | Answer]:
        """Stream the answer's text, then one Answer.

        `history` holds earlier (question, answer) turns of the conversation, oldest
        first; when they would overflow the context, the oldest are left out and the
        Answer's notes say how many. `pinned` files go in full after the cached
        prefix (in case the prompt has them only as skeletons, or to draw attention);
        `buffers` gives the text of some of them as an editor has it, unsaved.
        """
        yield from self._run(question + self._pinned(pinned, buffers), cancel, progress,
                             self.loaded.settings.max_answer_tokens, history)

    def warm(self, *, cancel: threading.Event | None = None,
             progress: ProgressFn = _noop) -> Answer:
        """Prefill the repository prefix and save it, so the next question starts warm."""
        result = None
        for item in self._run(None, cancel, progress, 0):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    # -- the work ------------------------------------------------------------------

    def edit(self, instruction: str, *, files: Sequence[str] = (), fmt: str | None = None,
             revising: EditProposal | None = None, cancel: threading.Event | None = None,
             progress: ProgressFn = _noop) -> Iterator[str | EditProposal]:
        """Ask for a change; stream the model's reply, then one EditProposal (never writes).

        A reply that cannot be applied goes back to the model once with what failed.
        With `revising`, the instruction asks for a change to that earlier proposal.
        """
        fmt = fmt or self._edit_format()
        request = formats.edit_request(instruction, fmt, list(files)) + self._pinned(files)
        history: list[tuple[str, str]] = []
        if revising is not None:
            history.append((revising.request, revising.replies[-1]))
        replies: list[str] = []
        problems: tuple[str, ...] = ()
        answer: Answer | None = None
        for attempt in (1, 2):
            for item in self._run(request, cancel, progress,
                                  self.loaded.settings.max_answer_tokens, history):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
            assert answer is not None
            replies.append(answer.text)
            plan, problems = _plan_reply(answer.text, self.root, fmt == "whole")
            if plan.ok or answer.stop_reason == "cancelled" or attempt == 2:
                yield EditProposal(plan, attempt, problems, tuple(replies), answer, request)
                return
            history.append((request, answer.text))
            request = formats.retry_request(list(problems))

    def review(self, change: Change, *, cancel: threading.Event | None = None,
               progress: ProgressFn = _noop) -> Iterator[str | Review]:
        """Stream the model's review of `change`, then one Review with its findings.

        The repository prefix comes from the change's tree: for staged changes,
        git's index, so what is reviewed is exactly what would be committed.
        """
        rendered, notes = render_change(change)
        if not rendered:
            reason = ("only binary or deleted files changed" if change.files
                      else "there are no changes")
            yield Review(change, [], [], (f"nothing to review: {reason}", *notes), None)
            return
        answer = None
        for item in self._run(review_request(change, rendered), cancel, progress,
                              self.loaded.settings.max_answer_tokens, tree=change.tree):
            if isinstance(item, Answer):
                answer = item
            else:
                yield item
        assert answer is not None
        found = parse_findings(answer.text, change)
        if answer.stop_reason == "cancelled":
            notes.append("the review was stopped before the model finished")
        if found.dropped:
            notes.append(f"{len(found.dropped)} finding(s) left out: not on a changed line")
        yield Review(change, found.findings, found.dropped, (*notes, *answer.notes), answer)

    def change(self, staged: bool = False) -> Change:
        """The work tree's uncommitted changes, or with `staged` what would be committed."""
        from codectx.assistant.review import change

        return change.staged(self.root) if staged else change.worktree(self.root)

    def index(self, progress: ProgressFn = _noop, *, whole: bool = False) -> IndexResult:
        """The repository as the model will see it (files, modes, tokens); with `whole`,
        every file in full (no budget), counted with the model's tokenizer."""
        if whole:
            return self._index(progress, whole=True)
        return self._index(progress)

    def model_for(self, prompt_tokens: int, progress: ProgressFn = _noop) -> ModelBackend:
        """The model, loaded (or connected) with a context that holds `prompt_tokens` and
        the answer."""
        with self._turn:
            return self._ensure_backend(prompt_tokens, progress)

    def prompt_limit(self) -> int:
        """The longest prompt this model takes here, with room for the answer: its context
        and, for a local model, this machine's memory."""
        answer = self.loaded.settings.max_answer_tokens
        if self._scripted and self._backend is not None:
            return self._backend.context_window - answer
        if self._remote_backend:
            return self._connect(_noop).context_window - answer
        return self._max_prompt_tokens(self._resolved()[1])

    def apply(self, plan: Plan) -> list[str]:
        """Write a planned change (journaled, so `undo` restores it); the paths written."""
        apply_plan(plan, self.root, journal_dir(self.loaded.cache_path(), self.root))
        return [c.path for c in plan.changes]

    def undo(self) -> list[str]:
        """Restore the files of the last applied change; the paths restored."""
        return undo_last(self.root, journal_dir(self.loaded.cache_path(), self.root))

    def model_description(self) -> str:
        if self._scripted:
            return f"model: {self._backend.name if self._backend else '?'} (scripted)"
        if self._remote_backend:
            return f"model: {self._connect(_noop).describe()}"
        resolved, info = self._resolved()
        window = f", context {self._backend.context_window:,} tokens" if self._backend else ""
        return (f"model: {resolved.name} ({info.path}), trained for "
                f"{info.architecture.trained_context:,} tokens{window}")

    def cache_description(self) -> str:
        if self._remote_backend:
            return (f"the prompt cache is the server's, at {self.loaded.settings.base_url} "
                    "(llama.cpp keeps slot states in its --slot-save-path)")
        from codectx.models.prompt_cache import PromptCache

        root = self.loaded.prompts_path()
        entries = PromptCache(root, None, 0).all_entries() if root.is_dir() else []
        size = sum(e.size_bytes for e in entries) / (1 << 20)
        return f"{len(entries)} saved prompt state(s), {size:.1f} MiB, in {root}"

    def commit_message(self, plan: Plan, instruction: str,
                       cancel: threading.Event | None = None) -> str:
        """A message for the change, written by the model: a summary line, then a body."""
        diff = "".join(c.diff for c in plan.changes)[:8000]
        answer = None
        for item in self._run(formats.COMMIT_REQUEST + diff, cancel, _noop, 120):
            if isinstance(item, Answer):
                answer = item
        text = (answer.text if answer else "").strip().strip("`").strip()
        lines = [line.rstrip() for line in text.splitlines()]
        if not lines or not lines[0]:
            first = instruction.strip().splitlines()
            return f"{first[0][:72] if first else 'Edit by codectx'}\n"
        summary = lines[0].strip("\"'# ")[:72]
        body = "\n".join(lines[1:]).strip()
        return f"{summary}\n\n{body}\n" if body else f"{summary}\n"

    def _edit_format(self) -> str:
        if self._scripted or (self._remote_backend and not self.loaded.settings.model):
            return "search-replace"
        resolved, _ = self._resolved()
        return resolved.entry.edit_format if resolved.entry else "search-replace"

    def _pinned(self, files: Sequence[str], buffers: Mapping[str, str] | None = None) -> str:
        parts = []
        for path in files:
            target = self.root / safe_path(self.root, path)
            if buffers and path in buffers:
                text = buffers[path]
            elif not target.is_file():
                raise CodectxError(f"--files {path}: no such file in {self.root}",
                                   "Name files relative to the repository root.")
            else:
                text = target.read_text(encoding="utf-8", errors="replace")
            parts.append(f"\n\nThe current content of {path}:\n```\n{text}```")
        return "".join(parts)

    @property
    def scripted(self) -> bool:
        """True when a scripted backend stands in for the model (tests)."""
        return self._scripted

    @property
    def context_window(self) -> int | None:
        """The loaded model's context size (None until the first turn loads it)."""
        return self._backend.context_window if self._backend is not None else None

    def _run(self, question: str | None, cancel: threading.Event | None, progress: ProgressFn,
             max_tokens: int, history: Sequence[tuple[str, str]] = (),
             tree: str | None = None) -> Iterator[str | Answer]:
        with self._turn:
            yield from self._turn_locked(question, cancel, progress, max_tokens, history, tree)

    def _turn_locked(self, question: str | None, cancel: threading.Event | None,
                     progress: ProgressFn, max_tokens: int,
                     history: Sequence[tuple[str, str]],
                     tree: str | None) -> Iterator[str | Answer]:
        started = time.perf_counter()
        index = self._index(progress, tree)
        backend = self._ensure_backend(index.total_tokens + PROMPT_OVERHEAD, progress)
        history = list(history)
        dropped = 0
        while True:
            prompt = build_prompt(backend.chat, backend.tokenize, index.segments, question,
                                  history, bos=backend.bos_tokens())
            if len(prompt.tokens) + max_tokens <= backend.context_window:
                break
            try:
                if self._scripted:
                    raise ModelError("the conversation does not fit the context")
                # A long question, pinned files, a retry: a larger context may hold it.
                backend = self._ensure_backend(len(prompt.tokens), progress)
                break
            except ModelError:
                if not history:
                    raise
                history.pop(0)  # the oldest turn goes first
                dropped += 1
        trimmed = (f"the {dropped} oldest turn(s) of the conversation were left out to fit "
                   "the context",) if dropped else ()
        if question is None:
            prompt = Prompt(prompt.prefix, (), prompt.messages[:1])
        params = GenerationParams(max_tokens=max_tokens)
        load_s = self._load_s
        self._load_s = 0.0  # the model loads once per session
        for item in backend.stream(prompt, params, cancel,
                                   lambda done, total: progress("prefill", done, total)):
            if isinstance(item, Completion):
                overhead = time.perf_counter() - started - item.total_s  # index, model load
                yield Answer(**{
                    **asdict(item), "model": backend.name, "load_s": load_s + item.load_s,
                    "ttft_s": item.ttft_s + overhead, "total_s": item.total_s + overhead,
                    "notes": item.notes + tuple(index.notes) + _fit_notes(index) + trimmed,
                })
            else:
                yield item

    def _resolved(self) -> tuple[ResolvedModel, ModelInfo]:
        if self._model is None:
            resolved = resolve_model(self.loaded.settings.model, self.loaded.cache_path(),
                                     self.loaded.models_path())
            self._model = (resolved, read_info(resolved.path))
        return self._model

    def _index(self, progress: ProgressFn, tree: str | None = None,
               whole: bool = False) -> IndexResult:
        base = self.loaded.with_budget(None) if whole else self.loaded
        if self._scripted:
            return index_repository(self.root, base, progress, tree)
        server = self._connect(progress) if self._remote_backend else None
        loaded = base if server else base.with_model_path(self._resolved()[0].path)
        if loaded.settings.budget is None and not whole:
            # Room is kept for the question, pinned files and one retry's exchange.
            budget = self.prompt_limit() - PROMPT_OVERHEAD - RETRY_ROOM
            if budget <= 0:
                raise self._no_room()
            loaded = loaded.with_budget(budget)
        return index_repository(self.root, loaded, progress, tree,
                                server.counter() if server else None)

    def _no_room(self) -> ModelError:
        if self._remote_backend:
            context = self._connect(_noop).context_window
            return ModelError(
                f"the server's context ({context:,} tokens) leaves no room for a prompt after "
                f"{self.loaded.settings.max_answer_tokens:,} for the answer",
                "Start the server with a larger context, or lower max_answer_tokens.")
        return ModelError(
            f"{self._resolved()[0].name} leaves no room for a prompt in the "
            f"{planner.gib(planner.available_memory())} of memory available",
            "Close other programs, quantize the KV cache (kv_type = \"q4_0\"), or use "
            "a smaller model.")

    def _kv_type(self) -> str:
        setting = self.loaded.settings.kv_type
        if setting != "auto":
            return setting
        resolved, _ = self._resolved()
        return resolved.entry.kv if resolved.entry else "f16"

    def _max_prompt_tokens(self, info: ModelInfo) -> int:
        """What the model's context and this machine's memory allow, less the answer's room."""
        limit = planner.max_context(info.architecture, info.size_bytes, self._kv_type(),
                                    planner.available_memory())
        return max(limit - self.loaded.settings.max_answer_tokens, 1)

    @property
    def _remote_backend(self) -> bool:
        return not self._scripted and self.loaded.settings.backend == "openai"

    def _connect(self, progress: ProgressFn) -> OpenAICompatBackend:
        """The server backend, connected on first use."""
        if self._server is None:
            from codectx.models.openai_compat import OpenAICompatBackend, ServerOptions

            settings = self.loaded.settings
            if not settings.base_url:
                raise ConfigError("backend = \"openai\" needs the server's address",
                                  "Set base_url (--base-url), e.g. http://127.0.0.1:8080.")
            local = self._resolved()[0].path if settings.model else None
            progress("load", 0, 1)
            t0 = time.perf_counter()
            self._server = OpenAICompatBackend(ServerOptions(
                settings.base_url, settings.api_key_env, settings.server_model,
                settings.server_context, settings.server_timeout, settings.server_slot,
                self.loaded.cache_path() / "server-slots", local, str(self.root.resolve())))
            self._load_s = time.perf_counter() - t0
            progress("load", 1, 1)
        return self._server

    def _ensure_backend(self, prompt_tokens: int, progress: ProgressFn) -> ModelBackend:
        """A backend whose context holds `prompt_tokens` plus the answer."""
        needed = prompt_tokens + self.loaded.settings.max_answer_tokens
        if self._remote_backend:
            server = self._connect(progress)
            if server.context_window < needed:
                raise ModelError(
                    f"the prompt needs {prompt_tokens:,} tokens and the answer up to "
                    f"{self.loaded.settings.max_answer_tokens:,}; the server's context holds "
                    f"{server.context_window:,}",
                    "Lower --budget, shorten the question, or start the server with a larger "
                    "context.")
            self._backend = server
            return server
        if self._backend is not None and (self._scripted or self._backend.context_window >= needed):
            return self._backend
        from codectx.models.llama_cpp import LlamaCppBackend, LlamaOptions, cache_key
        from codectx.models.prompt_cache import PromptCache

        resolved, info = self._resolved()
        settings = self.loaded.settings
        plan = planner.plan_context(
            info.architecture, info.size_bytes, prompt_tokens,
            settings.max_answer_tokens, self._kv_type(), planner.available_memory())
        options = LlamaOptions(n_ctx=plan.n_ctx, kv_type=plan.kv_type,
                               flash_attn=settings.flash_attn, threads=settings.threads)
        cache = PromptCache(self.loaded.prompts_path(), cache_key(info, options),
                            int(settings.prompt_cache_gb * (1 << 30))) if self._persist else None
        progress("load", 0, 1)
        t0 = time.perf_counter()
        self._backend = LlamaCppBackend(info, options, cache, label=self.root.resolve().name,
                                        name=resolved.name)
        self._load_s = time.perf_counter() - t0
        progress("load", 1, 1)
        return self._backend
