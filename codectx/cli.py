"""The `codectx` command line: parse flags, call the core, print.

Errors a user can fix are printed as one line plus a hint, with a non-zero
exit; tracebacks are for bugs only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from codectx import __version__
from codectx.cli_support import friendly_errors, path_inside, write_atomic


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="codectx")
def main() -> None:
    """codectx: a local, codebase-aware coding assistant.

    It serializes a whole repository into one long prompt, dependencies
    first and frequently changed files last, for a long-context model.
    """


@main.command("index")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("-o", "--output", default="-", metavar="FILE",
              help="Write the prompt to FILE ('-' for stdout, the default).")
@click.option("--format", "fmt", type=click.Choice(["xml", "markdown"]), default=None,
              help="Prompt format (default: xml).")
@click.option("--budget", type=click.IntRange(min=1), default=None, metavar="N",
              help="Token budget; over it, low-ranked files become skeletons, then are omitted.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON description of the index on stdout instead of the prompt.")
@click.option("--include", multiple=True, metavar="GLOB",
              help="Index only files matching GLOB (gitignore syntax; repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Leave out files matching GLOB (gitignore syntax; repeatable).")
@click.option("--model", default=None, metavar="NAME|GGUF",
              help="Count tokens exactly with this model's vocabulary (a name from "
                   "`codectx models list` or a GGUF file).")
@click.option("--estimate", is_flag=True, help="Estimate token counts even when a model is set.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary on stderr.")
@friendly_errors
def index_cmd(
    path: Path, output: str, fmt: str | None, budget: int | None, as_json: bool,
    include: tuple[str, ...], exclude: tuple[str, ...], model: str | None, estimate: bool,
    quiet: bool,
) -> None:
    """Serialize the repository at PATH (default: .) into one prompt.

    Files are ordered by their dependency graph (what is depended upon comes
    first) and, among files free to come next, by how rarely git history
    shows them changing. A summary goes to stderr; with --json, stdout gets
    {root, total_tokens, token_count_exact, files, skipped, elapsed_s}.

    \b
    Examples:
      codectx index                      # the prompt for this repository, on stdout
      codectx index -o prompt.xml        # ... written to a file
      codectx index --budget 100000 --json | jq .total_tokens
    """
    from codectx import config, console
    from codectx.indexer.repository import index_repository

    flags = {
        "format": fmt, "budget": budget, "model": model,
        "include": list(include) or None, "exclude": list(exclude) or None,
        "tokenizer": "estimate" if estimate else None,
    }
    loaded = config.load(path, flags)
    if loaded.settings.model and loaded.settings.tokenizer != "estimate":
        from codectx.models.resolve import resolve_model

        model_path = resolve_model(loaded.settings.model, loaded.cache_path(),
                                   loaded.models_path()).path
        loaded = loaded.with_model_path(model_path)
    own_output = path_inside(path, Path(output)) if output != "-" else None
    if own_output is not None:  # never index the prompt a previous run wrote
        loaded = loaded.excluding("/" + own_output)
    with console.progress_bar(enabled=not quiet) as progress:
        result = index_repository(path, loaded, progress)
    if output != "-":
        write_atomic(Path(output), result.text)
    if as_json:
        click.echo(json.dumps(console.result_json(result), indent=2, ensure_ascii=False))
    elif output == "-":
        sys.stdout.write(result.text)
        sys.stdout.flush()
    if not quiet:
        console.print_summary(result)


@main.group("config")
def config_group() -> None:
    """Inspect codectx settings."""


@config_group.command("show")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@friendly_errors
def config_show(path: Path, as_json: bool) -> None:
    """Print the effective settings for the repository at PATH and where each came from.

    Precedence, lowest first: defaults, the user config file, the repository's
    .codectx.toml (or [tool.codectx] in pyproject.toml), CODECTX_* environment
    variables, command-line flags.
    """
    from codectx import config, console

    loaded = config.load(path)
    if as_json:
        click.echo(json.dumps(
            {k: {"value": v, "from": loaded.sources[k]}
             for k, v in loaded.settings.model_dump().items()}, indent=2))
    else:
        console.err.print(f"user config file: {config.user_config_path()}", markup=False)
        console.out.print(console.config_table(loaded))


def _register() -> None:
    from codectx import cli_acp, cli_assistant, cli_edit, cli_eval, cli_review, cli_watch

    for command in (cli_assistant.chat_cmd, cli_assistant.ask_cmd, cli_edit.edit_cmd,
                    cli_edit.undo_cmd, cli_review.review_cmd, cli_review.hook_group,
                    cli_acp.acp_cmd, cli_watch.watch_cmd, cli_eval.eval_group,
                    cli_assistant.cache_group, cli_assistant.models_group):
        main.add_command(command)


_register()
