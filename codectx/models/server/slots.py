"""llama.cpp's saved slot states: a server's prefill kept on its disk across restarts.

With `--slot-save-path`, llama.cpp's server saves a slot's state to a file on request and
restores it later. After a prefill the state is saved under a name per server, model and
repository; a marker on this side remembers that it was, so the next process restores it
instead of prefilling the repository again. A server without the option answers neither,
and the prefix then lives in its memory only.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from codectx.errors import ModelError
from codectx.files import write_bytes_atomic
from codectx.models.server.api import Api


class SlotStates:
    """One repository's saved state on one server's slot."""

    def __init__(self, api: Api, model: str, slot: int, state_dir: Path, repo: str) -> None:
        self.api, self.model, self.slot, self.repo = api, model, slot, repo
        self.state_dir = state_dir
        self.saving = True
        """False once the server said it cannot save (no --slot-save-path)."""
        self.restore_tried = False

    def file(self) -> str:
        """The state's file name on the server."""
        key = "|".join((self.api.root, self.model, self.repo))
        return f"codectx-{hashlib.sha256(key.encode()).hexdigest()[:16]}.bin"

    def marker(self) -> Path:
        """This side's record that the server saved the state."""
        return self.state_dir / f"{self.file()}.json"

    def restore(self, notes: list[str]) -> float:
        """Load the state an earlier process saved for this repository, if any; the
        seconds it took (0: there was none)."""
        self.restore_tried = True
        if not self.marker().is_file():
            return 0.0
        started = time.perf_counter()
        try:
            data = self.api.post(f"/slots/{self.slot}?action=restore",
                                 {"filename": self.file()}, optional=True)
        except ModelError:
            data = None
        if not isinstance(data, dict) or "n_restored" not in data:
            self.marker().unlink(missing_ok=True)  # gone from the server: forget it
            return 0.0
        seconds = time.perf_counter() - started
        notes.append(f"restored the server's saved state of this repository "
                     f"({int(data['n_restored']):,} tokens) in {seconds:.1f} s")
        return seconds

    def save(self, notes: list[str]) -> None:
        """Have the server save the slot's state, and remember that it did."""
        try:
            data = self.api.post(f"/slots/{self.slot}?action=save",
                                 {"filename": self.file()}, optional=True)
        except ModelError as exc:
            notes.append(f"the server could not save its slot state: {exc.message}")
            data = None
        if not isinstance(data, dict) or "n_saved" not in data:
            self.saving = False  # no --slot-save-path: the prefix stays in its memory only
            return
        marker = self.marker()
        marker.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(marker, json.dumps({
            "server": self.api.root, "model": self.model, "repo": self.repo,
            "file": self.file(), "tokens": data["n_saved"]}).encode())
