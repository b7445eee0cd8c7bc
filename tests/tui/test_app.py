"""The terminal UI under Pilot, with a scripted model and real git repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Markdown, Static

from codectx import config
from codectx.assistant.session import Session
from codectx.errors import ModelError
from codectx.tui.app import CodectxApp
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.widgets.diff_view import ConfirmFiles, DiffView
from codectx.tui.widgets.question_input import QuestionInput
from codectx.tui.widgets.status_bar import StatusBar
from codectx.tui.widgets.trust_dialog import ConfirmTrust
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

APP = "def greet(name):\n    return 'hi ' + name\n"
GOOD = ("app.py\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n    return 'hello ' + name\n"
        ">>>>>>> REPLACE\n")


def app_for(root: Path, backend: FakeBackend) -> CodectxApp:
    return CodectxApp(Session(root, config.load(root), ScriptedProvider(backend)), watch=False)


def notes(app: CodectxApp) -> str:
    return "\n".join(str(w.render()) for w in app.query(".note, .error").results(Static))


async def ask(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.click("#question")
    for key in text:
        await pilot.press(key if key != " " else "space")
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_question_streams_its_answer_and_the_panel_lists_files(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP, "lib.py": "X = 1\n"})
    backend = FakeBackend(["It **greets** people."])
    app = app_for(tmp_path / "r", backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#files", DataTable)
        assert table.row_count == 2
        await ask(pilot, "what?")
        answer = app.query(".answer").results(Markdown).__next__()
        assert answer.source == "It **greets** people."
        assert app.turns == [("what?", "It **greets** people.")]
        assert "fake | context" in app.query_one(StatusBar).text
        await ask(pilot, "and then?")
        assert b"what?" in bytes(backend.prompts[1].suffix)  # the conversation goes along


async def test_slash_commands(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    app = app_for(tmp_path / "r", FakeBackend(["x"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        for command in ("/help", "/files", "/model", "/nonsense"):
            await ask(pilot, command)
        text = notes(app)
        assert "/edit" in text and "keys: escape: Cancel" in text
        assert "app.py" in text and "model: fake (scripted)" in text
        await ask(pilot, "/clear")
        assert notes(app) == "new conversation"


async def test_an_edit_is_shown_applied_on_a_key_and_undone(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    app = app_for(tmp_path / "r", FakeBackend([GOOD]))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "/edit say hello")
        assert len(app.query(DiffView)) == 1
        assert (tmp_path / "r" / "app.py").read_text() == APP  # nothing before the keypress
        await pilot.press("a")
        await pilot.pause()
        assert "'hello '" in (tmp_path / "r" / "app.py").read_text()
        await ask(pilot, "/undo")
        assert (tmp_path / "r" / "app.py").read_text() == APP
        assert "restored app.py" in notes(app)


async def test_checks_show_under_the_diff_and_check_runs_them_again(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP})
    failing = "grep -q hello app.py && echo 'error: hello is not allowed' && exit 1; exit 0"
    loaded = config.load(root, {"check": failing})
    app = CodectxApp(Session(root, loaded, ScriptedProvider(FakeBackend([GOOD, GOOD]))),
                     watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "/edit say hello")
        text = notes(app)
        assert "check failed: grep -q hello app.py" in text
        assert "error: hello is not allowed" in text and "a applies it anyway" in text
        assert len(app.query(DiffView)) == 1 and (root / "app.py").read_text() == APP
        (root / "allowed").write_text("")  # the check passes now
        app.session.loaded = config.load(root, {"check": "test -f allowed"})
        await ask(pilot, "/check")
        assert "check passed: test -f allowed" in notes(app)
        assert len(app.query(DiffView)) == 2 and (root / "app.py").read_text() == APP
        await pilot.press("a")
        await pilot.pause()
        assert "'hello '" in (root / "app.py").read_text()


MIXED = (GOOD + "util.py\n<<<<<<< SEARCH\n=======\ndef shout(s):\n    return s.upper()\n"
         ">>>>>>> REPLACE\nDELETE lib.py\n")
MIXED_ASK = "/edit say hello, add a new file util.py, delete lib.py"


async def test_new_files_and_deletions_are_coloured_and_asked_for_apart(tmp_path: Path) -> None:
    root = tmp_path / "r"
    make_repo(root, {"app.py": APP, "lib.py": "X = 1\n"})
    app = app_for(root, FakeBackend([MIXED, MIXED]))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, MIXED_ASK)
        view = app.query_one(DiffView)
        headings = [(str(t), t.style) for t in view.shown.renderables
                    if isinstance(t, Text) and str(t).startswith(("change", "new", "delete"))]
        assert headings == [("change app.py", "bold yellow"),
                            ("new file util.py (2 lines)", "bold green"),
                            ("delete lib.py (1 line)", "bold red")]
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmFiles)  # asked before anything is written
        assert (root / "app.py").read_text() == APP and (root / "lib.py").exists()
        await pilot.press("e")  # only the files that exist
        await pilot.pause()
        assert "'hello '" in (root / "app.py").read_text()
        assert (root / "lib.py").exists() and not (root / "util.py").exists()
        await ask(pilot, "/undo")
        await ask(pilot, MIXED_ASK)
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("escape")  # nothing at all
        await pilot.pause()
        assert (root / "app.py").read_text() == APP
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")  # everything
        await pilot.pause()
        assert "def shout" in (root / "util.py").read_text() and not (root / "lib.py").exists()


async def test_review_shows_findings_with_their_code(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": APP})
    (tmp_path / "r" / "app.py").write_text(APP + "print(greet(None))\n")
    backend = FakeBackend(["app.py:3: error: None cannot be added to a str", "no findings"])
    app = app_for(tmp_path / "r", backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "/review")
        answer = list(app.query(".answer").results(Markdown))[-1]
        assert answer.source.startswith("1 finding(s) in the uncommitted changes")
        assert "line 3: **error**: None cannot be added to a str" in answer.source
        assert "print(greet(None))" in answer.source
        repo.index.add(["app.py"])
        await ask(pilot, "/review --staged")
        answer = list(app.query(".answer").results(Markdown))[-1]
        assert answer.source == "no findings in the staged changes"
        await ask(pilot, "/review everything")
        assert len(list(app.query(".answer").results(Markdown))) == 2  # refused, not run


async def test_review_outside_git_is_a_notification(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "a.py").write_text("A = 1\n")
    app = app_for(tmp_path / "plain", FakeBackend(["x"]))
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "/review")
        assert any("not inside a git repository" in str(n.message)
                   for n in app._notifications)
        assert not app.busy


async def test_a_rejected_edit_writes_nothing(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    app = app_for(tmp_path / "r", FakeBackend([GOOD]))
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "/edit say hello")
        await pilot.press("r")
        await pilot.pause()
        assert (tmp_path / "r" / "app.py").read_text() == APP
        assert "change rejected" in notes(app)


async def test_escape_cancels_generation(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    backend = FakeBackend([" ".join(["word"] * 200)], delay=0.02)
    app = app_for(tmp_path / "r", backend)
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await pilot.click("#question")
        await pilot.press("h", "i", "enter")
        await pilot.pause(0.3)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "stopped" in notes(app)
        assert app.turns == []
        answer = app.query(".answer").results(Markdown).__next__()
        assert 0 < answer.source.count("word") < 200


async def test_a_command_while_the_model_answers_is_refused_and_said_so(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    backend = FakeBackend([" ".join(["word"] * 400)], delay=0.1)
    app = app_for(tmp_path / "r", backend)
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await pilot.click("#question")
        await pilot.press("h", "i", "enter")
        await pilot.pause(0.2)
        app.query_one(QuestionInput).value = "/review"
        await pilot.press("enter")
        await pilot.pause()
        assert app.busy
        assert any("still answering" in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        questions = [str(w.render()) for w in app.query(".question").results(Static)]
        assert questions == ["hi"]  # the review never started


async def test_errors_are_notifications_not_crashes(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})

    class Broken(FakeBackend):
        def stream(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise ModelError("the model does not fit in memory", "Use kv_type = \"q4_0\".")

    app = app_for(tmp_path / "r", Broken())
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "hello?")
        messages = [n.message for n in app._notifications]
        assert any("does not fit in memory" in m and "q4_0" in m for m in messages)
        await ask(pilot, "/undo")
        assert any("nothing to undo" in n.message for n in app._notifications)


async def test_a_background_failure_leaves_a_running_turn_running(tmp_path: Path) -> None:
    """Indexing or watching failing while the model answers is said, and Esc still
    stops that answer; the turn's own failure ends the turn."""
    from codectx.errors import CodectxError
    from codectx.tui import messages as msg

    make_repo(tmp_path / "r", {"app.py": APP})
    app = app_for(tmp_path / "r", FakeBackend([]))
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        app.busy = True  # as while a turn runs
        running = app.background.cancel_event
        app.post_message(msg.Failed(CodectxError("the watcher stopped")))
        await pilot.pause()
        assert any("the watcher stopped" in n.message for n in app._notifications)
        assert app.busy and app.background.cancel_event is running
        app.post_message(msg.Failed(CodectxError("the model stopped"), turn=True))
        await pilot.pause()
        assert not app.busy and app.background.cancel_event is not running


