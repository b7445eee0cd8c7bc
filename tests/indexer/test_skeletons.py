"""Golden views at every level, one sample per language with a grammar, and per text rule.

Each sample under `fixtures/skeletons/` is named after its language; its
skeleton is compared byte for byte with `fixtures/golden/skeletons/<name>.txt`,
its outline with `golden/outlines/<name>.txt` and its names with
`golden/names/<name>.txt`. The samples of the text rules (markdown, JSON, YAML,
TOML, plain text) are under `fixtures/levels/`.
`UPDATE_GOLDEN=1` rewrites the goldens (a `CODECTX_` prefix would be stripped by
the isolated test environment); review the diff before accepting it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codectx.indexer.languages import GRAMMARS, language_of
from codectx.indexer.parse import parse_file
from codectx.indexer.serialize import names_line
from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "skeletons"
GOLDEN = FIXTURES / "golden" / "skeletons"
LEVELS = FIXTURES / "golden"


def sample_for(language: str) -> Path:
    found = sorted(SAMPLES.glob(f"{language}.*"))
    assert len(found) == 1, f"want one sample {SAMPLES}/{language}.<ext>, found {found}"
    return found[0]


def check(golden: Path, text: str) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} missing; UPDATE_GOLDEN=1 to write it"
    expected = golden.read_text(encoding="utf-8")
    assert text == expected, f"{golden} changed; UPDATE_GOLDEN=1 to accept"


@pytest.mark.parametrize("language", sorted(GRAMMARS))
def test_every_level_matches_its_golden(language: str) -> None:
    sample = sample_for(language)
    assert language_of(sample.name) == language
    facts = parse_file(language, sample.read_bytes())
    assert not facts.parse_errors, f"{sample.name} does not parse cleanly"
    assert facts.skeleton and facts.outline and facts.names, f"{sample.name}: a level is empty"
    check(GOLDEN / f"{language}.txt", facts.skeleton)
    check(LEVELS / "outlines" / f"{language}.txt", facts.outline)
    check(LEVELS / "names" / f"{language}.txt", names_line(facts.names) + "\n")
    # Each level is cheaper than the one above it.
    assert len(facts.outline) < len(facts.skeleton) < len(sample.read_text())


@pytest.mark.parametrize("sample", sorted((FIXTURES / "levels").iterdir()),
                         ids=lambda p: p.name)
def test_text_rules_match_their_golden(sample: Path) -> None:
    language = language_of(sample.name)
    assert language not in GRAMMARS
    facts = parse_file(language, sample.read_bytes())
    assert facts.outline
    check(LEVELS / "outlines" / f"{sample.name}.txt", facts.outline)
    check(LEVELS / "names" / f"{sample.name}.txt", names_line(facts.names) + "\n")
