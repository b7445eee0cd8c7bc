"""Models from chunk packages: joined in order, checked, and chosen by resolve_model.

The part packages here are small fakes written into the test's directory and put on
sys.path; nothing is downloaded and no real model is joined.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from codectx.cli import main
from codectx.cli.models import models_table
from codectx.errors import ModelError
from codectx.models.catalog import catalog, embedded
from codectx.models.catalog.embedded import Packaged, packaged_model_path
from codectx.models.catalog.resolve import resolve_model

SLICES = (b"GGUF" + b"a" * 1000, b"b" * 1000, b"c" * 17)
JOINED = b"".join(SLICES)
SHA = hashlib.sha256(JOINED).hexdigest()
NAME = "qwen2.5-coder-1.5b-instruct"


def fake_parts(root: Path, monkeypatch: pytest.MonkeyPatch, skip: int | None = None,
               prefix: str = "codectx_fake_model_part") -> tuple[str, ...]:
    """Part packages laid out like the real ones (`NAME/data/partNN.bin`), importable."""
    names = []
    for index, data in enumerate(SLICES, start=1):
        names.append(f"{prefix}{index}")
        if index == skip:
            continue
        package = root / "site" / names[-1]
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{index:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(root / "site"))
    return tuple(names)


def spec(parts: tuple[str, ...], sha256: str = SHA) -> Packaged:
    return Packaged(file="fake.gguf", sha256=sha256, parts=parts, extra="model-fake",
                    label="the fake model")


def _left(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "models").iterdir() if not p.name.endswith(".lock"))


def test_the_parts_are_joined_in_order_checked_and_joined_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = spec(fake_parts(tmp_path, monkeypatch))
    assert packaged.installed()
    path = packaged_model_path(packaged, tmp_path / "cache")
    assert path == tmp_path / "cache" / "models" / "fake.gguf"
    assert path.read_bytes() == JOINED
    assert path.with_suffix(".sha256").read_text().strip() == SHA
    assert _left(tmp_path / "cache") == ["fake.gguf", "fake.sha256"]

    # A slice that changes now (same size) goes unnoticed: the joined file is trusted, not
    # joined and checked again.
    first = path.stat()
    (tmp_path / "site" / packaged.parts[1] / "data" / "part02.bin").write_bytes(b"x" * 1000)
    assert packaged_model_path(packaged, tmp_path / "cache") == path
    assert path.stat().st_ino == first.st_ino and path.stat().st_mtime_ns == first.st_mtime_ns
    assert path.read_bytes() == JOINED


def test_a_joined_file_without_its_checksum_marker_is_joined_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = spec(fake_parts(tmp_path, monkeypatch))
    path = packaged_model_path(packaged, tmp_path / "cache")
    path.write_bytes(b"z" * len(JOINED))  # a damaged file of the right size
    path.with_suffix(".sha256").unlink()
    assert packaged_model_path(packaged, tmp_path / "cache").read_bytes() == JOINED


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = spec(fake_parts(tmp_path, monkeypatch), sha256="0" * 64)
    with pytest.raises(ModelError, match="checksum does not match") as info:
        packaged_model_path(packaged, tmp_path / "cache")
    assert SHA in info.value.message  # the checksum that was found
    assert info.value.hint is not None and "codectx[model-fake]" in info.value.hint
    assert _left(tmp_path / "cache") == []  # neither the joined file nor a temporary one


def test_a_missing_part_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = spec(fake_parts(tmp_path, monkeypatch, skip=2))
    assert not packaged.installed()
    with pytest.raises(ModelError, match="codectx_fake_model_part2 is missing") as info:
        packaged_model_path(packaged, tmp_path / "cache")
    assert info.value.hint is not None and "pip install 'codectx[model-fake]'" in info.value.hint
    assert not (tmp_path / "cache" / "models" / "fake.gguf").exists()


def test_the_catalog_names_packaged_models_with_their_files_and_checksums() -> None:
    for entry in catalog().values():
        if entry.package is None:
            continue
        packaged = embedded.PACKAGES[entry.package]
        assert packaged.extra == entry.package and packaged.file == entry.file
        assert entry.sha256 in (None, packaged.sha256)
    entry = catalog()[NAME]
    assert entry.package == "model-1.5b" and entry.size == 1_117_320_768
    assert entry.repo == "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF"
    assert len(embedded.QWEN_CODER_1_5B.parts) == 22


def _as_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1.5B model's packages replaced by the fakes (installed)."""
    monkeypatch.setitem(embedded.PACKAGES, "model-1.5b", replace(
        embedded.QWEN_CODER_1_5B, parts=fake_parts(tmp_path, monkeypatch), sha256=SHA))


def _as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 1.5B model's packages replaced by names nothing provides (not installed)."""
    monkeypatch.setitem(embedded.PACKAGES, "model-1.5b", replace(
        embedded.QWEN_CODER_1_5B, parts=("codectx_no_such_part1", "codectx_no_such_part2")))


def test_the_15b_model_is_joined_from_its_packages_when_they_are_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_installed(tmp_path, monkeypatch)
    models = tmp_path / "models"
    models.mkdir()
    (models / catalog()[NAME].file).write_bytes(b"GGUF downloaded")  # not the one chosen
    resolved = resolve_model(NAME, tmp_path / "cache", models)
    assert resolved.path == tmp_path / "cache" / "models" / catalog()[NAME].file
    assert resolved.path.read_bytes() == JOINED and resolved.name == NAME


def test_the_15b_model_is_looked_for_in_the_models_directory_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_missing(monkeypatch)
    models = tmp_path / "models"
    with pytest.raises(ModelError, match="is not downloaded") as info:
        resolve_model(NAME, tmp_path / "cache", models)
    hint = info.value.hint or ""
    assert f"codectx models pull {NAME}" in hint and "pip install 'codectx[model-1.5b]'" in hint
    models.mkdir()
    (models / catalog()[NAME].file).write_bytes(b"GGUF")
    assert resolve_model(NAME, tmp_path / "cache", models).path == models / catalog()[NAME].file
    assert not (tmp_path / "cache" / "models").exists()  # nothing joined


def _available_here(models: Path) -> str:
    """The last column of the 1.5B model's row in `codectx models list`."""
    console = Console(file=io.StringIO(), width=250)
    console.print(models_table(models))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return str(text.split(NAME)[1].splitlines()[0].split("│")[-2].strip())


def test_models_list_says_where_the_15b_model_comes_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    _as_missing(monkeypatch)
    assert _available_here(models) == "no: codectx[model-1.5b] or models pull"
    models.mkdir()
    (models / catalog()[NAME].file).write_bytes(b"GGUF")
    assert _available_here(models) == "yes"
    _as_installed(tmp_path, monkeypatch)
    assert _available_here(models) == "yes (codectx[model-1.5b])"


def test_pull_has_nothing_to_download_when_the_packages_are_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_installed(tmp_path, monkeypatch)
    result = CliRunner().invoke(main, ["models", "pull", NAME])
    assert result.exit_code == 0 and "nothing to download" in result.output
    assert "codectx[model-1.5b]" in result.output


def test_a_part_without_its_slice_is_a_damaged_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = spec(fake_parts(tmp_path, monkeypatch))
    (tmp_path / "site" / packaged.parts[2] / "data" / "part03.bin").unlink()
    with pytest.raises(ModelError, match="the fake model is damaged") as info:
        packaged_model_path(packaged, tmp_path / "cache")
    assert "--force-reinstall 'codectx[model-fake]'" in (info.value.hint or "")
