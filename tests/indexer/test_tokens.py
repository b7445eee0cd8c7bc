"""Token counts: exact with the embedded model's vocabulary, or a labelled estimate."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_cpp import Llama

from codectx.errors import TokenizerError
from codectx.models.runtime.tokenizer import GGUFCounter
from codectx.tokens import EstimateCounter
from tests.conftest import copy_fixture, index


@pytest.fixture(scope="module")
def vocab(embedded_gguf: Path) -> Llama:
    return Llama(str(embedded_gguf), vocab_only=True, verbose=False)


def test_exact_counts_match_the_model_tokenizer(
    tmp_path: Path, embedded_gguf: Path, vocab: Llama
) -> None:
    root = copy_fixture("java", tmp_path / "java")
    result = index(root, model=str(embedded_gguf))
    assert result.token_count_exact and result.tokenizer.startswith("gguf-")
    for segment in result.segments:
        expected = len(vocab.tokenize(segment.text.encode(), add_bos=False, special=False))
        assert segment.tokens == expected, segment.path
    by_file = {s.path: s.tokens for s in result.segments if s.path}
    assert all(f.tokens == by_file[f.path] for f in result.files)


def test_the_estimate_is_labelled_and_close(tmp_path: Path, embedded_gguf: Path) -> None:
    root = copy_fixture("python", tmp_path / "python")
    estimated = index(root)
    exact = index(root, model=str(embedded_gguf))
    assert not estimated.token_count_exact and estimated.tokenizer == EstimateCounter.name
    assert 0.8 < estimated.total_tokens / exact.total_tokens < 1.25


def test_the_estimate_setting_wins_over_a_configured_model(
    tmp_path: Path, embedded_gguf: Path
) -> None:
    root = copy_fixture("c", tmp_path / "c")
    assert not index(root, model=str(embedded_gguf), tokenizer="estimate").token_count_exact


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="model file not found"):
        GGUFCounter(tmp_path / "nope.gguf")


def test_a_corrupt_model_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0garbage" * 1000)
    with pytest.raises(TokenizerError, match="cannot read the vocabulary"):
        GGUFCounter(bad).count("hello")
