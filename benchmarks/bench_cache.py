"""What the persistent prompt cache saves: time to first token, cold and warm.

Builds a repository whose prompt prefix is about 8,000 tokens and, with the
embedded model, prints side by side in one run (each `codectx ask` in a
fresh process, as a user would run it):

  cold          empty cache: index, load the model, prefill everything
  warm          a new process, the state loaded from disk
  last edited   after editing the last file in the prompt order
  first edited  after editing the first file

and the prefill throughput of codectx's backend against raw llama-cpp-python
`eval` on the same tokens, in this process.

Targets: warm <= 5% of cold; after a last-file edit <= 15% of cold; codectx's
prefill throughput at least 95% of raw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUESTION = "Which function adds the tax? Answer with its name only."


def make_repo(root: Path, files: int = 24) -> None:
    root.mkdir(parents=True)
    for i in range(files):
        body = "\n".join(
            f"def step_{i}_{k}(value: float) -> float:\n"
            f'    """Step {k} of stage {i}: scale, shift and round the value."""\n'
            f"    return round(value * {k + 1.5} + {i * 3 + k}, 2)\n"
            for k in range(6)
        )
        imports = f"from stage_{i - 1} import step_{i - 1}_0\n\n" if i else ""
        (root / f"stage_{i}.py").write_text(f'"""Stage {i}."""\n{imports}\n{body}')
    (root / "tax.py").write_text("def add_tax(amount: float) -> float:\n"
                                 "    return amount * 1.2\n")
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", "-C", str(root)]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "bench"], check=True)


def ask(root: Path, env: dict[str, str]) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-m", "codectx", "ask", QUESTION, str(root), "--json"],
                          capture_output=True, text=True, env=env, check=True)
    data: dict[str, float] = json.loads(proc.stdout)
    return data


def order(root: Path, env: dict[str, str]) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "codectx", "index", str(root), "--json", "-q"],
                          capture_output=True, text=True, env=env, check=True)
    return [f["path"] for f in json.loads(proc.stdout)["files"]]


def throughput(root: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Prefill tokens/s: codectx's backend vs raw Llama.eval, on the same prompt tokens."""
    from llama_cpp import Llama

    from codectx import config
    from codectx.assistant.prompts import build_prompt
    from codectx.indexer.repository import index_repository
    from codectx.llama_logs import quiet_llama
    from codectx.models.backend import GenerationParams, Prompt
    from codectx.models.catalog.resolve import resolve_model
    from codectx.models.gguf import read_info
    from codectx.models.runtime.llama_cpp import LlamaCppBackend, LlamaOptions
    from codectx.models.runtime.tokenizer import GGUFCounter

    os.environ.update(env)
    loaded = config.load(root)
    model = resolve_model(None, loaded.cache_path(), loaded.models_path())
    info = read_info(model.path)
    backend = LlamaCppBackend(info, LlamaOptions(n_ctx=12288))
    index = index_repository(root, loaded, GGUFCounter(model.path))
    prompt = build_prompt(backend.chat, backend.tokenize, index.segments, None)
    tokens = list(prompt.prefix)

    quiet_llama()
    raw = Llama(str(model.path), n_ctx=12288, n_batch=512, n_ubatch=512, verbose=False)
    started = time.perf_counter()
    raw.eval(tokens)
    raw_rate = len(tokens) / (time.perf_counter() - started)
    del raw

    started = time.perf_counter()
    for _ in backend.stream(Prompt(tuple(tokens), ()), GenerationParams(max_tokens=0)):
        pass
    ours = len(tokens) / (time.perf_counter() - started)
    return ours, raw_rate, len(tokens)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bench"
        make_repo(root)
        env = {**os.environ, "CODECTX_CACHE_DIR": str(Path(tmp) / "cache"),
               "CODECTX_CONFIG": str(Path(tmp) / "none.toml"), "CODECTX_MAX_ANSWER_TOKENS": "8"}
        rows = [("cold", ask(root, env)), ("warm (new process)", ask(root, env))]
        files = order(root, env)
        last, first = root / files[-1], root / files[0]
        last.write_text(last.read_text() + "\n# edited\n")
        rows.append((f"last file edited ({files[-1]})", ask(root, env)))
        first.write_text(first.read_text() + "\n# edited\n")
        rows.append((f"first file edited ({files[0]})", ask(root, env)))
        ours, raw, n = throughput(root, env)
    cold = rows[0][1]["ttft_s"]
    print(f"prompt: {int(rows[0][1]['prompt_tokens']):,} tokens; embedded model, 2 threads")
    print(f"{'run':<36}{'first token s':>14}{'of cold':>9}{'reused':>9}{'evaluated':>11}")
    for name, row in rows:
        print(f"{name:<36}{row['ttft_s']:>14.2f}{row['ttft_s'] / cold:>9.1%}"
              f"{int(row['reused_tokens']):>9,}{int(row['evaluated_tokens']):>11,}")
    print(f"prefill of {n:,} tokens: codectx {ours:.1f} tok/s, raw llama-cpp-python {raw:.1f} "
          f"tok/s ({ours / raw:.1%} of raw)")


if __name__ == "__main__":
    main()
