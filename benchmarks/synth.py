"""A synthetic repository of mixed languages with a known import graph, for benchmarks."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

# language -> (share of files, extension)
MIX = {"python": (0.4, ".py"), "typescript": (0.2, ".ts"), "go": (0.15, ".go"),
       "rust": (0.1, ".rs"), "java": (0.1, ".java"), "c": (0.05, ".c")}


def _python(i: int, deps: list[int], rng: random.Random) -> str:
    imports = "".join(f"from pkg.m{d} import f{d}\n" for d in deps)
    body = "".join(f"    total += {rng.randint(0, 999)} * x  # step {k}\n" for k in range(30))
    return (f'"""Module {i}."""\n{imports}\n\nclass C{i}:\n    """Class {i}."""\n\n'
            f"    def method(self, x: int) -> int:\n        return f{i}(x)\n\n\n"
            f"def f{i}(x: int) -> int:\n    total = 0\n{body}    return total\n")


def _typescript(i: int, deps: list[int], rng: random.Random) -> str:
    imports = "".join(f'import {{ f{d} }} from "./m{d}";\n' for d in deps)
    body = "".join(f"  total += {rng.randint(0, 999)} * x; // step {k}\n" for k in range(30))
    return (f"{imports}\nexport interface I{i} {{ value: number; }}\n\n"
            f"export function f{i}(x: number): number {{\n  let total = 0;\n{body}"
            "  return total;\n}\n")


def _go(i: int, deps: list[int], rng: random.Random) -> str:
    imports = "".join(f'\t"example.com/synth/p{d}"\n' for d in deps)
    uses = "".join(f"\ttotal += p{d}.F{d}(x)\n" for d in deps)
    body = "".join(f"\ttotal += {rng.randint(0, 999)} * x // step {k}\n" for k in range(30))
    return (f"package p{i}\n\nimport (\n{imports})\n\n// F{i} computes.\n"
            f"func F{i}(x int) int {{\n\ttotal := 0\n{uses}{body}\treturn total\n}}\n")


def _rust(i: int, deps: list[int], rng: random.Random) -> str:
    uses = "".join(f"use crate::m{d}::f{d};\n" for d in deps)
    body = "".join(f"    total += {rng.randint(0, 999)} * x; // step {k}\n" for k in range(30))
    return (f"{uses}\npub struct S{i} {{ pub v: i64 }}\n\n"
            f"pub fn f{i}(x: i64) -> i64 {{\n    let mut total = 0;\n{body}    total\n}}\n")


def _java(i: int, deps: list[int], rng: random.Random) -> str:
    imports = "".join(f"import synth.C{d};\n" for d in deps)
    body = "".join(f"        total += {rng.randint(0, 999)} * x; // step {k}\n"
                   for k in range(30))
    return (f"package synth;\n\n{imports}\npublic class C{i} {{\n"
            f"    public static int f(int x) {{\n        int total = 0;\n{body}"
            "        return total;\n    }\n}\n")


def _c(i: int, deps: list[int], rng: random.Random) -> str:
    includes = "".join(f'#include "m{d}.c"\n' for d in deps)
    body = "".join(f"    total += {rng.randint(0, 999)} * x; /* step {k} */\n" for k in range(30))
    return f"{includes}\nint f{i}(int x) {{\n    int total = 0;\n{body}    return total;\n}}\n"


WRITERS = {"python": _python, "typescript": _typescript, "go": _go, "rust": _rust,
           "java": _java, "c": _c}


def path_for(language: str, i: int) -> str:
    return {
        "python": f"py/pkg/m{i}.py", "typescript": f"ts/src/m{i}.ts", "go": f"go/p{i}/p{i}.go",
        "rust": f"rs/src/m{i}.rs", "java": f"java/synth/C{i}.java", "c": f"c/m{i}.c",
    }[language]


def generate(root: Path, n_files: int, seed: int = 0, git: bool = True) -> list[str]:
    """Write `n_files` source files under root (and commit them); returns their paths."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "py" / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "py" / "pkg" / "__init__.py").write_text("")
    (root / "go").mkdir(exist_ok=True)
    (root / "go" / "go.mod").write_text("module example.com/synth\n\ngo 1.22\n")
    (root / "rs" / "src").mkdir(parents=True, exist_ok=True)
    (root / "rs" / "Cargo.toml").write_text('[package]\nname = "synth"\nversion = "0.1.0"\n')
    by_language: dict[str, list[int]] = {lang: [] for lang in MIX}
    paths = []
    languages = list(MIX)
    weights = [MIX[lang][0] for lang in languages]
    for i in range(n_files):
        language = rng.choices(languages, weights)[0]
        earlier = by_language[language]
        deps = rng.sample(earlier, k=min(len(earlier), rng.randint(0, 3)))
        by_language[language].append(i)
        rel = path_for(language, i)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(WRITERS[language](i, sorted(deps), rng))
        paths.append(rel)
    if git:
        env_args = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
        subprocess.run(["git", *env_args, "-C", str(root), "commit", "-qm", "synthetic"],
                       check=True)
    return paths
