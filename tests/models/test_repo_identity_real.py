"""Two repositories with the same folder name are two repositories: each prefills under
its own lock and answers from its own state, even side by side, at the same time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codectx import config
from codectx.assistant.session import Answer, Session
from codectx.models.identity import RepoId
from codectx.models.runtime.prompt_cache import PromptCache
from tests.conftest import make_repo

pytestmark = pytest.mark.model

QUESTION = "What is the value of the constant SERVICE_PORT? Answer with the number only."


def app(root: Path, port: int) -> Path:
    make_repo(root, {
        "settings.py": f'"""Where the service listens."""\n\nSERVICE_PORT = {port}\n',
        "main.py": "from settings import SERVICE_PORT\n\n\ndef address():\n"
                   "    return ('127.0.0.1', SERVICE_PORT)\n",
    })
    return root


@pytest.mark.model
def test_same_named_repositories_keep_their_own_lock_and_state(tmp_path: Path) -> None:
    first, second = app(tmp_path / "a" / "app", 4117), app(tmp_path / "b" / "app", 9203)
    assert RepoId.of(first).name == RepoId.of(second).name == "app"
    assert RepoId.of(first).key != RepoId.of(second).key
    assert RepoId.of(first) == RepoId.of(tmp_path / "a" / "." / "app")  # the resolved path

    sessions = {port: Session(root, config.load(root))
                for port, root in ((4117, first), (9203, second))}
    answers: dict[int, Answer] = {}
    failures: list[BaseException] = []
    start = threading.Barrier(len(sessions))

    def ask(port: int, session: Session) -> None:
        try:
            start.wait()
            *_, answer = session.ask(QUESTION)
            assert isinstance(answer, Answer)
            answers[port] = answer
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=item) for item in sessions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    for port, answer in answers.items():
        assert str(port) in answer.text, (port, answer.text)
        other = 9203 if port == 4117 else 4117
        assert str(other) not in answer.text, (port, answer.text)

    # One prefill lock per repository, named by its path, not its folder name.
    directories = {s.provider.current.cache.directory  # type: ignore[union-attr]
                   for s in sessions.values()}
    assert len(directories) == 1  # same model, same settings: one cache directory
    locks = sorted(p.name for p in next(iter(directories)).glob("prefill-*.lock"))
    assert locks == sorted(f"prefill-{RepoId.of(r).key}.lock" for r in (first, second))

    # Each saved its own state, both shown as "app".
    loaded = config.load(first)
    entries = PromptCache(loaded.prompts_path(), None, 0).all_entries()
    assert [e.label for e in entries] == ["app", "app"], entries

    # A new session on each answers from its own saved state.
    for port, root in ((4117, first), (9203, second)):
        again = Session(root, config.load(root))
        *_, last = again.ask(QUESTION)
        assert isinstance(last, Answer)
        assert str(port) in last.text, (port, last.text)
        assert last.reused_tokens > 0, last
