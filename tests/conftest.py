"""Shared test helpers: real git repositories in temp dirs and an isolated environment."""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import git
import pytest

from codectx import config
from codectx.assistant.results import Review
from codectx.assistant.review.change import Change
from codectx.assistant.reviewing import review
from codectx.assistant.session import Session
from codectx.indexer.repository import IndexResult, index_repository
from codectx.models import catalog
from codectx.models.backend import Completion
from codectx.models.catalog import auto
from codectx.models.provider import index_counter
from tests.support.fake import FakeBackend, ScriptedProvider

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[1]
SCRIPTED = "scripted=tests.support.fake:ScriptedProvider"
"""The scripted model, registered with the provider registry ($CODECTX_TEST_BACKENDS)."""


# A test that needs the embedded model (llama-cpp-python loading a GGUF, here or in a
# subprocess) is marked `model`; one that needs the built llama-server is marked `server`.
# Tests that use the fixtures below are marked so at collection; others say so themselves.
# `make test-fast` runs the rest, which never join or load the model (isolated_env refuses).
MODEL_FIXTURES = frozenset({"embedded_gguf"})
SERVER_FIXTURES = frozenset({"llama_server"})
LARGE = 1 << 20  # bytes: a GGUF this large is a model, not a test's own small file


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & SERVER_FIXTURES:
            item.add_marker(pytest.mark.server)
        if names & (MODEL_FIXTURES | SERVER_FIXTURES):
            item.add_marker(pytest.mark.model)


