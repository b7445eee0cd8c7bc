"""How soon after a save the prompt cache is warm again, with `codectx watch`'s watcher.

Builds a repository of about 8,000 prompt tokens, prefills it once with the
embedded model, then starts the watcher (as `codectx watch`, `chat` and
`acp` do) and measures, for an edit to the last file in the prompt order and
to a file in the middle of it, the time from the file's save to the moment
the new prompt is prefilled and saved ("ready"), with how many tokens that
re-evaluated, once with prefix reuse (`cache_reuse = prefix`: everything
after the edit) and once with segment-level reuse (`shift`: the edited file,
the rest kept at new positions). The same edits evaluated from scratch would
cost the whole prompt: that cold prefill is printed alongside.

Target: a file in the middle of the order edited, save to warm at most 10% of
a cold prefill.
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
        cold = Session(root, config.load(root)).warm()
        order = [f.path for f in Session(root, config.load(root)).index().files]
        ready = threading.Event()
        seen: list[tuple[float, WatchEvent]] = []

        def on_event(event: WatchEvent) -> None:
            seen.append((time.perf_counter(), event))
            if event.kind in ("ready", "unchanged", "error"):
                ready.set()

        rows = []
        for mode in ("prefix", "shift"):
            session = Session(root, config.load(root, {"cache_reuse": mode}))
            session.warm()  # the saved state, brought to the tree as the last mode left it
            # the idle exact re-prefill would run between edits: here, edits come one by one
            watcher = Watcher(session, on_event, exact_after_s=1e9)
            watcher.start()
            time.sleep(0.5)
            for label, name in (("middle file", order[len(order) // 2]),
                                ("last file in the order", order[-1])):
                ready.clear()
                target = root / name
                saved = time.perf_counter()
                target.write_text(target.read_text() + f"\n# edited ({mode})\n")
                if not ready.wait(1800):
                    raise SystemExit(f"no rebuild after editing {name}")
                when, event = seen[-1]
                if event.kind == "error":
                    raise SystemExit(f"the rebuild failed: {event.message}")
                rows.append((f"{label} ({name})", mode, when - saved, event.tokens))
            watcher.stop()
            del session, watcher
    print(f"prompt: {cold.prompt_tokens:,} tokens; embedded model, 2 threads; "
          f"cold prefill {cold.total_s:.1f} s")
    print(f"{'edit':<40}{'reuse':>7}{'save to warm s':>15}{'evaluated':>11}{'of cold':>9}")
    for label, mode, seconds, tokens in rows:
        print(f"{label:<40}{mode:>7}{seconds:>15.1f}{tokens:>11,}{seconds / cold.total_s:>9.1%}")
    middle = next(s for label, mode, s, _ in rows if mode == "shift" and label.startswith("mid"))
    share = middle / cold.total_s
    print(f"target: middle file, shift, at most 10% of a cold prefill: {share:.1%}, "
          f"{'met' if share <= 0.10 else 'NOT met'}")


if __name__ == "__main__":
    main()
