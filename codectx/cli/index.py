"""`codectx index` and `codectx config show`: the prompt as serialized, and the settings."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codectx.cli.console import err
from codectx.cli.options import friendly_errors, load_settings, path_inside, write_atomic
from codectx.printable import json_text

if TYPE_CHECKING:
    from rich.table import Table

    from codectx.config import Loaded
    from codectx.indexer.result import IndexResult


@click.command("index")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("-o", "--output", default="-", metavar="FILE",
              help="Write the prompt to FILE ('-' for stdout, the default).")
@click.option("--format", "fmt", type=click.Choice(["xml", "markdown"]), default=None,
              help="Prompt format (default: xml).")
@click.option("--budget", type=click.IntRange(min=1), default=None, metavar="N",
              help="Token budget; over it, every file is shown at the level of detail that "
                   "fits (full, skeleton, outline, names, listed), the important ones deepest.")
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
    from codectx.cli import console
    from codectx.indexer.repository import index_repository
    from codectx.models.provider import index_counter

    flags = {
        "format": fmt, "budget": budget, "model": model,
        "include": list(include) or None, "exclude": list(exclude) or None,
        "tokenizer": "estimate" if estimate else None,
    }
    loaded = load_settings(path, flags)
    counter = index_counter(loaded)
    own_output = path_inside(path, Path(output)) if output != "-" else None
    if own_output is not None:  # never index the prompt a previous run wrote
        loaded = loaded.excluding("/" + own_output)
    with console.progress_bar(enabled=not quiet) as progress:
        result = index_repository(path, loaded, counter, progress)
    if output != "-":
        write_atomic(Path(output), result.text)
    if as_json:
        click.echo(json_text(json.dumps(result_json(result), indent=2, ensure_ascii=False)))
    elif output == "-" and sys.stdout.isatty():
        console.write(result.text)  # the repository's text, shown: nothing a terminal obeys
    elif output == "-":
        sys.stdout.write(result.text)  # piped or redirected: the prompt exactly
        sys.stdout.flush()
    if not quiet:
        print_summary(result)


@click.group("config")
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
    variables, command-line flags. Settings that reach outside the repository
    are taken from its own config only once you trust it (`codectx trust`);
    until then they are listed here as ignored.
    """
    from codectx import config
    from codectx.cli import console

    loaded = config.load(path)
    trust = loaded.trust
    if as_json:
        shown: dict[str, Any] = {k: {"value": v, "from": loaded.sources[k]}
                                 for k, v in loaded.settings.model_dump().items()}
        for key, value in (trust.ignored if trust is not None else {}).items():
            assert trust is not None
            shown[key]["ignored"] = {"value": value, "from": trust.source,
                                     "why": "untrusted repository: " + trust.why[key]}
        click.echo(json.dumps(shown, indent=2))
    else:
        console.err.print(f"user config file: {config.user_config_path()}", markup=False)
        if trust is not None and trust.source is not None:
            state = "trusted" if trust.trusted else "not trusted"
            console.err.print(f"repository config: {trust.source} ({state})", markup=False)
        console.out.print(config_table(loaded))
        notice = trust.notice() if trust is not None else None
        if notice:
            console.err.print(f"note: {notice}", markup=False, highlight=False)


SHOW_DEGRADED = 20


