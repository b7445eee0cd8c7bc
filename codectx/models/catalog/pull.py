"""Downloading a catalog model into the models directory, from the Hugging Face hub.

`codectx models pull NAME` asks the hub for the file's size and ETag (a HEAD request on
`{endpoint}/{repo}/resolve/{revision}/{file}`) and streams the file into a hidden
`.incomplete` file beside the target. Only a whole, checked file is renamed to the target
path: checked against the catalog's sha256, or its exact size where no checksum is known. A
download that stops (Ctrl-C, a crash, a connection that stays down) keeps its `.incomplete`
file and the next pull continues it with an HTTP Range request; a connection that drops
during a pull is resumed the same way at once, a few times.

huggingface_hub is imported only when a download starts, so the command line does not pay
for it. It reads HF_ENDPOINT once, when first imported; the endpoint is read here on every
pull instead and passed on, so a mirror set in the environment is always the one used.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from codectx.errors import ModelError
from codectx.files import human_size
from codectx.models.catalog import CatalogModel
from codectx.progress import Progress, no_progress

if TYPE_CHECKING:
    from huggingface_hub import HfFileMetadata
    from huggingface_hub.errors import HfHubHTTPError

DEFAULT_ENDPOINT = "https://huggingface.co"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_BLOCK = 8 << 20
_LIBRARY = "codectx"  # the user agent's library name
_OUTDATED = "The catalog may be out of date: set `model` to a GGUF file's path"


@dataclass(frozen=True)
class Pulled:
    """What a pull did. `status`: "downloaded", "present" (already there, not fetched again)
    or "embedded" (nothing to download: the model comes with the codectx[model] extra).
    `checked`: what the file was checked against ("sha256", "size", or "" for nothing)."""

    status: Literal["downloaded", "present", "embedded"]
    path: Path | None
    size: int
    checked: str


def hub_endpoint() -> str:
    """The hub to download from: HF_ENDPOINT (a mirror) when it is set, read now."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def download_url(entry: CatalogModel, endpoint: str | None = None) -> str:
    """Where a catalog model's file is downloaded from (by `pull`, or by hand)."""
    return f"{endpoint or hub_endpoint()}/{entry.repo}/resolve/{entry.revision}/{entry.file}"


