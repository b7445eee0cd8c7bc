"""Module- and class-level constants are in the definition index, for every grammar; a
function's locals are not."""

from __future__ import annotations

import pytest

from codectx.indexer.parse import parse_file

SAMPLES = {
    "python": ("X = 1\nY: int = 3\nclass C:\n    Z = 4\n    def f(self):\n        q = 5\n",
               {"X", "Y", "Z"}),
    "javascript": ("const X = 1;\nlet Y = 2;\nvar Z = 3;\nexport const W = 4;\n"
                   "function f() { const q = 1; }\n", {"X", "Y", "Z", "W"}),
    "typescript": ("const X = 1;\nexport const W: number = 4;\nfunction f() { const q = 1; }\n",
                   {"X", "W"}),
    "go": ("package p\nconst X = 1\nconst (\n\tA = 1\n\tB = 2\n)\nvar Y = 2\n"
           "func f() { const q = 1 }\n", {"X", "A", "B", "Y"}),
    "rust": ("const X: u32 = 1;\nstatic Y: u32 = 2;\nfn f() { let q = 1; }\n", {"X", "Y"}),
    "java": ("class C { static final int X = 1; void f() { int q = 1; } }\n", {"X"}),
    "c": ("#define X 1\nint Y = 2;\nvoid f(void) { int q = 1; }\n", {"X", "Y"}),
    "cpp": ("#define X 1\nconstexpr int Z = 3;\nvoid f() { int q = 1; }\n", {"X", "Z"}),
}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_constants_are_symbols_and_locals_are_not(language: str) -> None:
    source, constants = SAMPLES[language]
    facts = parse_file(language, source.encode())
    assert constants <= set(facts.symbols)
    assert "q" not in facts.symbols