def print_summary(result: IndexResult) -> None:
    from codectx.indexer.levels import DEEPEST_LAST, Level
    from codectx.indexer.result import language_tokens

    levels = Counter(f.mode for f in result.files)
    kind = "exact" if result.token_count_exact else "estimated"
    shown = ", ".join(f"{levels[level]} " + ("in full" if level is Level.FULL else level.value)
                      for level in (*reversed(DEEPEST_LAST), Level.COLLAPSED)
                      if levels[level] or level is Level.FULL)
    err.print(
        f"[bold]{result.name}[/]: {len(result.files)} files: {shown}; "
        f"{len(result.skipped)} skipped; {result.total_tokens:,} tokens ({kind}) "
        f"in {result.elapsed_s:.2f} s"
    )
    by_language = language_tokens(result.files)
    if by_language:
        err.print("  tokens by language: " + ", ".join(
            f"{lang} {tokens:,}" for lang, tokens in list(by_language.items())[:8]))
    largest = sorted(result.files, key=lambda f: (-f.tokens, f.path))[:5]
    if largest and largest[0].tokens:
        err.print("  largest: " + ", ".join(f"{f.path} ({f.tokens:,})" for f in largest))
    if result.files:
        err.print(f"  order: first {result.files[0].path}, last {result.files[-1].path}")
    if levels[Level.LISTED]:
        err.print(f"  {levels[Level.LISTED]} file(s) only listed in the file tree: the budget "
                  "does not hold even their names", markup=False)
    if result.collapsed:
        count = len(result.collapsed)
        err.print(f"  {count} {'directory' if count == 1 else 'directories'} shown as one line "
                  "each, the least important first, to fit the budget (their files can still "
                  "be retrieved):", markup=False)
        for folder in result.collapsed[:SHOW_DEGRADED]:
            err.print(f"    {folder.path or '.'}/ ({folder.files:,} files)", markup=False,
                      highlight=False)
        if len(result.collapsed) > SHOW_DEGRADED:
            err.print(f"    ... and {len(result.collapsed) - SHOW_DEGRADED} more (--json lists "
                      "them)")
    data = [f for f in result.files if f.kind == "data"]
    if data:
        err.print(f"  data, snapshots and generated files, low in the prompt ({len(data)}):")
        for f in data[:SHOW_DEGRADED]:
            err.print(f"    {f.mode.value:8} {f.path} ({f.data_reason})", markup=False,
                      highlight=False)
        if len(data) > SHOW_DEGRADED:
            err.print(f"    ... and {len(data) - SHOW_DEGRADED} more (--json lists them)")
    flagged = [f.path for f in result.files if f.invalid_utf8]
    if flagged:
        err.print(f"  invalid UTF-8, decoded with replacement: {', '.join(flagged)}",
                  markup=False)
    if result.skipped:
        reasons = Counter(s.reason for s in result.skipped)
        err.print("  skipped: " + "; ".join(f"{r} ({n})" for r, n in reasons.most_common()),
                  markup=False, highlight=False)
    for note in result.notes:
        err.print(f"  note: {note}", markup=False)


def result_json(result: IndexResult) -> dict[str, Any]:
    spans = {s.path: (s.start, s.end) for s in result.segments if s.path is not None}
    return {
        "root": result.root,
        "total_tokens": result.total_tokens,
        "token_count_exact": result.token_count_exact,
        "tokenizer": result.tokenizer,
        "files": [
            {
                "path": f.path, "language": f.language, "tokens": f.tokens, "mode": f.mode.value,
                "imports": list(f.imports), "external": list(f.external),
                "span": list(spans[f.path]) if f.path in spans else None,
                "invalid_utf8": f.invalid_utf8, "full_tokens": f.full_tokens, "kind": f.kind,
                **({"data_reason": f.data_reason} if f.data_reason else {}),
            }
            for f in result.files
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "collapsed": [{"path": c.path, "files": c.files, "summary": c.summary,
                       "why": "among the least important directories: collapsed to one line "
                              "of the file tree to fit the budget"}
                      for c in result.collapsed],
        "elapsed_s": round(result.elapsed_s, 3),
    }


def config_table(loaded: Loaded) -> Table:
    from rich.table import Table
    from rich.text import Text

    from codectx.settings import Settings

    table = Table("setting", "value", "from", "meaning", box=None, pad_edge=False)
    trust = loaded.trust
    for key, field in Settings.model_fields.items():
        value = getattr(loaded.settings, key)
        source = Text(loaded.sources[key])
        if trust is not None and key in trust.ignored:
            source.append(f"\nignored: {trust.source} sets {trust.ignored[key]!r} (untrusted "
                          f"repository: {trust.why[key]})", style="red")
        table.add_row(Text(key), Text(repr(value)), source, Text(field.description or ""))
    return table

