"""Question-time retrieval: what a question brings in full after the cached prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing
from codectx.assistant.context import Context, Topic
from codectx.assistant.results import Answer
from codectx.assistant.retrieval import Retriever, words
from codectx.assistant.session import EditProposal, Session
from codectx.indexer.levels import Level
from codectx.models.sizing import PROMPT_OVERHEAD, RETRY_ROOM
from tests.conftest import index, make_repo
from tests.support.fake import ECHO, FakeBackend, ScriptedProvider

BODY = "".join(f"    total += {i} * step\n" for i in range(30))


def module(n: int) -> str:
    helper = f"from pkg.mod{n - 1:02} import compute_{n - 1:02}\n\n\n" if n else ""
    return (f'"""Module {n}."""\n{helper}'
            f"def compute_{n:02}(step: int) -> int:\n    total = 0\n{BODY}    return total\n\n\n"
            f"class Ledger{n:02}:\n    def settle_{n:02}(self) -> str:\n"
            f"        return 'settled {n}' + 'x' * {n}\n")


def big_repo(root: Path, n: int = 30) -> Path:
    files = {f"pkg/mod{i:02}.py": module(i) for i in range(n)}
    files["pkg/__init__.py"] = ""
    files["pkg/weather.py"] = ("def forecast_rainfall(region):\n"
                               "    '''Millimetres of rain expected in a region.'''\n"
                               "    return {'north': 12, 'south': 3}[region]\n")
    files["README.md"] = "# Ledgers\n\nThirty modules that compute totals.\n"
    make_repo(root, files)
    return root


def retriever_for(root: Path, budget: int) -> tuple[Retriever, dict[str, Level]]:
    result = index(root, budget=budget)
    levels = {f.path: f.mode for f in result.files}
    context = Context(root, None, "xml")
    return context._for(result), levels


def test_words_split_identifiers() -> None:
    assert words("Where is parseHTTPHeader in read_config?") == [
        "parsehttpheader", "parse", "http", "header", "read_config", "read", "config"]


def test_a_named_symbol_and_a_named_path_are_retrieved(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r")
    full = index(root).total_tokens
    retriever, levels = retriever_for(root, full // 4)
    assert levels["pkg/mod17.py"] is not Level.FULL
    found = retriever.retrieve("What does settle_17 return?", 2000)
    assert found.files[0].path == "pkg/mod17.py" and found.files[0].why == "defines `settle_17`"
    # nothing else mentions settle_17: what mod17 imports is not brought in for it
    assert [f.path for f in found.files] == ["pkg/mod17.py"]
    assert "return 'settled 17'" in found.text  # the full text, not the outline
    named = retriever.retrieve("Explain pkg/mod05.py", 4000)
    assert named.files[0].path == "pkg/mod05.py" and named.files[0].why == "named in the question"
    # neighbours of what was found come after it, within a quarter of the budget: mod05
    # imports mod04, mod06 imports mod05 (and names it)
    assert {"pkg/mod04.py", "pkg/mod06.py"} <= {f.path for f in named.files}
    assert sum(f.tokens for f in named.files[1:]) <= 4000 // 4
    assert "pkg/mod05.py (named in the question)" in named.text
    lexical = retriever.retrieve("how much rain falls in the north region?", 2000)
    assert lexical.files[0].path == "pkg/weather.py"
    assert lexical.files[0].why == "matches the question's words"
    assert sum(f.tokens for f in found.files) <= 2000


def test_files_already_in_full_and_missing_paths_are_not_retrieved(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r")
    retriever, levels = retriever_for(root, index(root).total_tokens // 3)
    in_full = next(p for p, level in levels.items() if level is Level.FULL and p.endswith(".py"))
    found = retriever.retrieve(f"Explain {in_full}, pkg/nope.py and /etc/passwd.txt", 5000)
    assert in_full not in {f.path for f in found.files}
    assert any("pkg/nope.py: no such file in the repository" in n for n in found.notes)
    assert any("/etc/passwd.txt is outside the repository" in n for n in found.notes)
    assert retriever.retrieve("What does settle_17 return?", 0).files == ()


class Bytes:
    """The fake model's tokens are bytes; the index counts the same way."""

    name = "bytes"
    exact = True

    def count(self, text: str) -> int:
        return len(text.encode("utf-8"))


