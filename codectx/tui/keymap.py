"""Which key rebindings the chat applies: all of the user's own, and of a repository's config
only those that cannot answer a confirmation for the user.

A confirmation (trust this repository's config? apply or reject this change? create and
delete these files too?) is the user's decision, so its keys must mean what the user
expects. A repository's config, even one trusted for its server or its check command, could
otherwise move "n" and Escape onto "yes", or put another action on "y" or "a" that takes
the key before the question hears it. So a repository's `keys` table, once trusted, is held
to one rule (`refusal`); the user's own config rebinds anything. Each refused binding is
dropped alone, and said in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding

# The normalization `App.set_keymap` applies ("?" becomes "question_mark"), so a key is
# compared in the spelling Textual matches, however the config wrote it.
from textual.keys import KEY_ALIASES, _normalize_key_list

from codectx.tui.widgets.diff_view import ConfirmFiles, DiffView
from codectx.tui.widgets.trust_dialog import ConfirmTrust

CONFIRMATIONS = (ConfirmTrust, DiffView, ConfirmFiles)
"""Every screen or widget whose keys answer a question put to the user."""


def _names(text: str) -> list[str]:
    """The keys of a binding's key string, each as Textual matches it."""
    return [name for name in _normalize_key_list(text).split(",") if name]


def keys_of(text: str) -> set[str]:
    """Every key a binding's key string names, aliases included (Escape is also ctrl+[)."""
    return {alias for name in _names(text) for alias in (name, *KEY_ALIASES.get(name, ()))}


def confirmation_bindings() -> list[Binding]:
    return [b for kind in CONFIRMATIONS for b in kind.BINDINGS if isinstance(b, Binding)]


def answer_keys(own: Mapping[str, str]) -> set[str]:
    """The keys that answer a confirmation: codectx's own, and those the user's own keymap
    (`own`) gives a confirmation."""
    return {key for b in confirmation_bindings()
            for key in keys_of(b.key) | keys_of(own.get(str(b.id), ""))}


def refusal(binding_id: str, keys: str, answers: set[str]) -> str | None:
    """Why a repository's config may not bind `keys` to `binding_id`; None when it may.

    Refused: any rebinding of a confirmation's own binding (trust.*, diff.*, confirm.*),
    and any binding on a key that answers a confirmation (`answers`, from `answer_keys`),
    whatever its action: such a key must reach the question, never something else first."""
    if binding_id in {b.id for b in confirmation_bindings()}:
        return "a repository cannot rebind a confirmation"
    taken = [name for name in _names(keys) if keys_of(name) & answers]
    if taken:
        return f"{', '.join(taken)} answer{'s' if len(taken) == 1 else ''} a confirmation"
    return None


def keymap(layers: Iterable[tuple[str, Mapping[str, str]]],
           repository: str | None) -> tuple[dict[str, str], list[str]]:
    """The keymap to apply, from each layer's `keys` table (lowest first, with its source;
    `config.Loaded.key_layers`), and one line for each binding refused from the layer
    named `repository` (the repository's own config)."""
    layers = list(layers)
    own = {name: keys for source, table in layers if source != repository
           for name, keys in table.items()}
    answers = answer_keys(own)
    applied: dict[str, str] = {}
    refused: list[str] = []
    for source, table in layers:
        for name, keys in table.items():
            why = refusal(name, keys, answers) if source == repository else None
            if why is None:
                applied[name] = keys
            else:
                refused.append(f"{source}: key binding {name} = {keys!r} not applied ({why})")
    return applied, refused
