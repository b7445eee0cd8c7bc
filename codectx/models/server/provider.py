"""A model on an inference server: connected on first use, its context the limit.

The server decides the context and, when it has a tokenize route, the token
counts; a local GGUF copy of the same model (the `model` setting) can stand
in for its chat template and tokenizer. Nothing is loaded here, so a prompt
that outgrows the server's context is refused with the numbers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from codectx.config import Loaded
from codectx.errors import ConfigError, ModelError
from codectx.models.backend import ModelBackend
from codectx.models.catalog import DEFAULT_EDIT_FORMAT, is_auto
from codectx.models.catalog.resolve import resolve_model
from codectx.models.identity import RepoId
from codectx.models.runtime.speed import Speed
from codectx.models.server.openai_compat import OpenAICompatBackend, ServerOptions
from codectx.progress import Progress, no_progress
from codectx.tokens import TokenCounter


class ServerProvider:
    warms_ahead = True

    def __init__(self, loaded: Loaded, repo: RepoId) -> None:
        """`repo` keys the server's saved slot states."""
        self.loaded = loaded
        self.repo = repo
        self._server: OpenAICompatBackend | None = None
        self._load_s = 0.0
        self._connecting = threading.Lock()  # a front end's /model may race a turn

    @classmethod
    def from_settings(cls, root: Path, loaded: Loaded, *, persist: bool = True) -> ServerProvider:
        # The server keeps its own prompt cache; `persist` is the local cache's concern.
        return cls(loaded, RepoId.of(root))

    def connect(self, progress: Progress = no_progress) -> OpenAICompatBackend:
        """The server backend, connected on first use."""
        with self._connecting:
            return self._connect(progress)

    def _connect(self, progress: Progress) -> OpenAICompatBackend:
        if self._server is None:
            settings = self.loaded.settings
            if not settings.base_url:
                raise ConfigError("backend = \"openai\" needs the server's address",
                                  "Set `base_url` to the server's address, e.g. http://127.0.0.1:8080.")
            local = (None if is_auto(settings.model) else resolve_model(
                settings.model, self.loaded.cache_path(), self.loaded.models_path()).path)
            progress("load", 0, 1)
            started = time.perf_counter()
            self._server = OpenAICompatBackend(ServerOptions(
                settings.base_url, settings.api_key_env, settings.server_model,
                settings.server_context, settings.server_timeout, settings.server_slot,
                self.loaded.cache_path() / "server-slots", local, self.repo.key))
            self._load_s += time.perf_counter() - started
            progress("load", 1, 1)
        return self._server

    @property
    def current(self) -> ModelBackend | None:
        return self._server

    def context_limit(self, progress: Progress = no_progress) -> int:
        return self.connect(progress).context_window

    def counter(self) -> TokenCounter:
        return self.connect().counter()

    def backend(self, prompt_tokens: int, answer_tokens: int,
                progress: Progress) -> ModelBackend:
        server = self.connect(progress)
        if server.context_window < prompt_tokens + answer_tokens:
            raise ModelError(
                f"the prompt needs {prompt_tokens:,} tokens and the answer up to "
                f"{answer_tokens:,}; the server's context holds {server.context_window:,}",
                "Lower the `budget` setting, shorten the question, or start the server with a "
                "larger context.")
        return server

    def reuse_mode(self) -> str:
        # The server reuses a common prefix (and, past it, chunks it finds again):
        # counted as a prefix, what is evaluated is at most what is said.
        return "prefix"

    def close(self) -> None:
        with self._connecting:
            server, self._server = self._server, None
        if server is not None:
            server.close()

    def take_load_s(self) -> float:
        seconds, self._load_s = self._load_s, 0.0
        return seconds

    def description(self) -> str:
        return f"model: {self.connect().describe()}"

    def cache_description(self) -> str:
        return (f"the prompt cache is the server's, at {self.loaded.settings.base_url} "
                "(llama.cpp keeps slot states in its --slot-save-path)")

    def edit_format(self) -> str:
        settings = self.loaded.settings
        if is_auto(settings.model):  # auto picks among local models, not a server's
            return DEFAULT_EDIT_FORMAT
        return resolve_model(settings.model, self.loaded.cache_path(),
                             self.loaded.models_path()).edit_format

    def speed(self, progress: Progress = no_progress) -> Speed | None:
        return None  # not measured: turns take what the context allows

    def no_room(self) -> ModelError:
        return ModelError(
            f"the server's context ({self.context_limit():,} tokens) leaves no room for a "
            f"prompt after {self.loaded.settings.max_answer_tokens:,} for the answer",
            "Start the server with a larger context, or lower max_answer_tokens.")
