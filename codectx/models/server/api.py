"""Talking to an inference server over HTTP: requests, errors, and what it offers.

One `Api` per server holds an httpx client. Every failure becomes a
`ModelError` that says what went wrong and what to do: the server is down or
the URL wrong, the API key refused, a timeout, an HTTP error with the
server's own message. Only what is safe to repeat is retried: connecting
(httpx retries a refused or failed connection with backoff) and a request
the server turned away with 503 while it loads its model.

`probe` asks the server what it is once, when connecting: llama.cpp's server
(`/props`: context per slot, chat template; `/tokenize`; token-id prompts;
cached-token timings; slot save/restore), vLLM (`max_model_len`; `/tokenize`;
token-id prompts; cached tokens in `usage`), llama-cpp-python's server
(`/extras/tokenize`; text prompts only), or any other OpenAI-compatible API.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from httpx_sse import SSEError, connect_sse
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from codectx.errors import ModelError

Kind = Literal["llama.cpp", "vllm", "llama-cpp-python", "openai"]
TokenizeRoute = Literal["llama.cpp", "vllm", "extras"]
CONNECT_TIMEOUT = 10.0


class _Busy(Exception):
    """HTTP 503: the server is loading or full; asking again later is safe."""


class StreamCut(Exception):
    """The connection ended in the middle of a streamed answer."""


def split_base_url(base_url: str) -> str:
    """The server's root: `http://host:8080/v1/` and `http://host:8080` both give the latter."""
    url = base_url.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[:-3]
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ModelError(f"base_url '{base_url}' is not an http(s) URL",
                         "Set `base_url` to the server's address, e.g. http://127.0.0.1:8080.")
    return url


def server_message(response: httpx.Response) -> str:
    """The error message a server put in its reply, whatever its shape."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            return str(error)[:300]
    return str(data)[:300]


class Api:
    def __init__(self, base_url: str, api_key: str | None = None, api_key_env: str | None = None,
                 timeout: float = 1800.0) -> None:
        """`timeout`: seconds to wait for the server's next bytes (a long prefill included)."""
        self.root = split_base_url(base_url)
        self.api_key_env = api_key_env
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout
        self.client = httpx.Client(
            base_url=self.root, headers=headers,
            timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
            transport=httpx.HTTPTransport(retries=2))

    # -- plain requests -------------------------------------------------------------

    def get(self, path: str, *, optional: bool = False) -> Any:
        """The JSON at path; with `optional`, None when the server has no such route."""
        return self._retrying(lambda: self._json(self.client.get(path), optional))

    def post(self, path: str, body: dict[str, Any], *, optional: bool = False) -> Any:
        return self._retrying(lambda: self._json(self.client.post(path, json=body), optional))

    def _retrying(self, call: Any) -> Any:
        try:
            for attempt in Retrying(retry=retry_if_exception_type(_Busy), reraise=True,
                                    wait=wait_exponential(multiplier=0.5, max=4),
                                    stop=stop_after_attempt(5)):
                with attempt, self.errors():
                    return call()
        except _Busy as busy:
            raise ModelError(f"the server at {self.root} is busy or still loading (HTTP 503): "
                             f"{busy}", "Wait until it is ready, then ask again.") from None
        raise AssertionError("unreachable")

    def _json(self, response: httpx.Response, optional: bool) -> Any:
        if optional and response.status_code in (404, 405, 501):
            return None
        self.check(response)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            if optional:
                return None
            raise ModelError(f"{response.request.url} did not answer with JSON",
                             "Check `base_url`: it should be an OpenAI-compatible server."
                             ) from None

    # -- streams ----------------------------------------------------------------------

    @contextlib.contextmanager
    def events(self, path: str, body: dict[str, Any]) -> Iterator[tuple[httpx.Response,
                                                                        Iterator[dict[str, Any]]]]:
        """The server-sent events of a streamed request, each parsed from JSON.

        Ends at `[DONE]`; a connection that ends before it raises StreamCut.
        """
        with contextlib.ExitStack() as stack:
            source = self._retrying(lambda: self._open(stack, path, body))
            yield source.response, self._parsed(source.iter_sse())

    def _open(self, outer: contextlib.ExitStack, path: str, body: dict[str, Any]) -> Any:
        with contextlib.ExitStack() as attempt:
            source = attempt.enter_context(connect_sse(self.client, "POST", path, json=body))
            if source.response.status_code >= 400:
                source.response.read()
            self.check(source.response)
            outer.enter_context(attempt.pop_all())
            return source

    def _parsed(self, events: Iterator[Any]) -> Iterator[dict[str, Any]]:
        try:
            for event in events:
                if event.data.strip() == "[DONE]":
                    return
                if not event.data.strip():
                    continue
                try:
                    data = json.loads(event.data)
                except json.JSONDecodeError as exc:
                    raise StreamCut(f"the server sent something that is not JSON: "
                                    f"{event.data[:120]!r}") from exc
                if isinstance(data, dict) and "error" in data:
                    raise ModelError(f"the server failed mid-answer: {data['error']}")
                yield data
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.StreamError, SSEError) as exc:
            raise StreamCut(str(exc) or type(exc).__name__) from exc
        except httpx.TimeoutException as exc:
            raise StreamCut(f"nothing came for {self.timeout:.0f} s") from exc
        raise StreamCut("the connection ended before the answer did")

    # -- errors -------------------------------------------------------------------------

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """httpx's failures as errors that say what to do."""
        try:
            yield
        except httpx.ConnectError as exc:
            raise ModelError(f"cannot connect to the server at {self.root}: {exc}",
                             "Start the server, or check `base_url` (host and port).") from exc
        except httpx.TimeoutException as exc:
            raise ModelError(f"the server at {self.root} did not answer within "
                             f"{self.timeout:.0f} s ({type(exc).__name__})",
                             "Check that the server is running; raise `server_timeout` for a "
                             "long prefill.") from exc
        except httpx.TransportError as exc:
            raise ModelError(f"the connection to {self.root} failed: {exc}",
                             "Check that the server is running and reachable.") from exc

    def check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        message = server_message(response)
        where = f"{response.request.method} {response.request.url}"
        if status == 503:
            raise _Busy(message)
        if status in (401, 403):
            raise ModelError(
                f"the server refused the request (HTTP {status}, {where}): {message}",
                f"Put the server's API key in ${self.api_key_env}." if self.api_key_env else
                "Set `api_key_env` to the name of the environment variable that "
                "holds the server's API key.")
        if status == 404:
            raise ModelError(f"not found (HTTP 404, {where}): {message}",
                             "Check `base_url`: it is the server's address, such as "
                             "http://127.0.0.1:8080, which serves /v1/completions.")
        raise ModelError(f"the server answered HTTP {status} to {where}: {message}")


