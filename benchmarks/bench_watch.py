"""How soon after a save the prompt cache is warm again, with `codectx watch`'s watcher.

Builds a repository of about 8,000 prompt tokens, prefills it once with the
embedded model, then starts the watcher (as `codectx watch`, `chat` and
`acp` do) and measures, for an edit to the last file in the prompt order and
to a file in the middle of it, the time from the file's save to the moment
the new prompt is prefilled and saved ("ready"), with how many tokens that
re-evaluated. The same edits evaluated from scratch would cost the whole
prompt: that cold prefill is printed alongside.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from bench_cache import make_repo


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CODECTX_CACHE_DIR"] = str(Path(tmp) / "cache")
        os.environ["CODECTX_CONFIG"] = str(Path(tmp) / "none.toml")
        from codectx import config
        from codectx.assistant.session import Session
        from codectx.assistant.watcher import Watcher, WatchEvent

        root = Path(tmp) / "bench"
        make_repo(root)
        session = Session(root, config.load(root))
        cold = session.warm()
        order = [f.path for f in session.index().files]
        ready = threading.Event()
        seen: list[tuple[float, WatchEvent]] = []

        def on_event(event: WatchEvent) -> None:
            seen.append((time.perf_counter(), event))
            if event.kind in ("ready", "unchanged", "error"):
                ready.set()

        watcher = Watcher(session, on_event)
        watcher.start()
        time.sleep(0.5)
        rows = []
        for label, name in (("last file in the order", order[-1]),
                            ("middle file", order[len(order) // 2])):
            ready.clear()
            target = root / name
            saved = time.perf_counter()
            target.write_text(target.read_text() + "\n# edited\n")
            if not ready.wait(1800):
                raise SystemExit(f"no rebuild after editing {name}")
            when, event = seen[-1]
            rows.append((f"{label} ({name})", when - saved, event.tokens))
        watcher.stop()
    print(f"prompt: {cold.prompt_tokens:,} tokens; embedded model, 2 threads; "
          f"cold prefill {cold.total_s:.1f} s")
    print(f"{'edit':<40}{'save to warm s':>15}{'evaluated':>11}{'of cold':>9}")
    for label, seconds, tokens in rows:
        print(f"{label:<40}{seconds:>15.1f}{tokens:>11,}{seconds / cold.total_s:>9.1%}")


if __name__ == "__main__":
    main()
