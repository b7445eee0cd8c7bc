"""Every language codectx knows, one record each, and the lookups derived from them.

A file's language decides four things: its label in the prompt, how it is
parsed (a tree-sitter grammar and a query under `queries/`), how its skeleton
is cut and how its imports are read and resolved, and how an evaluation writes
a needle into it. Keeping all of that in one `LanguageSpec` per language means
the parser, the resolver and the evaluations never name a language: they ask
its record.

Adding a language touches only:

1. this registry: a `LanguageSpec` in `LANGUAGES` (its grammar package must
   also be a dependency in pyproject.toml);
2. a query file `queries/<name>.scm` capturing `import.<kind>` and
   `skeleton.{container,function,whole}` nodes;
3. a fixture: a small repository under `tests/fixtures/<name>/` with its
   expected graph `tests/fixtures/<name>.expected.json`, and a skeleton sample
   `tests/fixtures/skeletons/<name>.<ext>` whose golden is generated with
   `UPDATE_GOLDEN=1`.

A language whose imports need a resolution family no record uses yet also
gets that family's module `imports/<import_rule>.py` (a `Rule` class), or a
reader in `parse.py` under the key its record names.

Grammars come from packages that ship them compiled in their wheels, so
nothing is downloaded at run time. They are imported lazily: `codectx --help`
never pays for them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Query


@dataclass(frozen=True)
class LanguageSpec:
    """What codectx knows about one language; a label only when `grammar_module` is None."""

    name: str
    extensions: tuple[str, ...] = ()
    """Lowercase, with the dot."""
    filenames: tuple[str, ...] = ()
    """Whole file names that say the language better than an extension can."""
    grammar_module: str | None = None
    grammar_function: str = "language"
    query_stem: str | None = None
    """The query file under `queries/`, when it is not named after the language."""
    braces: bool = False
    """Skeleton bodies are `{ ... }` blocks rather than an indented `...`."""
    docstrings: bool = False
    """A body's leading string is documentation and stays in the skeleton."""
    import_reader: str = "text"
    """How a captured import node becomes references: a key of `parse.READERS`."""
    import_rule: str | None = None
    """The family that resolves references to files: the module `imports/<import_rule>.py`
    (one of `imports.RULES`); None resolves nothing."""
    needle_value: str = "{n} = {v}"
    """A needle assigning a value ({n}: name, {v}: value), as `evals.needles` writes it."""
    needle_copy: str = "{n} = {o}"
    """A needle assigning another constant ({o}: its name)."""

    @property
    def has_grammar(self) -> bool:
        return self.grammar_module is not None

    @property
    def query_file(self) -> str:
        return f"{self.query_stem or self.name}.scm"


def _label(name: str, extensions: tuple[str, ...], value: str, copy: str,
           filenames: tuple[str, ...] = ()) -> LanguageSpec:
    return LanguageSpec(name, extensions, filenames, needle_value=value, needle_copy=copy)