@dataclass(frozen=True)
class Server:
    """What a server is and offers, as far as it says."""

    kind: Kind
    model: str
    context: int | None
    chat_template: str | None = None
    bos_token: str = ""
    eos_token: str = ""
    tokenize_route: TokenizeRoute | None = None

    @property
    def takes_token_ids(self) -> bool:
        return self.kind in ("llama.cpp", "vllm")

    @property
    def describe(self) -> str:
        return {"llama.cpp": "llama.cpp server", "vllm": "vLLM",
                "llama-cpp-python": "llama-cpp-python server",
                "openai": "OpenAI-compatible server"}[self.kind]


def probe(api: Api, wanted: str | None) -> Server:
    """Ask the server which models it serves, its context, tokenizer and template."""
    listing = api.get("/v1/models")
    models = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(models, list) or not models:
        raise ModelError(f"the server at {api.root} lists no models at /v1/models",
                         "Check `base_url`, and that the server has loaded a model.")
    ids = [str(m.get("id")) for m in models if isinstance(m, dict)]
    if wanted is not None and wanted not in ids:
        raise ModelError(f"the server at {api.root} does not serve '{wanted}'",
                         f"It serves: {', '.join(ids)}. Set `server_model` to one of them.")
    model = wanted or ids[0]
    entry = next(m for m in models if isinstance(m, dict) and str(m.get("id")) == model)

    props = api.get("/props", optional=True)
    if isinstance(props, dict) and "default_generation_settings" in props:
        settings = props["default_generation_settings"] or {}
        context = settings.get("n_ctx") or props.get("n_ctx")
        return Server("llama.cpp", model, int(context) if context else None,
                      props.get("chat_template") or None, str(props.get("bos_token") or ""),
                      str(props.get("eos_token") or ""), "llama.cpp")
    if entry.get("max_model_len") or entry.get("owned_by") == "vllm":
        context = entry.get("max_model_len")
        return Server("vllm", model, int(context) if context else None, tokenize_route="vllm")
    extras = api.post("/extras/tokenize", {"input": "a", "model": model}, optional=True)
    if isinstance(extras, dict) and isinstance(extras.get("tokens"), list):
        return Server("llama-cpp-python", model, None, tokenize_route="extras")
    return Server("openai", model, None)


class Reply:
    """What the chunks of one streamed answer say."""

    def __init__(self, warm: bool) -> None:
        self.warm = warm
        self.text: list[str] = []
        self.chunks = 0
        self.finish: str | None = None
        self.usage: dict[str, Any] = {}
        self.timings: dict[str, Any] = {}
        self.processed: int | None = None
        self.first_s: float | None = None

    def take(self, chunk: dict[str, Any], path: str) -> str:
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        if isinstance(chunk.get("timings"), dict):
            self.timings = chunk["timings"]
        progress = chunk.get("prompt_progress")
        if isinstance(progress, dict) and "processed" in progress:
            self.processed = int(progress["processed"])
        piece = ""
        for choice in (chunk.get("choices") or [])[:1]:
            if path.endswith("chat/completions"):
                piece = (choice.get("delta") or {}).get("content") or ""
            else:
                piece = choice.get("text") or ""
            self.finish = choice.get("finish_reason") or self.finish
        if piece:
            self.chunks += 1
            self.text.append(piece)
        return piece

    def stop_reason(self) -> str:
        return "length" if self.finish == "length" else "stop"

    def prompt_tokens(self) -> int | None:
        value = self.usage.get("prompt_tokens")
        if value is None and "prompt_n" in self.timings:
            value = self.timings["prompt_n"] + self.timings.get("cache_n", 0)
        return int(value) if value is not None else None

    def cached(self) -> int | None:
        details = self.usage.get("prompt_tokens_details")
        if isinstance(details, dict) and details.get("cached_tokens") is not None:
            return int(details["cached_tokens"])
        if "cache_n" in self.timings:
            return int(self.timings["cache_n"])
        return None

    def generated(self) -> int:
        value = self.usage.get("completion_tokens")
        return int(value) if value is not None else self.chunks


def tokens_of(data: Any) -> list[int]:
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, list):
        raise ModelError("the server's tokenize route answered without a token list")
    # llama.cpp may send {"id", "piece"} pairs; only the ids matter here.
    return [int(t["id"]) if isinstance(t, dict) else int(t) for t in tokens]


def close_on_cancel(cancel: threading.Event, done: threading.Event, response: Any) -> None:
    """Shut the connection down when cancelled, so a wait for a long prefill ends at once.

    Closing alone does not wake a read blocked in another thread; a socket shutdown does,
    and the server sees the client go and stops the request.
    """
    while not done.wait(0.1):
        if cancel.is_set():
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            return