def pull(entry: CatalogModel, models_dir: Path, progress: Progress = no_progress) -> Pulled:
    """Make sure `models_dir / entry.file` holds the catalog model, downloading it if needed.

    Progress is reported as ("download", bytes so far, total bytes) and, while the
    checksum is computed, ("verify", bytes read, total bytes).
    """
    if entry.embedded:
        return Pulled("embedded", None, 0, "")
    target = models_dir / entry.file
    if entry.repo is None:
        raise ModelError(f"the catalog names no download for model '{entry.name}'",
                         f"Download {entry.file} from {entry.source} by hand and save it as "
                         f"{target}.")
    present = _present(entry, target)
    if present is not None:
        return present
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot create the models directory {models_dir}: {exc.strerror}",
                         "Set `models_dir` to a directory you can write to.") from exc

    from filelock import FileLock, Timeout

    lock = FileLock(str(models_dir / f".{entry.file}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ModelError(f"another `codectx models pull` is downloading {entry.file}",
                         "Wait for it to finish; it leaves the file at " + str(target)) from None
    try:
        return _present(entry, target) or _download(entry, target, progress)
    finally:
        lock.release()


def _present(entry: CatalogModel, target: Path) -> Pulled | None:
    """An already-downloaded file, if there is one of the right size."""
    if not target.is_file():
        return None
    size = target.stat().st_size
    expected = entry.size
    if expected is not None and size != expected:
        raise ModelError(
            f"{target} is {size:,} bytes, not the {expected:,} of {entry.name}",
            f"Remove it and run `codectx models pull {entry.name}` again, "
            "or set `model` to the file's path to use it as it is.")
    return Pulled("present", target, size, "size" if expected is not None else "")


class _Failure:
    """The errors of one download: each names the file, the URL and where to put it by hand."""

    def __init__(self, entry: CatalogModel, target: Path, url: str) -> None:
        self.entry, self.target, self.url = entry, target, url

    def __call__(self, reason: str, advice: str | None = None) -> ModelError:
        again = f"run `codectx models pull {self.entry.name}` again"
        return ModelError(
            f"cannot download {self.entry.file} from {self.url}: {reason}",
            f"{advice or 'Check the connection (and HF_ENDPOINT, if set) and ' + again}, "
            f"or download the file by hand and save it as {self.target}.")

    def http(self, exc: HfHubHTTPError) -> ModelError:
        """What the hub's HTTP error means for this download."""
        from huggingface_hub.errors import (
            EntryNotFoundError,
            GatedRepoError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        status = exc.response.status_code
        if isinstance(exc, GatedRepoError) or status in (401, 403):
            return self(f"the hub refused access (HTTP {status})",
                        f"Accept the model's terms on the hub and set HF_TOKEN, "
                        f"then run `codectx models pull {self.entry.name}` again")
        if isinstance(exc, RepositoryNotFoundError | RevisionNotFoundError | EntryNotFoundError) \
                or status == 404:
            return self(f"the hub has no such file (HTTP {status})", _OUTDATED)
        return self(f"the hub answered HTTP {status}")


def _download(entry: CatalogModel, target: Path, progress: Progress) -> Pulled:
    endpoint = hub_endpoint()
    url = download_url(entry, endpoint)
    failure = _Failure(entry, target, url)
    meta = _metadata(url, endpoint, failure)
    expected = _expected_size(entry, meta, failure)
    partial, done = _partial(entry, target, meta, expected)
    _fetch(entry, meta, url, partial, done, expected, progress, failure)
    size, checked = _verify(entry, partial, progress, failure)
    os.replace(partial, target)
    return Pulled("downloaded", target, size, checked)


def _metadata(url: str, endpoint: str, failure: _Failure) -> HfFileMetadata:
    """The hub's size, ETag and download location for the file (a HEAD request)."""
    import httpx2
    from huggingface_hub import get_hf_file_metadata
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from codectx import __version__

    try:
        return get_hf_file_metadata(url, endpoint=endpoint, library_name=_LIBRARY,
                                    library_version=__version__)
    except OfflineModeIsEnabled as exc:
        raise failure("offline mode is on (HF_HUB_OFFLINE)",
                      "Unset HF_HUB_OFFLINE and run the pull again") from exc
    except HfHubHTTPError as exc:
        raise failure.http(exc) from exc
    except httpx2.TransportError as exc:
        raise failure(f"cannot reach {endpoint} ({exc})") from exc


def _expected_size(entry: CatalogModel, meta: HfFileMetadata, failure: _Failure) -> int | None:
    """The file's size, once the hub's file is the one the catalog describes."""
    if meta.size is not None and entry.size not in (None, meta.size):
        raise failure(f"the hub's file is {meta.size:,} bytes, the catalog's "
                      f"{entry.size:,}", _OUTDATED)
    if entry.sha256 and meta.etag and _SHA256.fullmatch(meta.etag) and meta.etag != entry.sha256:
        raise failure(f"the hub's file has sha256 {meta.etag}, the catalog's {entry.sha256}",
                      _OUTDATED)
    return meta.size if meta.size is not None else entry.size


def _partial(entry: CatalogModel, target: Path, meta: HfFileMetadata,
             expected: int | None) -> tuple[Path, int]:
    """The `.incomplete` file to download into and how much of it is kept, once there is
    disk space for the rest; partial files of another remote file are removed."""
    # The ETag names the partial file: a later pull resumes it only for the same remote file.
    tag = re.sub(r"[^0-9A-Za-z]", "", meta.etag or "")[:16] or "unknown"
    partial = target.with_name(f".{entry.file}.{tag}.incomplete")
    for stale in target.parent.glob(f".{entry.file}.*.incomplete"):
        if stale != partial:
            stale.unlink(missing_ok=True)
    done = partial.stat().st_size if partial.is_file() else 0
    if expected is not None and done > expected:
        partial.unlink()
        done = 0
    if expected is not None:
        free = shutil.disk_usage(target.parent).free
        if expected - done > free:
            raise ModelError(f"not enough disk space for {entry.file}: it needs "
                             f"{human_size(expected - done)} more, {target.parent} has "
                             f"{human_size(free)}",
                             "Free some space, or set `models_dir` to a larger disk.")
    return partial, done


def _fetch(entry: CatalogModel, meta: HfFileMetadata, url: str, partial: Path, done: int,
           expected: int | None, progress: Progress, failure: _Failure) -> None:
    """Stream the file onto the end of `partial`, from byte `done` on."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.file_download import http_get

    # Documented as huggingface_hub.utils.build_hf_headers, but not marked as re-exported.
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    from codectx import __version__

    again = f"Run `codectx models pull {entry.name}` again to resume"
    headers = build_hf_headers(library_name=_LIBRARY, library_version=__version__)
    if urlsplit(meta.location).hostname != urlsplit(url).hostname:
        headers.pop("authorization", None)  # a storage host gets a signed URL, not the token
    try:
        with partial.open("ab") as fh:
            http_get(meta.location, fh, resume_size=done, headers=headers,
                     expected_size=expected, displayed_filename=entry.file,
                     tqdm_class=_bar(progress, "download"))
    except HfHubHTTPError as exc:
        if exc.response.status_code == 416:  # what was kept is not a part of this file
            partial.unlink(missing_ok=True)
        raise failure.http(exc) from exc
    except httpx2.TransportError as exc:
        raise failure(f"the connection failed ({exc}); what came is kept",
                      again + " when the hub can be reached") from exc
    except OSError as exc:
        raise failure(f"the download stopped: {exc}", again) from exc


def _verify(entry: CatalogModel, partial: Path, progress: Progress,
            failure: _Failure) -> tuple[int, str]:
    """The downloaded file's size and what it was checked against; a file that fails its
    check is removed."""
    size = partial.stat().st_size
    checked = ""
    if entry.sha256:
        digest = _sha256(partial, size, progress)
        if digest != entry.sha256:
            partial.unlink(missing_ok=True)
            raise failure(f"the download's sha256 {digest} is not the catalog's "
                          f"{entry.sha256}; it was removed",
                          f"Run `codectx models pull {entry.name}` again; if it fails the same "
                          "way, the catalog may be out of date")
        checked = "sha256"
    elif entry.size is not None:
        if size != entry.size:
            partial.unlink(missing_ok=True)
            raise failure(f"the download is {size:,} bytes, not the catalog's "
                          f"{entry.size:,}; it was removed")
        checked = "size"
    return size, checked


def _sha256(path: Path, size: int, progress: Progress) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            done += len(block)
            progress("verify", done, size)
    return digest.hexdigest()


def _bar(progress: Progress, stage: str) -> Any:
    """A stand-in for the tqdm class huggingface_hub draws its bar with, reporting to
    `progress` instead, so the caller decides how (and whether) progress is shown."""

    class Bar:
        def __init__(self, *args: Any, total: int | None = None, initial: int = 0,
                     **kwargs: Any) -> None:
            self.n, self.total = initial, total or 0
            progress(stage, self.n, self.total)

        def update(self, n: float = 1) -> None:
            self.n += int(n)
            progress(stage, self.n, self.total)

        def close(self) -> None:
            """Nothing to close: the caller's progress display outlives the download."""

        def __enter__(self) -> Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    return Bar
