"""A tiny HTTP server that speaks llama.cpp's server API, and misbehaves on request.

Tokens are UTF-8 bytes (as in FakeBackend); a completion streams the next
scripted reply word by word (a one-token warm-up gets "fine" and leaves the
script alone), then a final chunk with llama.cpp's `timings` (how much of the
prompt its cache held) and OpenAI's `usage`. What it does follows the real
`llama-server` (tests/models/test_llama_server_real.py runs the backend against
that): `return_progress` chunks before the answer, "length" when `max_tokens`
cut the reply, the cache kept as a common prefix and, with `n_cache_reuse`,
chunks of the cached prompt shifted back over tokens that were removed, the
last prompt token always evaluated. `mode` makes
it fail on purpose: "cut" drops the connection after two words, "cut-early"
before the first, "slow" waits `delay` seconds before answering, "busy"
answers 503 to the first `busy_count` requests, "error" answers 500, and
`api_key` turns on key checking. `slot_save` enables /slots save and restore.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass
class State:
    replies: deque[str] = field(default_factory=deque)
    n_ctx: int = 1 << 16
    mode: str = ""
    delay: float = 0.0
    busy_count: int = 0
    api_key: str | None = None
    slot_save: bool = False
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    last_prompt: list[int] = field(default_factory=list)
    saved: dict[str, list[int]] = field(default_factory=dict)
    template: str | None = CHATML_TEMPLATE

    def completions(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path.startswith("/v1/")]


def _tokens(text: str) -> list[int]:
    return list(text.encode("utf-8"))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _refused(self) -> bool:
        state = self.state
        if state.api_key and self.headers.get("Authorization") != f"Bearer {state.api_key}":
            self._send(401, {"error": {"message": "Invalid API Key", "code": 401}})
            return True
        if state.busy_count > 0:
            state.busy_count -= 1
            self._send(503, {"error": {"message": "Loading model", "code": 503}})
            return True
        return False

    def do_GET(self) -> None:
        if self._refused():
            return
        path = urlparse(self.path).path
        if path == "/v1/models":
            self._send(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "owned_by": "llamacpp"}]})
        elif path == "/props":
            # Qwen's, as the real server reports them (its tokenizer adds no BOS all the same)
            props: dict[str, Any] = {"default_generation_settings": {"n_ctx": self.state.n_ctx},
                                     "total_slots": 1, "bos_token": "<|endoftext|>",
                                     "eos_token": "<|im_end|>"}
            if self.state.template:
                props["chat_template"] = self.state.template
            self._send(200, props)
        else:
            self._send(404, {"error": {"message": "File Not Found", "code": 404}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        url = urlparse(self.path)
        self.state.requests.append((url.path, body))
        if self._refused():
            return
        if url.path == "/tokenize":
            self._send(200, {"tokens": _tokens(body.get("content", ""))})
        elif url.path.startswith("/slots/"):
            self._slots(parse_qs(url.query).get("action", [""])[0], body)
        elif url.path in ("/v1/completions", "/v1/chat/completions"):
            if self.state.mode == "error":
                self._send(500, {"error": {"message": "out of memory in the KV cache",
                                           "code": 500}})
                return
            self._complete(url.path, body)
        else:
            self._send(404, {"error": {"message": "File Not Found", "code": 404}})

    def _slots(self, action: str, body: dict[str, Any]) -> None:
        state = self.state
        if not state.slot_save:
            self._send(501, {"error": {
                "message": "This server does not support slots action. Start it with "
                           "`--slot-save-path`", "code": 501, "type": "not_supported_error"}})
        elif action == "save":
            state.saved[body["filename"]] = list(state.last_prompt)
            self._send(200, {"id_slot": 0, "filename": body["filename"],
                             "n_saved": len(state.last_prompt),
                             "n_written": 12288 * len(state.last_prompt)})
        elif action == "restore" and body["filename"] in state.saved:
            state.last_prompt = list(state.saved[body["filename"]])
            self._send(200, {"id_slot": 0, "filename": body["filename"],
                             "n_restored": len(state.last_prompt),
                             "n_read": 12288 * len(state.last_prompt)})
        else:
            self._send(400, {"error": {
                "message": "Unable to restore slot: No available space in KV cache or invalid "
                           "slot save file", "code": 400, "type": "invalid_request_error"}})

    def _complete(self, path: str, body: dict[str, Any]) -> None:
        state = self.state
        prompt = body.get("prompt")
        if path.endswith("chat/completions"):
            tokens = _tokens("".join(m["content"] for m in body["messages"]))
        elif isinstance(prompt, list):
            tokens = [int(t) for t in prompt]
        else:
            tokens = _tokens(str(prompt))
        cached = cached_tokens(state.last_prompt, tokens, int(body.get("n_cache_reuse") or 0)
                         ) if body.get("cache_prompt") else 0
        state.last_prompt = tokens
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if state.mode == "slow":
            time.sleep(state.delay)
        if state.mode == "cut-early":
            self.wfile.flush()
            self.connection.close()
            return
        chat = path.endswith("chat/completions")
        if body.get("return_progress"):
            for processed in (cached, len(tokens)):
                self._event({"choices": [{"index": 0, **({"delta": {}} if chat else {"text": ""}),
                                          "finish_reason": None}],
                             "prompt_progress": {"total": len(tokens), "cache": cached,
                                                 "processed": processed, "time_ms": 0}})
        # A request for one token is a warm-up: it leaves the script alone.
        warm = int(body.get("max_tokens") or 0) == 1
        reply = state.replies.popleft() if state.replies and not warm else "fine"
        every = reply.split(" ")
        words = every[: max(int(body.get("max_tokens") or 1), 1)]
        for i, word in enumerate(words):
            if state.mode == "cut" and i == 2:
                self.wfile.flush()
                self.connection.close()
                return
            piece = word if i == 0 else " " + word
            choice: dict[str, Any] = {"delta": {"content": piece}} if chat else {"text": piece}
            self._event({"choices": [{"index": 0, **choice, "finish_reason": None}]})
        last: dict[str, Any] = {"delta": {}} if chat else {"text": ""}
        finish = "length" if len(words) < len(every) else "stop"
        self._event({"choices": [{"index": 0, **last, "finish_reason": finish}],
                     "timings": {"cache_n": cached, "prompt_n": len(tokens) - cached},
                     "usage": {"completion_tokens": len(words), "prompt_tokens": len(tokens),
                               "total_tokens": len(tokens) + len(words),
                               "prompt_tokens_details": {"cached_tokens": cached}}})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, data: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()


def cached_tokens(cache: list[int], prompt: list[int], reuse: int) -> int:
    """How many prompt tokens llama-server takes from its cache: the common prefix, then,
    with `n_cache_reuse`, each run of at least `reuse` cached tokens that the prompt continues
    with once the cached tokens before it are skipped (it never skips the prompt's own, so
    new text ends the reuse); the last prompt token is always evaluated."""
    n = 0
    while n < min(len(cache), len(prompt)) and cache[n] == prompt[n]:
        n += 1
    head_c = head_p = n
    while reuse > 0 and head_c < len(cache) and head_p < len(prompt):
        match = 0
        while (head_c + match < len(cache) and head_p + match < len(prompt)
               and cache[head_c + match] == prompt[head_p + match]):
            match += 1
        if match >= reuse:
            n += match
            head_c += match
            head_p += match
        else:
            head_c += 1
    return min(n, len(prompt) - 1) if prompt else 0


@contextmanager
def fake_llama_server(state: State | None = None) -> Iterator[tuple[str, State]]:
    """(base URL, state) of a fake llama.cpp server on 127.0.0.1, for the block's duration."""
    state = state or State()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
