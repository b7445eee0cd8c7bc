"""The ways a model can be had, by the name the `backend` setting uses.

`PROVIDERS` is the one list a user chooses from: its keys are the setting's
values (`--backend` offers them, the configuration page lists them) and each
names the class that provides the model. The classes are imported only when
chosen, so reading the config never loads llama_cpp or an HTTP client.

A test suite adds its own (codectx's: a scripted model, `tests/support/fake.py`) through
the environment of the process that should accept it: $CODECTX_TEST_BACKENDS is a
comma-separated list of NAME=MODULE:CLASS. Those are never offered, never take the
name of one of `PROVIDERS`, and the product ships none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderEntry:
    module: str
    cls: str
    help: str


PROVIDERS: dict[str, ProviderEntry] = {
    "local": ProviderEntry("codectx.models.runtime.local", "LocalProvider",
                           "the model runs in this process (llama-cpp-python)"),
    "openai": ProviderEntry("codectx.models.server.provider", "ServerProvider",
                            "a server with an OpenAI-compatible API (llama.cpp, vLLM) at "
                            "base_url"),
}

TEST_BACKENDS_ENV = "CODECTX_TEST_BACKENDS"


def known() -> dict[str, ProviderEntry]:
    """The backends this process accepts: the user's choices, and those a test suite
    registers in $CODECTX_TEST_BACKENDS (NAME=MODULE:CLASS, comma-separated)."""
    registered = {}
    for item in os.environ.get(TEST_BACKENDS_ENV, "").split(","):
        name, _, where = item.strip().partition("=")
        module, _, cls = where.partition(":")
        if name and module and cls and name not in PROVIDERS:
            registered[name] = ProviderEntry(module, cls, f"registered in ${TEST_BACKENDS_ENV}")
    return {**PROVIDERS, **registered}
