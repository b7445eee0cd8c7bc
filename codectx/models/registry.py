"""The ways a model can be had, by the name the `backend` setting uses.

This table is the one list: its keys are the setting's allowed values (the
config validates against them, `--backend` offers them) and each names the
class that provides the model. The classes are imported only when chosen, so
reading the config never loads llama_cpp or an HTTP client.
"""

from __future__ import annotations

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
    "scripted": ProviderEntry("codectx.models.fake", "ScriptedProvider",
                              "replies read from $CODECTX_SCRIPTED_REPLIES (for tests)"),
}