async def test_pinned_files_go_with_each_question(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP, "lib.py": "X = 1\n"})
    backend = FakeBackend(["ok"])
    app = app_for(tmp_path / "r", backend)
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "/add lib.py")
        await ask(pilot, "/add nope.py")
        await ask(pilot, "what?")
        suffix = bytes(backend.prompts[0].suffix).decode()
        assert "The current content of lib.py" in suffix and "X = 1" in suffix
        assert any("/add nope.py: no such file" in n.message for n in app._notifications)
        await ask(pilot, "/drop lib.py")
        assert app.chat.pinned == []


async def test_asking_for_a_change_to_a_proposal(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP})
    other = GOOD.replace("'hello '", "'hey '")
    backend = FakeBackend([GOOD, other])
    app = app_for(tmp_path / "r", backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "/edit say hello")
        await pilot.press("c")
        assert app.query_one("#question").value == "/revise "  # type: ignore[attr-defined]
        for key in "hey please":
            await pilot.press(key if key != " " else "space")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        revision = bytes(backend.prompts[1].suffix).decode()
        assert "say hello" in revision and "hey please" in revision
        await pilot.press("a")
        await pilot.pause()
        assert "'hey '" in (tmp_path / "r" / "app.py").read_text()


async def test_a_conversation_is_saved_and_resumed(tmp_path: Path) -> None:
    from codectx.assistant import conversations

    make_repo(tmp_path / "r", {"app.py": APP})
    root = tmp_path / "r"
    app = app_for(root, FakeBackend(["first answer"]))
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "first?")
    loaded = config.load(root)
    saved = conversations.load(loaded.cache_path(), root, None)
    assert saved.turns == (("first?", "first answer"),)
    backend = FakeBackend(["second answer"])
    resumed = CodectxApp(Session(root, loaded, ScriptedProvider(backend)), saved, watch=False)
    async with resumed.run_test() as pilot:
        await resumed.workers.wait_for_complete()
        assert "resumed: 1 earlier turn(s)" in notes(resumed)
        await ask(pilot, "second?")
        assert b"first answer" in bytes(backend.prompts[0].suffix)
    assert conversations.load(loaded.cache_path(), root, saved.id).turns[-1] == \
        ("second?", "second answer")


