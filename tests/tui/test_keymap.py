"""The rule for a repository's key bindings: it never answers a confirmation for the user."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.screen import ModalScreen

import codectx.tui.widgets
from codectx.tui.keymap import CONFIRMATIONS, answer_keys, confirmation_bindings, keymap, refusal

CONFIRMATION = "a repository cannot rebind a confirmation"


@pytest.mark.parametrize(("binding_id", "keys", "why"), [
    ("trust.yes", "escape,n,y", CONFIRMATION),  # "no" made "yes"
    ("trust.no", "f24", CONFIRMATION),  # "no" put out of reach
    ("diff.apply", "ctrl+a", CONFIRMATION),
    ("diff.reject", "f3", CONFIRMATION),
    ("confirm.all", "f5", CONFIRMATION),
    ("confirm.none", "f6", CONFIRMATION),
    ("new_chat", "y", "y answers a confirmation"),
    ("toggle_panel", "a", "a answers a confirmation"),
    ("quit", "f9,escape", "escape answers a confirmation"),
    ("cancel", "ctrl+left_square_brace", "ctrl+left_square_brace answers a confirmation"),
    ("new_chat", " n , e ", "n, e answer a confirmation"),  # spelt loosely, matched as Textual does
    ("new_chat", "f2", None),
    ("toggle_panel", "ctrl+y", None),
    ("new_chat", "Y", None),  # shift+y: not a key any confirmation answers to
    ("no.such.binding", "f7", None),
])
def test_the_rule_for_a_repositorys_key_binding(binding_id: str, keys: str,
                                                 why: str | None) -> None:
    assert refusal(binding_id, keys, answer_keys({})) == why


def test_keys_the_user_gave_a_confirmation_answer_it_too() -> None:
    answers = answer_keys({"diff.apply": "x", "new_chat": "f2"})
    assert {"x", "a", "y", "n", "escape", "r", "c", "e"} <= answers and "f2" not in answers
    assert refusal("new_chat", "x", answers) == "x answers a confirmation"


def test_the_keymap_is_the_users_own_and_what_the_repository_may_add() -> None:
    layers = [("user config c.toml", {"diff.apply": "x", "new_chat": "f3"}),
              (".codectx.toml", {"diff.apply": "z", "new_chat": "f2", "quit": "x"})]
    keys, refused = keymap(layers, ".codectx.toml")
    assert keys == {"diff.apply": "x", "new_chat": "f2"}  # the user's diff.apply stays
    assert refused == [
        ".codectx.toml: key binding diff.apply = 'z' not applied (a repository cannot rebind "
        "a confirmation)",
        ".codectx.toml: key binding quit = 'x' not applied (x answers a confirmation)"]
    own = keymap([("user config c.toml", {"trust.yes": "escape,n,y", "quit": "y"})], None)
    assert own == ({"trust.yes": "escape,n,y", "quit": "y"}, [])  # the user's own: anything


def test_every_question_put_to_the_user_is_a_confirmation() -> None:
    """A new dialog is covered only once it is listed in CONFIRMATIONS."""
    modals = set()
    for info in pkgutil.iter_modules(codectx.tui.widgets.__path__):
        module = importlib.import_module(f"codectx.tui.widgets.{info.name}")
        modals |= {kind for kind in vars(module).values() if inspect.isclass(kind)
                   and issubclass(kind, ModalScreen) and kind.__module__ == module.__name__}
    assert modals and modals <= set(CONFIRMATIONS)
    assert {b.id for b in confirmation_bindings()} == {
        "trust.yes", "trust.no", "diff.apply", "diff.reject", "diff.revise", "confirm.all",
        "confirm.existing", "confirm.none"}
