"""The language registry: one consistent record per language, and cheap to import."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from importlib import resources

import pytest

from codectx.evals.needles import Needle
from codectx.indexer import languages
from codectx.indexer.imports import RULES
from codectx.indexer.languages import GRAMMARS, LANGUAGES, language_of
from codectx.indexer.parse import READERS

INDEXER_MODULES = ("pipeline", "repository", "parse", "imports", "languages", "order",
                   "serialize")


def test_each_record_is_filed_under_its_own_name() -> None:
    assert all(name == record.name for name, record in LANGUAGES.items())
    assert "text" in LANGUAGES


def test_every_extension_and_file_name_belongs_to_exactly_one_record() -> None:
    extensions = Counter(e for r in LANGUAGES.values() for e in r.extensions)
    filenames = Counter(n for r in LANGUAGES.values() for n in r.filenames)
    assert [e for e, n in extensions.items() if n > 1] == []
    assert [f for f, n in filenames.items() if n > 1] == []
    assert all(e.startswith(".") and e == e.lower() for e in extensions)
    for record in LANGUAGES.values():
        for ext in record.extensions:
            assert language_of(f"dir/file{ext}") == record.name
        for name in record.filenames:
            assert language_of(f"dir/{name}") == record.name


@pytest.mark.parametrize("name", sorted(GRAMMARS))
def test_every_grammar_language_has_a_query_that_compiles(name: str) -> None:
    record = GRAMMARS[name]
    path = resources.files("codectx.indexer").joinpath("queries", record.query_file)
    assert path.is_file(), f"{name}: no queries/{record.query_file}"
    captures = languages.query(name).capture_count
    assert captures > 0


def test_query_files_belong_to_a_grammar_language() -> None:
    stems = {r.query_file for r in GRAMMARS.values()}
    shipped = {p.name for p in resources.files("codectx.indexer").joinpath("queries").iterdir()
               if p.name.endswith(".scm")}
    assert shipped == stems


def test_records_name_readers_and_rules_that_exist() -> None:
    for record in LANGUAGES.values():
        assert record.import_reader in READERS, record.name
        assert record.import_rule is None or record.import_rule in RULES, record.name
        # Without a grammar nothing is parsed, so a rule or skeleton style would never apply.
        if not record.has_grammar:
            assert record.import_rule is None and not record.braces, record.name


def test_every_record_has_needle_forms_that_use_the_names() -> None:
    for record in LANGUAGES.values():
        assert "{n}" in record.needle_value and "{v}" in record.needle_value, record.name
        assert "{n}" in record.needle_copy and "{o}" in record.needle_copy, record.name
    # A label no record has is written as plain text.
    assert Needle("A_B_CD", 1234567).line("no-such-language") == "A_B_CD = 1234567"


def test_importing_the_indexer_loads_no_model_runtime_and_no_grammar() -> None:
    modules = ", ".join(f"codectx.indexer.{m}" for m in INDEXER_MODULES)
    script = (
        f"import sys\nimport {modules}\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if m == 'llama_cpp' or m.startswith(('llama_cpp.', 'tree_sitter_')))\n"
        "print(' '.join(loaded))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == []

