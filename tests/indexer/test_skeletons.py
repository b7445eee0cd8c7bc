"""Golden skeletons, one per language with a grammar: signatures kept, bodies elided.

Each sample under `fixtures/skeletons/` is named after its language; its
skeleton is compared byte for byte with `fixtures/golden/skeletons/<name>.txt`.
`UPDATE_GOLDEN=1` rewrites the goldens (a `CODECTX_` prefix would be stripped by
the isolated test environment); review the diff before accepting it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codectx.indexer.languages import GRAMMARS, language_of
from codectx.indexer.parse import parse_file
from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "skeletons"
GOLDEN = FIXTURES / "golden" / "skeletons"


def sample_for(language: str) -> Path:
    found = sorted(SAMPLES.glob(f"{language}.*"))
    assert len(found) == 1, f"want one sample {SAMPLES}/{language}.<ext>, found {found}"
    return found[0]


@pytest.mark.parametrize("language", sorted(GRAMMARS))
def test_skeleton_matches_its_golden(language: str) -> None:
    sample = sample_for(language)
    assert language_of(sample.name) == language
    facts = parse_file(language, sample.read_bytes())
    assert not facts.parse_errors, f"{sample.name} does not parse cleanly"
    assert facts.skeleton, f"{sample.name} has an empty skeleton"
    golden = GOLDEN / f"{language}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(facts.skeleton, encoding="utf-8")
    assert golden.exists(), f"{golden} missing; UPDATE_GOLDEN=1 to write it"
    expected = golden.read_text(encoding="utf-8")
    assert facts.skeleton == expected, f"{language} skeleton changed; UPDATE_GOLDEN=1 to accept"
