"""Model resolution: a path, a catalog name, or the embedded default."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx.errors import ModelError
from codectx.models.catalog import EMBEDDED, catalog
from codectx.models.catalog.embedded import EMBEDDED_MODEL, embedded_model_path
from codectx.models.catalog.resolve import resolve_model


@pytest.mark.model
def test_nothing_set_means_the_embedded_default(tmp_path: Path) -> None:
    resolved = resolve_model(None, tmp_path, tmp_path / "models")
    assert resolved.name == EMBEDDED and resolved.entry is not None
    assert resolved.path == embedded_model_path(tmp_path)
    assert resolved.path.with_suffix(".sha256").read_text().strip() == EMBEDDED_MODEL.sha256


def test_a_path_wins_and_is_recognised_from_the_catalog(tmp_path: Path,
                                                        embedded_gguf: Path) -> None:
    resolved = resolve_model(str(embedded_gguf), tmp_path, tmp_path)
    assert resolved.path == embedded_gguf and resolved.name == EMBEDDED
    other = tmp_path / "mine.gguf"
    other.write_bytes(b"GGUF")
    assert resolve_model(str(other), tmp_path, tmp_path).name == "mine"


def test_a_catalog_model_is_found_in_the_models_directory(tmp_path: Path) -> None:
    entry = catalog()["qwen2.5-coder-7b-instruct"]
    with pytest.raises(ModelError, match="is not downloaded") as info:
        resolve_model(entry.name, tmp_path, tmp_path / "models")
    assert info.value.hint is not None and entry.source in info.value.hint
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / entry.file).write_bytes(b"GGUF")
    assert resolve_model(entry.name, tmp_path, tmp_path / "models").path.name == entry.file


def test_unknown_names_and_missing_paths_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"unknown model 'qwen2\.5-coder-7b'") as info:
        resolve_model("qwen2.5-coder-7b", tmp_path, tmp_path)
    assert info.value.hint == "Did you mean 'qwen2.5-coder-7b-instruct'?"
    with pytest.raises(ModelError, match="model file not found"):
        resolve_model(str(tmp_path / "nope.gguf"), tmp_path, tmp_path)


@pytest.mark.model
def test_a_tampered_embedded_model_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    import codectx.models.catalog.embedded as embedded

    monkeypatch.setattr(embedded, "EMBEDDED_MODEL", replace(EMBEDDED_MODEL, sha256="0" * 64))
    with pytest.raises(ModelError, match="checksum does not match"):
        embedded.embedded_model_path(tmp_path)
    left = [p.name for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")]
    assert left == []  # neither the joined file nor a temporary one


def test_every_catalog_edit_format_is_one_the_edit_pipeline_knows() -> None:
    from codectx.assistant.edits.formats import NAMES
    from codectx.models.catalog import DEFAULT_EDIT_FORMAT

    assert DEFAULT_EDIT_FORMAT in NAMES
    unknown = {m.name: m.edit_format for m in catalog().values() if m.edit_format not in NAMES}
    assert not unknown
