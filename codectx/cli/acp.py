"""`codectx acp`: the Agent Client Protocol agent, for editors, on stdin and stdout."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import IO, Any, cast

import click

from codectx.cli.options import model_options


@click.command("acp")
@model_options
@click.option("--log-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the log here instead of to stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Log every protocol step.")
@click.option("--no-watch", is_flag=True,
              help="Do not follow the repositories' changes (by default the cache is kept warm).")
def acp_cmd(flags: dict[str, Any], log_file: Path | None,
            verbose: bool, no_watch: bool) -> None:
    """Run codectx as an Agent Client Protocol agent, for editors (Zed, Neovim, JetBrains).

    The editor starts this command and speaks JSON-RPC on its stdin and stdout;
    stdout carries protocol messages only, the log goes to stderr (or
    --log-file). Each editor session works on the repository at its cwd, with
    the repository prefix from the prompt cache. In a session: ask questions,
    `/edit INSTRUCTION` (shown as a diff, written only if you allow it),
    `/review [--staged]`, `/tokens`. It ends when stdin closes.
    """
    from codectx.agent.stdio import protocol_stdout
    from codectx.printable import CleanFormatter

    stdout = protocol_stdout()  # first: nothing else may write to the protocol's stream
    handler: logging.Handler = (logging.FileHandler(log_file) if log_file
                                else logging.StreamHandler(sys.stderr))
    # A record can quote a path, a reply or an error: the log is read on a terminal.
    handler.setFormatter(CleanFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler],
                        force=True)
    asyncio.run(_serve(flags, stdout, not no_watch))


async def _serve(flags: dict[str, Any], stdout: IO[bytes], watch: bool) -> None:
    from acp import Agent
    from acp.agent.connection import AgentSideConnection

    from codectx.agent.server import CodectxAgent
    from codectx.agent.stdio import streams

    reader, writer = await streams(stdout)
    agent = CodectxAgent(flags, watch)
    # The SDK answers "method not found" for what the agent does not define (fork, modes).
    # `session/close` is among the protocol's unstable methods: routed only when they are
    # on, and of those the agent defines that one alone.
    connection = AgentSideConnection(cast(Agent, agent), writer, reader, listening=False,
                                     use_unstable_protocol=True)
    logging.getLogger("codectx.acp").info("codectx acp: ready")
    try:
        await connection.listen()
    finally:
        agent.shutdown()
        # Requests read before stdin closed still get their answers. The pinned SDK runs
        # each in a task named "acp.Connection.request" (or ".notification").
        in_flight = [t for t in asyncio.all_tasks()
                     if t.get_name() in ("acp.Connection.request", "acp.Connection.notification")
                     and not t.done()]
        if in_flight:
            await asyncio.wait(in_flight, timeout=10)
        logging.getLogger("codectx.acp").info("codectx acp: stdin closed, stopping")
