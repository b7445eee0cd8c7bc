"""The `codectx` command line: parse flags, call the core, print.

One module per command group holds its click commands and what they print;
`options` holds what they share. Errors a user can fix are printed as one line
plus a hint, with a non-zero exit; tracebacks are for bugs only.
"""

from __future__ import annotations

import click

from codectx import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="codectx")
def main() -> None:
    """codectx: a local, codebase-aware coding assistant.

    It serializes a whole repository into one long prompt, dependencies
    first and frequently changed files last, for a long-context model.
    """


def _register() -> None:
    from codectx.cli import acp, ask, doctor, edit, evaluate, index, models, review, trust, watch

    for command in (index.index_cmd, index.config_group, ask.chat_cmd, ask.ask_cmd,
                    edit.edit_cmd, edit.undo_cmd, review.review_cmd, review.hook_group,
                    acp.acp_cmd, watch.watch_cmd, evaluate.eval_group, models.cache_group,
                    models.models_group, doctor.doctor_cmd, trust.trust_cmd):
        main.add_command(command)


_register()