_RECORDS: tuple[LanguageSpec, ...] = (
    LanguageSpec(
        "python", (".py", ".pyi"), grammar_module="tree_sitter_python", docstrings=True,
        import_reader="python", import_rule="python",
    ),
    LanguageSpec(
        "javascript", (".js", ".mjs", ".cjs", ".jsx"), grammar_module="tree_sitter_javascript",
        braces=True, import_rule="js",
        needle_value="const {n} = {v};", needle_copy="const {n} = {o};",
    ),
    LanguageSpec(
        "typescript", (".ts", ".mts", ".cts"), grammar_module="tree_sitter_typescript",
        grammar_function="language_typescript", braces=True, import_rule="js",
        needle_value="const {n}: number = {v};", needle_copy="const {n}: number = {o};",
    ),
    LanguageSpec(
        "tsx", (".tsx",), grammar_module="tree_sitter_typescript", grammar_function="language_tsx",
        query_stem="typescript", braces=True, import_rule="js",
        needle_value="const {n}: number = {v};", needle_copy="const {n}: number = {o};",
    ),
    LanguageSpec(
        "go", (".go",), grammar_module="tree_sitter_go", braces=True, import_rule="go",
        needle_value="const {n} = {v}", needle_copy="const {n} = {o}",
    ),
    LanguageSpec(
        "rust", (".rs",), grammar_module="tree_sitter_rust", braces=True, import_rule="rust",
        needle_value="const {n}: u64 = {v};", needle_copy="const {n}: u64 = {o};",
    ),
    LanguageSpec(
        "java", (".java",), grammar_module="tree_sitter_java", braces=True,
        import_reader="java", import_rule="java",
        needle_value="static final long {n} = {v};", needle_copy="static final long {n} = {o};",
    ),
    LanguageSpec(
        "c", (".c", ".h"), grammar_module="tree_sitter_c", braces=True, import_rule="include",
        needle_value="#define {n} {v}", needle_copy="#define {n} {o}",
    ),
    LanguageSpec(
        "cpp", (".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"), grammar_module="tree_sitter_cpp",
        braces=True, import_rule="include",
        needle_value="constexpr long {n} = {v};", needle_copy="constexpr long {n} = {o};",
    ),
    # Without a grammar here, these still get a language label in the prompt.
    _label("csharp", (".cs",), "const long {n} = {v};", "const long {n} = {o};"),
    _label("kotlin", (".kt",), "const val {n} = {v}", "const val {n} = {o}"),
    _label("swift", (".swift",), "let {n} = {v}", "let {n} = {o}"),
    _label("scala", (".scala",), "val {n} = {v}", "val {n} = {o}"),
    _label("php", (".php",), "const {n} = {v};", "const {n} = {o};"),
    _label("ruby", (".rb",), "{n} = {v}", "{n} = {o}"),
    _label("lua", (".lua",), "local {n} = {v}", "local {n} = {o}"),
    _label("r", (".r",), "{n} <- {v}", "{n} <- {o}"),
    _label("shell", (".sh", ".bash", ".zsh"), "{n}={v}", "{n}=\"${o}\""),
    _label("make", (), "{n} := {v}", "{n} := $({o})",
           filenames=("Makefile", "makefile", "GNUmakefile")),
    _label("cmake", (), "set({n} {v})", "set({n} ${{{o}}})", filenames=("CMakeLists.txt",)),
    _label("dockerfile", (), "ENV {n}={v}", "ENV {n}=${o}", filenames=("Dockerfile",)),
    _label("sql", (".sql",), "SET @{n} = {v};", "SET @{n} = @{o};"),
    _label("toml", (".toml",), "{n} = {v}", "{n} = \"{o}\""),
    _label("yaml", (".yaml", ".yml"), "{n}: {v}", "{n}: {o}"),
    _label("ini", (".ini", ".cfg"), "{n} = {v}", "{n} = ${{{o}}}"),
    _label("json", (".json",), "\"{n}\": {v},", "\"{n}\": \"{o}\","),
    _label("css", (".css",), "--{n}: {v};", "--{n}: var(--{o});"),
    _label("scss", (".scss",), "${n}: {v};", "${n}: ${o};"),
    _label("html", (".html", ".htm"), "<meta name=\"{n}\" content=\"{v}\">",
           "<meta name=\"{n}\" content=\"{o}\">"),
    _label("xml", (".xml",), "<constant name=\"{n}\">{v}</constant>",
           "<constant name=\"{n}\">{o}</constant>"),
    _label("protobuf", (".proto",), "// {n} = {v}", "// {n} = {o}"),
    _label("query", (".scm",), "; {n} = {v}", "; {n} = {o}"),
    _label("go-mod", (".mod",), "// {n} = {v}", "// {n} = {o}", filenames=("go.mod",)),
    _label("markdown", (".md", ".markdown"), "`{n} = {v}`", "`{n} = {o}`"),
    _label("rst", (".rst",), "``{n} = {v}``", "``{n} = {o}``"),
    # What any file no record claims is labelled.
    _label("text", (".txt",), "{n} = {v}", "{n} = {o}"),
)

LANGUAGES: dict[str, LanguageSpec] = {spec.name: spec for spec in _RECORDS}
GRAMMARS: dict[str, LanguageSpec] = {n: s for n, s in LANGUAGES.items() if s.has_grammar}
EXTENSIONS: dict[str, str] = {ext: s.name for s in _RECORDS for ext in s.extensions}
FILENAMES: dict[str, str] = {name: s.name for s in _RECORDS for name in s.filenames}
TEXT = LANGUAGES["text"]


def language_of(path: str) -> str:
    """A stable language label for a repository path ("text" when unknown)."""
    name = path.rpartition("/")[2]
    if name in FILENAMES:
        return FILENAMES[name]
    stem, dot, suffix = name.rpartition(".")
    return EXTENSIONS.get(f".{suffix.lower()}", TEXT.name) if dot and stem else TEXT.name


def spec(language: str) -> LanguageSpec:
    """The record for a label; a label no record has is plain text."""
    return LANGUAGES.get(language, TEXT)


def has_grammar(language: str) -> bool:
    return language in GRAMMARS


@cache
def grammar(language: str) -> Language:
    from tree_sitter import Language

    record = GRAMMARS[language]
    module = importlib.import_module(record.grammar_module or "")
    return Language(getattr(module, record.grammar_function)())


@cache
def query(language: str) -> Query:
    from tree_sitter import Query

    record = GRAMMARS[language]
    text = resources.files("codectx.indexer").joinpath("queries", record.query_file).read_text()
    return Query(grammar(language), text)