def refuse_model_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Nothing in this process joins a packaged model or has llama.cpp load a large GGUF;
    what was asked for all the same."""
    import llama_cpp.llama_cpp as low

    from codectx.models.catalog import embedded

    refused: list[str] = []
    real = {packaged.parts for packaged in embedded.PACKAGES.values()}
    part_files = embedded.Packaged.part_files

    def guarded_parts(packaged: embedded.Packaged) -> list[Path]:
        if packaged.parts in real:
            refused.append(packaged.label)
            raise RuntimeError(f"{packaged.label}: a test that joins it must be marked `model`")
        return part_files(packaged)

    monkeypatch.setattr(embedded.Packaged, "part_files", guarded_parts)
    load = low.llama_model_load_from_file

    def guarded(path: bytes, params: Any) -> Any:
        file = Path(path.decode())
        if file.is_file() and file.stat().st_size >= LARGE:
            refused.append(str(file))
            raise RuntimeError(f"{file}: a test that loads a model must be marked `model`")
        return load(path, params)

    monkeypatch.setattr(low, "llama_model_load_from_file", guarded)
    return refused


@pytest.fixture(autouse=True)
def isolated_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test reads the developer's own config or writes to their cache.

    A test marked `model` finds the embedded model in its cache, joined once per session;
    any other test neither loads a model nor joins one into its cache.
    """
    home = tmp_path_factory.mktemp("home")
    models = home / "cache" / "models"
    models.mkdir(parents=True)
    needs_model = request.node.get_closest_marker("model") is not None
    refused: list[str] = []
    if needs_model:
        embedded_gguf: Path = request.getfixturevalue("embedded_gguf")
        (models / embedded_gguf.name).symlink_to(embedded_gguf)
        marker = embedded_gguf.with_suffix(".sha256")
        (models / marker.name).write_text(marker.read_text())
    else:
        refused = refuse_model_loads(monkeypatch)
    # `model = auto` weighs the installed models: a test sees the embedded one alone,
    # whatever else this machine has installed (tests/models/test_auto.py weighs several).
    real_installed = auto.installed
    monkeypatch.setattr(auto, "installed", lambda loaded: [
        m for m in real_installed(loaded) if m.name == catalog.EMBEDDED])
    for name in list(os.environ):
        if name.startswith("CODECTX_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CODECTX_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("CODECTX_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("CODECTX_TEST_BACKENDS", SCRIPTED)  # the scripted model is accepted
    # Prefill settings are measured once per cache directory (tests/models/test_tuning_real.py
    # tests that); elsewhere they are set, so that no test pays for a measurement.
    monkeypatch.setenv("CODECTX_FLASH_ATTN", "false")
    monkeypatch.setenv("CODECTX_N_BATCH", "512")
    # Two test workers share the machine's cores: one thread each, or llama.cpp's spinning
    # threads would contend for the same cores.
    monkeypatch.setenv("CODECTX_THREADS", "1")
    # Turns are sized by the context, as before time targets: a test that loads the model
    # would otherwise measure its speed first (tests/models/test_speed_real.py tests that).
    for target in ("FIRST_ANSWER", "QUESTION", "EDIT"):
        monkeypatch.setenv(f"CODECTX_{target}_SECONDS", "0")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    yield home
    if not needs_model:
        joined = [p.name for p in models.iterdir() if p.is_file() and p.stat().st_size >= LARGE]
        assert not refused and not joined, (
            f"a test not marked `model` loaded {refused} or joined {joined}: mark it `model`")


def scripted_env(replies: list[str], delay: float = 0.0) -> dict[str, str]:
    """The environment that gives a codectx subprocess a scripted model (through the
    provider registry) answering with `replies`, `delay` seconds a word."""
    path = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    return {"CODECTX_BACKEND": "scripted", "CODECTX_TEST_BACKENDS": SCRIPTED,
            "PYTHONPATH": path,
            "CODECTX_SCRIPTED_REPLIES": json.dumps(replies),
            "CODECTX_SCRIPTED_DELAY": str(delay)}


def use_scripted(monkeypatch: pytest.MonkeyPatch, backend: FakeBackend) -> FakeBackend:
    """Sessions made in this process (by the command line) get `backend`, through the
    registry's scripted provider."""
    monkeypatch.setenv("CODECTX_TEST_BACKENDS", SCRIPTED)
    monkeypatch.setenv("CODECTX_BACKEND", "scripted")

    def from_settings(cls: type[ScriptedProvider], /, root: Path, loaded: Any,
                      **options: Any) -> ScriptedProvider:
        return cls(backend)

    monkeypatch.setattr(ScriptedProvider, "from_settings", classmethod(from_settings))
    return backend


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    """Sessions made by the command line get this scripted backend."""
    return use_scripted(monkeypatch, FakeBackend())


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def commit(repo: git.Repo, files: Mapping[str, str | bytes], message: str = "change") -> None:
    """Write files and commit them, with a fixed author and date so hashes are stable."""
    root = Path(repo.working_tree_dir or ".")
    write_tree(root, files)
    repo.index.add(list(files))
    actor = git.Actor("Test", "test@example.com")
    repo.index.commit(message, author=actor, committer=actor,
                      author_date="2026-01-01T00:00:00", commit_date="2026-01-01T00:00:00")


def stage(root: Path, files: Mapping[str, str]) -> None:
    """Write files in the work tree and stage them (the repository object closed after,
    so its git processes end)."""
    write_tree(root, files)
    with git.Repo(root) as repo:
        repo.index.add(list(files))


def reviewed(session: Session, change: Change) -> Review:
    """The Review a review ends with (its text pieces before it read and dropped)."""
    *_, result = review(session, change)
    assert isinstance(result, Review)
    return result


def installed_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *names: str,
                    after: str = "/usr/bin:/bin") -> Path:
    """Programs called `names` that do nothing, first on the PATH (then `after`): what
    detection finds installed."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in names:
        (tools / name).write_text("#!/bin/sh\nexit 0\n")
        (tools / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{after}")
    return tools


def make_repo(root: Path, files: Mapping[str, str | bytes] | None = None) -> git.Repo:
    root.mkdir(parents=True, exist_ok=True)
    repo = git.Repo.init(root, initial_branch="main")
    if files:
        commit(repo, files, "initial")
    return repo


def copy_fixture(name: str, dest: Path) -> Path:
    shutil.copytree(FIXTURES / name, dest)
    return dest


def expected_edges(name: str) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    return data


def index(root: Path, **flags: object) -> IndexResult:
    """Index as `codectx index` does: exact counts only when a model is named."""
    loaded = config.load(root, flags)
    return index_repository(root, loaded, index_counter(loaded))


@pytest.fixture(scope="session")
def embedded_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded default model, joined from its installed chunk packages."""
    from codectx.models.catalog.embedded import embedded_model_path

    return embedded_model_path(tmp_path_factory.mktemp("models"))


@pytest.fixture
def quick_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefill settings left to measurement (`auto`), measured on short prompts."""
    from codectx.models.runtime import tuning

    monkeypatch.delenv("CODECTX_FLASH_ATTN")
    monkeypatch.delenv("CODECTX_N_BATCH")
    monkeypatch.delenv("CODECTX_THREADS")
    monkeypatch.setattr(tuning, "PROBE", 256)
    monkeypatch.setattr(tuning, "PROBE_FULL", 256)
    monkeypatch.setattr(tuning, "BATCHES", (128, 256))
    monkeypatch.setattr(tuning, "FIRST_BATCH", 256)
    monkeypatch.setattr(tuning, "DEPTH", 512)
    monkeypatch.setattr(tuning, "DEPTH_FULL", 768)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_all(stream: Iterable[str | Completion]) -> tuple[list[str], Completion]:
    """The text pieces a backend streamed, and the Completion that ended them."""
    pieces: list[str] = []
    final = None
    for item in stream:
        if isinstance(item, Completion):
            final = item
        else:
            pieces.append(item)
    assert final is not None
    return pieces, final