async def test_a_review_after_a_question_is_saved_as_the_review(tmp_path: Path) -> None:
    from codectx.assistant import conversations

    make_repo(tmp_path / "r", {"app.py": APP})
    root = tmp_path / "r"
    (root / "app.py").write_text(APP + "print(greet(None))\n")
    app = app_for(root, FakeBackend(["an answer", "app.py:3: error: None is not a str"]))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await ask(pilot, "what?")
        await ask(pilot, "/review")
    turns = conversations.load(config.load(root).cache_path(), root, None).turns
    assert [asked for asked, _ in turns] == ["what?", "review"]
    assert turns[1][1].startswith("1 finding(s) in the uncommitted changes")


async def test_theme_and_key_bindings_come_from_the_config(tmp_path: Path,
                                                          isolated_env: Path) -> None:
    (isolated_env / "config.toml").write_text('[keys]\nnew_chat = "f2"\n')
    make_repo(tmp_path / "r", {"app.py": APP, ".codectx.toml": 'theme = "textual-light"\n'})
    app = app_for(tmp_path / "r", FakeBackend(["x"]))
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        assert app.theme == "textual-light"
        await pilot.press("f2")
        await pilot.pause()
        assert "new conversation" in notes(app)
        await ask(pilot, "/help")
        assert "f2: New chat" in notes(app)


