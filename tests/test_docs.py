"""The documentation keeps up with the code.

docs/configuration.md is rendered from `Settings` (`make docs`); docs/usage.md's
synopsis names every command and every option that `--help` shows; the `codectx`
command lines in the README's and the docs' examples use options that exist; links
between the pages lead to files and headings that exist; and a call the pages write,
`module.function(args)`, names that function's parameters.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from codectx.cli import main
from codectx.settings_reference import PAGE, render

ROOT = Path(__file__).parents[1]
USAGE = ROOT / "docs" / "usage.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
HELP = ("-h", "--help")


def test_the_configuration_page_is_rendered_from_the_settings() -> None:
    assert (ROOT / PAGE).read_text(encoding="utf-8") == render(), (
        "docs/configuration.md differs from what codectx/settings_reference.py renders "
        "from the settings in codectx/settings.py: run `make docs` and commit the page")


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under `group`, groups included, found through click itself."""
    found = [path]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            found += commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def help_options(path: tuple[str, ...]) -> set[str]:
    """The option names the real `codectx ... --help` prints for one command."""
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    section = result.output.split("\nOptions:\n", 1)[1].split("\nCommands:\n", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("  -"):  # an option's first column, before its help
            column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
            names.update(re.findall(r"(?<![\w-])--?[A-Za-z][\w-]*", column))
    return names


def synopsis() -> dict[str, str]:
    """docs/usage.md's synopsis: each entry (continuation lines joined) by its first words."""
    text = USAGE.read_text(encoding="utf-8")
    block = text.split("## Synopsis", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    entries: list[str] = []
    for line in block.splitlines():
        if line.startswith((" ", "\t")) and entries:
            entries[-1] += " " + line.strip()
        elif line.strip():
            entries.append(line.strip())
    return {entry: entry for entry in entries}


def entry_words(entry: str) -> tuple[str, ...]:
    """The command words an entry starts with: `codectx hook run [...]` -> (hook, run)."""
    words = entry.split()
    if words[0] != "codectx":
        return ()
    taken = []
    for word in words[1:]:
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        taken.append(word)
    return tuple(taken)


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(("codectx", *p)))
def test_the_usage_page_names_every_command_and_option(path: tuple[str, ...]) -> None:
    entries = synopsis()
    shared = next(e for e in entries if e.startswith("MODEL OPTIONS:"))
    mine = [e for e in entries if e.startswith("codectx") and entry_words(e) == path]
    if not mine:  # a group: named by its subcommands' entries
        mine = [e for e in entries if e.startswith("codectx")
                and entry_words(e)[:len(path)] == path and path]
    assert mine, f"docs/usage.md's synopsis has no entry for `codectx {' '.join(path)}`"
    text = " ".join(mine)
    if "[MODEL OPTIONS]" in text:
        text += " " + shared
    shown = help_options(path)
    wanted = shown if not path else shown - set(HELP)
    missing = sorted(o for o in wanted if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])",
                                                        text))
    assert not missing, (f"docs/usage.md's synopsis entry for `codectx {' '.join(path)}` "
                         f"does not name {', '.join(missing)}, which --help shows")


def test_the_help_options_are_read_the_way_click_declares_them() -> None:
    """The parse of --help above finds what click declares (so it cannot miss options)."""
    command = main.get_command(click.Context(main), "edit")
    assert command is not None
    declared = {name for param in command.params if isinstance(param, click.Option)
                for name in (*param.opts, *param.secondary_opts)}
    assert help_options(("edit",)) == declared | set(HELP)


def example_lines() -> list[tuple[str, str]]:
    """`codectx` command lines in the sh code blocks of the README and the docs."""
    found = []
    for page in PAGES:
        blocks = re.findall(r"```sh\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        for block in blocks:
            if page == USAGE and "MODEL OPTIONS:" in block:
                continue  # the synopsis, checked above
            joined = re.sub(r"\\\n\s*", " ", block)
            for line in joined.splitlines():
                line = line.split("  #", 1)[0].strip()
                if re.match(r"(\.venv/bin/|/\S+/)?codectx\s", line):
                    found.append((page.name, line))
    return found


def test_the_examples_use_options_that_exist() -> None:
    wrong = []
    for page, line in example_lines():
        words = shlex.split(line)[1:]
        command: click.Command = main
        while isinstance(command, click.Group) and words and not words[0].startswith("-"):
            sub = command.get_command(click.Context(command), words[0])
            if sub is None:
                wrong.append(f"{page}: {line}: no command {words[0]!r}")
                break
            command, words = sub, words[1:]
        known = {name for param in command.params if isinstance(param, click.Option)
                 for name in (*param.opts, *param.secondary_opts)} | set(HELP)
        wrong += [f"{page}: {line}: no option {word}" for word in words
                  if word.startswith("-") and word != "-" and word.split("=")[0] not in known]
    assert wrong == []
    assert len(example_lines()) > 10


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_links_between_the_pages_lead_somewhere() -> None:
    broken = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            file, _, anchor = target.partition("#")
            linked = (page.parent / file).resolve() if file else page
            if not linked.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


CALL = re.compile(r"`(?:(?P<module>[A-Za-z_]+)\.)?(?P<function>[A-Za-z_]+)"
                  r"\((?P<args>[^`)]*)\)`")


SOURCES = (ROOT / "codectx", ROOT / "tests" / "support")
"""Where a called name is looked for: the product, and the test doubles the pages name."""


def _owners(name: str, function: str) -> list[object]:
    """What `name` may be in the pages: the modules of that name, or for a capitalised
    name the classes defined by it, in the product or the test doubles; those that have
    `function` first."""
    import importlib

    if name[:1].isupper():
        files = [path for root in SOURCES for path in root.rglob("*.py")
                 if re.search(rf"^class {name}\b", path.read_text(encoding="utf-8"), re.M)]
    else:
        files = [path for root in SOURCES for path in root.rglob(f"{name}.py")]
    owners = []
    for path in files:
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        owners.append(getattr(module, name) if name[:1].isupper() else module)
    return sorted(owners, key=lambda owner: not callable(getattr(owner, function, None)))


def test_the_calls_the_pages_write_have_the_codes_parameters() -> None:
    import inspect

    checked = 0
    for page in PAGES:
        for match in CALL.finditer(page.read_text(encoding="utf-8")):
            owner, name = match["module"], match["function"]
            if owner is None:  # a class called: `Session(root, loaded)`
                if not name[:1].isupper():
                    continue
                owner, name = name, "__init__"
            owners = _owners(owner, name)
            if not owners:
                continue  # not codectx's: `git.Repo(...)`
            function = getattr(owners[0], name, None)
            where = f"{page.name}: `{match[0]}`"
            assert callable(function), f"{where}: {owner} has no {name}"
            parameters = {n: p for n, p in inspect.signature(function).parameters.items()
                          if n != "self"}
            written = [a.split("=")[0].strip() for a in match["args"].split(",")]
            written = [a for a in written if a not in ("", "*", "...")]
            assert set(written) <= set(parameters), f"{where}: not its parameters"
            required = [n for n, p in parameters.items() if p.default is p.empty
                        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            assert written[:len(required)] == required, f"{where}: {required} come first"
            checked += 1
    assert checked >= 6  # commands.run, Session(...), Session.run_turn, FakeBackend(...), ...