def session_on(root: Path, window: int, *replies: str, **settings: object) -> Session:
    loaded = config.load(root, dict(settings))
    return Session(root, loaded, ScriptedProvider(FakeBackend(replies, context_window=window),
                                                  Bytes()))


def ask(session: Session, question: str) -> Answer:
    *_, answer = session.ask(question)
    assert isinstance(answer, Answer)
    return answer


def test_through_the_session_the_prefix_stays_and_retrieval_follows_it(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r")
    # The fake model counts bytes: a context of a third of the repository's bytes.
    size = sum(len(p.read_bytes()) for p in root.rglob("*.py"))
    window = size // 3 + 1024 + PROMPT_OVERHEAD + RETRY_ROOM
    session = session_on(root, window, ECHO, ECHO, max_answer_tokens=1024)
    first = ask(session, "What does settle_17 return?")
    second = ask(session, "What does compute_03 do with step?")
    assert first.retrieved[0].path == "pkg/mod17.py"
    assert second.retrieved[0].path == "pkg/mod03.py"
    assert "return 'settled 17'" in first.text  # the echo shows the prompt the model saw
    prefix_one = session.provider.fake.prompts[0].prefix  # type: ignore[attr-defined]
    prefix_two = session.provider.fake.prompts[1].prefix  # type: ignore[attr-defined]
    assert prefix_one == prefix_two  # one cached prefix for every question
    assert first.prefix_tokens == len(prefix_one)
    assert first.retrieved_tokens > 0 and first.question_tokens > 0
    assert "return 'settled 17'" not in bytes(prefix_one).decode()  # after it, not in it


def test_nothing_is_retrieved_when_the_repository_fits_or_retrieval_is_off(
        tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r", n=4)
    roomy = session_on(root, 1 << 20, ECHO)
    answer = ask(roomy, "What does settle_02 return?")
    assert answer.retrieved == () and answer.retrieved_tokens == 0
    size = sum(len(p.read_bytes()) for p in root.rglob("*.py"))
    off = session_on(root, size // 2 + 4096, ECHO, retrieval_tokens=0)
    assert ask(off, "What does settle_02 return?").retrieved == ()


def test_an_edit_always_carries_its_files(tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r")
    context = Context(root, None, "xml")
    result = index(root, budget=index(root).total_tokens // 3)
    found = context.retrieve(result, Topic("rename settle_17", ("pkg/mod02.py",),
                                           "to be changed"), 3000)
    assert found.files[0].path == "pkg/mod02.py" and found.files[0].why == "to be changed"
    assert "pkg/mod02.py" not in found.text  # already in the request: not repeated
    assert any(f.path == "pkg/mod17.py" for f in found.files)


@pytest.mark.model
def test_the_embedded_model_answers_from_a_file_it_sees_only_outlined(tmp_path: Path) -> None:
    """A repository larger than the budget: the file that holds the answer is outlined in
    the prefix, retrieved in full for the question, and the model reads the value in it."""
    root = big_repo(tmp_path / "r", n=24)
    (root / "pkg" / "rates.py").write_text(
        "def penalty_rate() -> float:\n    '''The late fee, as a fraction.'''\n"
        "    return 0.0375\n\n\ndef grace_days() -> int:\n    return 9\n")
    session = Session(root, config.load(root, {"budget": 2500, "max_answer_tokens": 40}))
    outlined = {f.path: f.mode for f in session.index().files}
    assert outlined["pkg/rates.py"] is not Level.FULL
    *_, answer = session.ask("What value does the function penalty_rate return?")
    assert isinstance(answer, Answer)
    assert answer.retrieved[0].path == "pkg/rates.py"
    assert answer.retrieved[0].why == "defines `penalty_rate`"
    assert "0.0375" in answer.text


def test_a_name_written_as_code_outranks_an_ordinary_word_that_names_a_definition(
        tmp_path: Path) -> None:
    root = big_repo(tmp_path / "r")
    (root / "pkg" / "answer.py").write_text("def ok() -> bool:\n    return True\n\n\n"
                                            "class Answer:\n" + "".join(
        f"    def part_{i}(self) -> int:\n        return {i}\n" for i in range(40)))
    retriever, levels = retriever_for(root, index(root).total_tokens // 4)
    assert levels["pkg/mod11.py"] is not Level.FULL and levels["pkg/answer.py"] is not Level.FULL
    found = retriever.retrieve("Which file defines `compute_11`? Answer with its path.", 4000)
    whys = [f.why for f in found.files]
    assert found.files[0].path == "pkg/mod11.py" and "defines `Answer`" not in whys
    # Without a name written as code, the ordinary word still finds its definition.
    plain = retriever.retrieve("Where is Answer?", 4000)
    assert plain.files and plain.files[0].path == "pkg/answer.py"
    # A two-letter name counts when written as code, not as an ordinary word.
    assert "defines `ok`" in [f.why for f in retriever.retrieve("Where is `ok`?", 4000).files]
    assert "defines `ok`" not in [f.why for f in retriever.retrieve("is it ok?", 4000).files]


def test_a_file_inside_a_collapsed_directory_is_retrieved_by_path_and_by_name(
        tmp_path: Path) -> None:
    root = tmp_path / "r"
    files = {f"vendor/lib{i:02}/mod.py": module(i).replace("pkg.mod", "vendor.lib")
             for i in range(40)}
    files["app.py"] = "def main():\n    return 0\n"
    make_repo(root, files)
    result = index(root, budget=400)
    assert result.collapsed, "the budget should collapse a directory"
    levels = {f.path: f.mode for f in result.files}
    assert levels["vendor/lib17/mod.py"] is Level.COLLAPSED
    retriever = Context(root, None, "xml")._for(result)
    by_name = retriever.retrieve("What does settle_17 return?", 2000)
    assert by_name.files[0].path == "vendor/lib17/mod.py"
    assert "return 'settled 17'" in by_name.text
    by_path = retriever.retrieve("Explain vendor/lib05/mod.py", 2000)
    assert by_path.files[0].path == "vendor/lib05/mod.py"


def test_an_edit_s_retry_carries_the_first_attempt_as_it_was_sent(tmp_path: Path) -> None:
    """Retrieved files and all: the retry's prompt starts with the first attempt's, so the
    first attempt's cells are reused and only the reply and the retry are evaluated."""
    root = big_repo(tmp_path / "r")
    size = sum(len(p.read_bytes()) for p in root.rglob("*.py"))
    window = size // 3 + 1024 + PROMPT_OVERHEAD + RETRY_ROOM
    wrong = "pkg/mod02.py\n<<<<<<< SEARCH\nnot in the file\n=======\nx\n>>>>>>> REPLACE\n"
    session = session_on(root, window, wrong, wrong, max_answer_tokens=1024)
    *_, proposal = editing.edit(session, "make settle_17 return 'done'", files=["pkg/mod02.py"],
                                fmt="search-replace", candidates=1)
    assert isinstance(proposal, EditProposal) and proposal.attempts == 2
    fake = session.provider.fake  # type: ignore[attr-defined]
    first, retry = fake.prompts
    assert "return 'settled 17'" in bytes(first.suffix).decode()  # mod17 was retrieved
    assert retry.tokens[: len(first.tokens)] == first.tokens
    assert bytes(retry.suffix).decode().count("return 'settled 17'") == 1  # not twice
