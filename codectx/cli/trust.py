"""`codectx trust`: let a repository's own config reach outside the repository.

A repository's `.codectx.toml` (or `[tool.codectx]`) may choose a server, an API
key's variable, a model file or a cache directory only once its user says so,
because whoever wrote the repository could otherwise send it, and the user's
secrets, anywhere. This command is that say, for the config as it is now.
"""

from __future__ import annotations

from pathlib import Path

import click

from codectx.cli.console import err, out
from codectx.cli.options import friendly_errors, require_directory


def say(text: str) -> None:
    err.print(text, markup=False, highlight=False, soft_wrap=True)


@click.command("trust")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--forget", is_flag=True,
              help="Stop trusting the repository at PATH: its config's settings that reach "
                   "outside it are ignored again.")
@click.option("--list", "list_all", is_flag=True, help="List the repositories you trust.")
@friendly_errors
def trust_cmd(path: Path, forget: bool, list_all: bool) -> None:
    """Trust the repository at PATH (default: .) with the settings its config asks for.

    Settings that reach outside the repository (backend, base_url, api_key_env,
    server_model, server_slot, model as a path, models_dir, cache_dir, check) are
    ignored in a repository's own config until you trust it, and the checks an
    edit would run that execute the repository's own code (its tests, a
    package's test script, go test, cargo check) are held back. This prints exactly
    what the config asks for and records your trust for this config's content:
    when the config changes, codectx ignores those settings again until you
    trust it again. Your own config file, CODECTX_* variables and flags always
    apply.
    """
    from codectx import config

    store = config.trust_store()
    if list_all:
        entries = store.entries()
        for root, entry in sorted(entries.items()):
            keys = ", ".join(entry.get("settings") or {}) or "no outside settings"
            out.print(f"{root}  ({entry.get('config') or 'no config'}: {keys})",
                      markup=False, highlight=False, soft_wrap=True)
        if not entries:
            say("no trusted repositories")
        return
    require_directory(path)
    if forget:
        real = path.resolve()
        if store.revoke(real):
            say(f"{real}: no longer trusted")
        else:
            say(f"{real}: was not trusted")
        return
    trust = config.load(path).trust
    assert trust is not None
    if trust.source is None:
        say(f"{trust.root}: no codectx config; trusted as it is (a config added later is "
            "ignored until you trust the repository again)")
    elif trust.asked:
        say(f"{trust.root}: {trust.source} sets, and will now apply:")
        for line in trust.lines():
            say(f"  {line}")
    else:
        say(f"{trust.root}: {trust.source} sets nothing that reaches outside the repository")
    store.grant(trust)
    say(f"trusted (recorded in {store.path}); a change to the config asks again")
