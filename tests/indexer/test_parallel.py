"""Parsing in worker processes gives exactly what parsing in one process gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from codectx.indexer.sources import PARALLEL_MIN
from tests.conftest import write_tree

SCRIPT = """
import json, sys
from pathlib import Path
from codectx import config
from codectx.indexer import sources
from codectx.indexer.repository import index_repository
from codectx.tokens import EstimateCounter
batches_from_workers = []
in_workers = sources._parse_in_workers
def spy(batches, workers):
    for batch in in_workers(batches, workers):
        batches_from_workers.append(len(batch))
        yield batch
sources._parse_in_workers = spy
if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT)
    result = index_repository(root, config.load(root), EstimateCounter())
    print(json.dumps({"parsed": result.parsed, "text": result.text,
                      "from_workers": sum(batches_from_workers)}))
"""


def test_workers_and_a_single_process_agree(tmp_path: Path) -> None:
    n = PARALLEL_MIN + 50
    files = {f"pkg/m{i}.py": f"from pkg.m{i // 2} import f\n\n\ndef f{i}(x):\n    return x\n"
             for i in range(n)}
    write_tree(tmp_path / "r", {"pkg/__init__.py": "", **files})
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env_a = {"CODECTX_CACHE_DIR": str(tmp_path / "a")}
    env_b = {"CODECTX_CACHE_DIR": str(tmp_path / "b")}
    # A script file: parsed in worker processes.
    workers = subprocess.run([sys.executable, str(script), str(tmp_path / "r")],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, **env_a})
    # Read from stdin: workers cannot re-import it, so it is parsed in-process.
    stdin = subprocess.run([sys.executable, "-"], input=SCRIPT.replace(
        "ROOT", repr(str(tmp_path / "r"))), capture_output=True, text=True, check=True,
        env={**os.environ, **env_b})
    a, b = json.loads(workers.stdout), json.loads(stdin.stdout)
    assert a["parsed"] == b["parsed"] == n + 1
    assert a["from_workers"] == n + 1 and b["from_workers"] == 0
    assert a["text"] == b["text"]
    assert "Traceback" not in workers.stderr + stdin.stderr