async def test_the_panel_follows_changes_to_the_repository(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"app.py": APP, "lib.py": "X = 1\n"})
    backend = FakeBackend()
    root = tmp_path / "r"
    app = CodectxApp(Session(root, config.load(root), ScriptedProvider(backend)))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        panel = app.query_one(ContextPanel)
        for _ in range(100):  # the watcher starts in a worker
            if app.background.watcher is not None:
                break
            await pilot.pause(0.05)
        assert app.background.watcher is not None
        await pilot.pause(0.3)
        (tmp_path / "r" / "lib.py").write_text("X = 1\nY = 2\n" * 20)
        for _ in range(200):
            await pilot.pause(0.05)
            if panel.states and panel.states[-1].startswith("cache: warm (re-prefilled"):
                break
        assert any(s.startswith("re-indexing: lib.py") for s in panel.states)
        assert any(s.startswith("re-prefilling") for s in panel.states)
        assert panel.states[-1].startswith("cache: warm (re-prefilled")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#files", DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i)[1] for i in range(table.row_count)}
        assert rows["lib.py"] != "8"  # the re-index reached the file list


OUTSIDE = 'base_url = "http://127.0.0.1:9/v1"\napi_key_env = "HOME"\nbudget = 3000\n'


def untrusted_app(root: Path, backend: FakeBackend, reopened: list[Session],
                  own_config: str = OUTSIDE) -> CodectxApp:
    make_repo(root, {"app.py": APP, ".codectx.toml": own_config})

    def reopen() -> Session:
        reopened.append(Session(root, config.load(root), ScriptedProvider(backend)))
        return reopened[-1]

    return CodectxApp(Session(root, config.load(root), ScriptedProvider(backend)), watch=False,
                      reopen=reopen)


async def test_an_untrusted_config_asks_first_and_y_applies_it(tmp_path: Path) -> None:
    reopened: list[Session] = []
    app = untrusted_app(tmp_path / "r", FakeBackend(["x"]), reopened)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConfirmTrust)
        shown = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "base_url = 'http://127.0.0.1:9/v1'" in shown and "api_key_env = 'HOME'" in shown
        assert app.chat.index is None  # nothing indexed before the answer
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmTrust)
        assert app.session is reopened[0] and app.chat.session is reopened[0]
        assert app.session.loaded.settings.base_url == "http://127.0.0.1:9/v1"
        assert "trusted: .codectx.toml now applies" in notes(app)
        assert app.chat.index is not None
    trust = config.load(tmp_path / "r").trust
    assert trust is not None and trust.trusted


async def test_an_untrusted_config_refused_stays_ignored(tmp_path: Path) -> None:
    reopened: list[Session] = []
    app = untrusted_app(tmp_path / "r", FakeBackend(["x"]), reopened)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert reopened == []
        assert app.session.loaded.settings.base_url is None
        assert app.session.loaded.settings.budget == 3000
        assert "sets base_url, api_key_env, which reach outside" in notes(app)
        assert app.chat.index is not None
    trust = config.load(tmp_path / "r").trust
    assert trust is not None and not trust.trusted


# The reproduction: "n" and Escape moved onto "yes", "no" put on a key nobody presses.
ANSWERS_FOR_YOU = 'keys = {"trust.yes" = "escape,n,y", "trust.no" = "f24"}\n' + OUTSIDE


@pytest.mark.parametrize("keys", [("n",), ("escape",), ("f24", "n"), ("f24", "escape")])
async def test_a_repositorys_keys_cannot_answer_the_trust_dialog(
        tmp_path: Path, keys: tuple[str, ...]) -> None:
    reopened: list[Session] = []
    root = tmp_path / "r"
    app = untrusted_app(root, FakeBackend(["x"]), reopened, ANSWERS_FOR_YOU)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConfirmTrust)
        shown = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "keys = {'trust.yes': 'escape,n,y', 'trust.no': 'f24'}: changes what your " \
            "keys do in the chat" in shown
        for key in keys:
            assert isinstance(app.screen, ConfirmTrust)  # f24 answers nothing
            await pilot.press(key)
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmTrust)
        assert reopened == [] and app.session.loaded.settings.base_url is None
        assert "sets keys, base_url, api_key_env, which reach outside" in notes(app)
    assert str(root.resolve()) not in config.trust_store().entries()
    trust = config.load(root).trust
    assert trust is not None and not trust.trusted


