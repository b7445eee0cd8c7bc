"""The ways a model can be had, by the name the `backend` setting uses.

`PROVIDERS` is the one list a user chooses from: its keys are the setting's
values (`--backend` offers them, the configuration page lists them) and each
names the class that provides the model. The classes are imported only when
chosen, so reading the config never loads llama_cpp or an HTTP client.

codectx's own test suite adds a scripted model (`scripted`, replies from
$CODECTX_SCRIPTED_REPLIES) by setting $CODECTX_TEST_BACKENDS=1 in the
environment of the process that should accept it; it is never offered.
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
    "local": ProviderEntry("codectx.models.local", "LocalProvider",
                           "the model runs in this process (llama-cpp-python)"),
    "openai": ProviderEntry("codectx.models.server_provider", "ServerProvider",
                            "a server with an OpenAI-compatible API (llama.cpp, vLLM) at "
                            "base_url"),
}

TEST_BACKENDS_ENV = "CODECTX_TEST_BACKENDS"
TEST_PROVIDERS: dict[str, ProviderEntry] = {
    "scripted": ProviderEntry("codectx.models.fake", "ScriptedProvider",
                              "replies read from $CODECTX_SCRIPTED_REPLIES"),
}


def known() -> dict[str, ProviderEntry]:
    """The backends this process accepts: the user's choices, and the test suite's where
    $CODECTX_TEST_BACKENDS is 1."""
    if os.environ.get(TEST_BACKENDS_ENV) == "1":
        return {**PROVIDERS, **TEST_PROVIDERS}
    return PROVIDERS
