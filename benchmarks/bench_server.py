"""The server backend keeps the repository on the server: later questions skip its prefill.

Starts llama-cpp-python's OpenAI-compatible server with the embedded model
(the only inference server this machine can run) and, on the same ~8,000-token
repository as bench_cache, prints side by side the time to the first token of
`codectx ask --backend openai`, each in a fresh process as a user runs it:

  cold          the server has never seen the repository
  warm          a second question: the server reuses the prefix it holds
  last edited   after editing the last file in the prompt order

and, for scale, the same three with the in-process backend and its
persistent prompt cache.

Target: a warm question through the server takes <= 10% of a cold one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_cache import QUESTION, make_repo, order

N_CTX = 12288


def start_server(model: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", str(N_CTX)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def ask(root: Path, env: dict[str, str], *flags: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-m", "codectx", "ask", QUESTION, str(root), "--json",
                           *flags], capture_output=True, text=True, env=env, check=True)
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def series(root: Path, env: dict[str, str], flags: list[str]) -> list[float]:
    last = root / order(root, env)[-1]
    original = last.read_text()
    ttft = []
    for step in ("cold", "warm", "last edited"):
        if step == "last edited":
            last.write_text(original + "\n# edited\n")
        result = ask(root, env, *flags)
        ttft.append(float(str(result["ttft_s"])))
        print(f"  {step:12} ttft {ttft[-1]:7.2f} s  ({result['prompt_tokens']} prompt tokens)",
              flush=True)
    last.write_text(original)
    return ttft


def main() -> None:
    from codectx import config
    from codectx.models.catalog.resolve import resolve_model

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CODECTX_CACHE_DIR": str(Path(tmp) / "cache"),
               "CODECTX_CONFIG": str(Path(tmp) / "none.toml")}
        root = Path(tmp) / "repo"
        make_repo(root)
        os.environ.update(env)
        model = resolve_model(None, config.load(root).cache_path(),
                              config.load(root).models_path()).path
        process, url = start_server(model)
        try:
            print(f"server backend (llama-cpp-python server, n_ctx {N_CTX}):")
            remote = series(root, env, ["--backend", "openai", "--base-url", url,
                                        "--server-context", str(N_CTX)])
        finally:
            process.terminate()
            process.wait()
        print("in-process backend (persistent prompt cache):")
        local = series(root, env, [])
    print()
    print(f"{'':14}{'server':>10}{'in-process':>12}")
    for i, step in enumerate(("cold", "warm", "last edited")):
        print(f"{step:14}{remote[i]:9.2f}s{local[i]:11.2f}s")
    print(f"warm / cold through the server: {remote[1] / remote[0]:.1%} (target <= 10%)")
    print(f"last edited / cold through the server: {remote[2] / remote[0]:.1%}")


if __name__ == "__main__":
    main()