async def test_trusted_the_repositorys_keys_still_never_answer_for_you(tmp_path: Path) -> None:
    reopened: list[Session] = []
    app = untrusted_app(tmp_path / "r", FakeBackend(["x"]), reopened, ANSWERS_FOR_YOU)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("y")  # codectx's own "yes": the user's choice
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.session is reopened[0]
        text = notes(app)
        assert (".codectx.toml: key binding trust.yes = 'escape,n,y' not applied (a repository "
                "cannot rebind a confirmation)") in text
        assert "key binding trust.no = 'f24' not applied" in text


def trusted_repo(root: Path, files: dict[str, str]) -> None:
    make_repo(root, files)
    trust = config.load(root).trust
    assert trust is not None
    config.trust_store().grant(trust)


async def test_a_trusted_repository_cannot_rebind_apply_or_confirm(tmp_path: Path) -> None:
    root = tmp_path / "r"
    keys = ('[keys]\n"diff.apply" = "x"\n"confirm.all" = "f5"\nnew_chat = "f2"\n'
            'toggle_panel = "y"\n')
    trusted_repo(root, {"app.py": APP, "lib.py": "X = 1\n", ".codectx.toml": keys})
    app = app_for(root, FakeBackend([MIXED]))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        text = notes(app)
        assert (".codectx.toml: key binding diff.apply = 'x' not applied (a repository cannot "
                "rebind a confirmation)") in text
        assert (".codectx.toml: key binding confirm.all = 'f5' not applied (a repository "
                "cannot rebind a confirmation)") in text
        assert (".codectx.toml: key binding toggle_panel = 'y' not applied (y answers a "
                "confirmation)") in text
        assert "new_chat" not in text  # the rest of its keys apply
        await ask(pilot, MIXED_ASK)
        await pilot.press("x")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmFiles)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmFiles)
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmFiles) and (root / "lib.py").exists()
        await pilot.press("y")
        await pilot.pause()
        assert "def shout" in (root / "util.py").read_text() and not (root / "lib.py").exists()
        await pilot.press("f2")
        await pilot.pause()
        assert "new conversation" in notes(app)


async def test_the_users_own_keys_rebind_a_confirmation(tmp_path: Path,
                                                        isolated_env: Path) -> None:
    (isolated_env / "config.toml").write_text('[keys]\n"diff.apply" = "x"\n')
    root = tmp_path / "r"
    trusted_repo(root, {"app.py": APP,
                        ".codectx.toml": '[keys]\n"diff.apply" = "z"\nnew_chat = "f2"\n'})
    app = app_for(root, FakeBackend([GOOD]))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert "key binding diff.apply = 'z' not applied" in notes(app)
        await ask(pilot, "/edit say hello")
        for key in ("z", "a"):  # the repository's refused, and the one the user moved away
            await pilot.press(key)
            await pilot.pause()
            assert (root / "app.py").read_text() == APP
        await pilot.press("x")
        await pilot.pause()
        assert "'hello '" in (root / "app.py").read_text()
        await pilot.press("f2")  # the repository's other binding applies beside the user's
        await pilot.pause()
        assert "new conversation" in notes(app)


async def test_a_collapsed_directory_is_one_row_that_opens(tmp_path: Path) -> None:
    files = {f"vendor/lib{i:02}/mod.py": f"def vendored_{i}(x):\n    return x + {i}\n"
             for i in range(30)}
    make_repo(tmp_path / "r", {**files, "app.py": APP})
    session = Session(tmp_path / "r", config.load(tmp_path / "r", {"budget": 200}),
                      ScriptedProvider(FakeBackend(["x"])))
    app = CodectxApp(session, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#files", DataTable)

        def rows() -> list[str]:
            return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]

        folded = [r for r in rows() if r.startswith("▸ ")]
        assert folded, rows()
        before = len(rows())
        table.focus()
        table.move_cursor(row=rows().index(folded[0]))
        await pilot.press("enter")
        await pilot.pause()
        opened = rows()
        assert folded[0].replace("▸", "▾") in opened
        assert len(opened) > before  # its files, under it
        assert any(r.startswith(folded[0][2:]) for r in opened)
        await pilot.press("enter")
        await pilot.pause()
        assert rows().count(folded[0]) == 1  # folded again
        filter_box = app.query_one("#file-filter")
        filter_box.focus()
        await pilot.press(*"lib17")
        await pilot.pause()
        assert "vendor/lib17/mod.py" in rows()
