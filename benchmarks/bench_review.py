"""What the persistent prompt cache saves the pre-commit review.

Builds a repository of about 8,000 prompt tokens, installs the hook, stages
a 30-line change, and times `git commit` (the hook reviewing the staged
change with the embedded model) side by side in one run:

  cold   no saved prompt state: the hook prefills the whole repository
  warm   the repository prefix saved beforehand (`codectx cache warm`, or
         any earlier question or review of the same content)

Each commit is undone afterwards (`git reset --soft`), so both review the
same staged change. Target: warm <= 10% of cold.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cache import make_repo

CHANGE = "".join(
    f"    total += apply_rate(amount, {i})  # step {i}\n" for i in range(21)
)
ADDED = ("\n\ndef apply_rate(amount: float, step: int) -> float:\n"
         "    return amount * (1 + step / 100)\n\n\n"
         "def add_all_taxes(amount: float) -> float:\n    total = 0.0\n"
         + CHANGE + "    return total\n")


def codectx(root: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "codectx", *args], cwd=root, env=env,
                          capture_output=True, text=True, check=True)
    return proc.stdout + proc.stderr


def commit(root: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(["git", "commit", "-qm", "more taxes"], cwd=root, env=env,
                          capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - started
    subprocess.run(["git", "reset", "-q", "--soft", "HEAD~1"], cwd=root, env=env, check=True)
    summary = " ".join(proc.stderr.split())  # the hook's summary, unwrapped
    if "reused" not in summary:
        raise SystemExit(f"the hook did not review the change:\n{proc.stderr}")
    return elapsed, summary


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        make_repo(root)
        env = {**os.environ, "CODECTX_CACHE_DIR": str(Path(tmp) / "cache"),
               "CODECTX_CONFIG": str(Path(tmp) / "none.toml"), "CODECTX_HOOK_TIMEOUT": "3600",
               "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.com"}
        codectx(root, env, "hook", "install")
        tax = root / "tax.py"
        tax.write_text(tax.read_text() + ADDED)
        subprocess.run(["git", "add", "tax.py"], cwd=root, check=True)
        diff = subprocess.run(["git", "diff", "--cached", "--numstat"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.split()
        rows = []
        codectx(root, env, "cache", "clear")
        rows.append(("cold (nothing saved)", *commit(root, env)))
        codectx(root, env, "cache", "clear")
        codectx(root, env, "cache", "warm", ".")
        rows.append(("warm (prefix saved)", *commit(root, env)))
    cold = rows[0][1]
    print(f"staged change: {diff[0]} added lines in {diff[2]}; embedded model, 2 threads")
    print(f"{'hook run':<24}{'seconds':>9}{'of cold':>9}  hook's summary")
    for name, seconds, summary in rows:
        tokens = re.search(r"prompt [\d,]+ tokens, [\d,]+ reused", summary)
        print(f"{name:<24}{seconds:>9.1f}{seconds / cold:>9.1%}  "
              f"{tokens.group(0) if tokens else summary}")


if __name__ == "__main__":
    main()
