"""Excerpts of large files for a question: the named definitions in context, from the
parse; and retrieval that sends them instead of whole large files."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx.assistant.excerpts import ELIDED, excerpt
from tests.assistant.test_retrieval import retriever_for
from tests.conftest import make_repo

PY = '''"""Settings."""
import os
from typing import Any

DEFAULT_TIMEOUT = 30
OTHER = 5


def helper(x):
    return x


class Client:
    """A client."""

    RETRIES = 3

    def __init__(self):
        self.x = 1

    def send(self, data):
        return data
'''


def test_a_constant_comes_with_the_imports_and_nothing_else() -> None:
    cut = excerpt("python", PY, ["DEFAULT_TIMEOUT"])
    assert cut is not None and cut.names == ("DEFAULT_TIMEOUT",)
    assert cut.text.splitlines() == [ELIDED, "import os", "from typing import Any",
                                     "DEFAULT_TIMEOUT = 30", ELIDED]


def test_a_method_and_a_class_attribute_come_under_their_class_header() -> None:
    cut = excerpt("python", PY, ["send", "RETRIES"])
    assert cut is not None and set(cut.names) == {"send", "RETRIES"}
    lines = cut.text.splitlines()
    assert lines.index("class Client:") < lines.index("    RETRIES = 3") < lines.index(
        "    def send(self, data):")
    assert "OTHER" not in cut.text and "def helper" not in cut.text
    assert "self.x = 1" not in cut.text


@pytest.mark.parametrize(("language", "source", "name", "shown"), [
    ("javascript", "import x from './x';\nconst A = 1;\nconst B = 2;\nfunction f() {}\n", "B",
     "const B = 2;"),
    ("go", "package p\n\nimport \"fmt\"\n\nvar Y = 2\n\nfunc F() {}\n", "Y", "var Y = 2"),
    ("rust", "use std::fmt;\nconst X: u32 = 1;\nfn f() {}\n", "X", "const X: u32 = 1;"),
    ("java", "class C {\n  static final int X = 1;\n  void f() {}\n}\n", "X",
     "  static final int X = 1;"),
])
def test_other_languages(language: str, source: str, name: str, shown: str) -> None:
    cut = excerpt(language, source, [name])
    assert cut is not None and shown in cut.text.splitlines()
    assert "f()" not in cut.text and "F()" not in cut.text


def test_nothing_named_or_no_grammar_gives_none() -> None:
    assert excerpt("python", PY, ["missing"]) is None
    assert excerpt("markdown", "# X\n", ["X"]) is None


def test_retrieval_sends_an_excerpt_of_a_large_file_and_small_files_whole(
        tmp_path: Path) -> None:
    constants = "".join(f"TIMEOUT_{i:02} = {i * 7}\n" for i in range(200))
    root = tmp_path / "r"
    make_repo(root, {"pkg/__init__.py": "", "pkg/limits.py": "import os\n\n" + constants,
                     "pkg/small.py": "SMALL_VALUE = 3\n", "README.md": "# x\n" * 200})
    retriever, _ = retriever_for(root, 200)
    found = retriever.retrieve("What is the value of TIMEOUT_17?", 300)
    (only,) = found.files
    assert only.path == "pkg/limits.py" and "excerpt" in only.why
    assert "TIMEOUT_17 = 119" in found.text and "TIMEOUT_18" not in found.text
    assert 'mode="excerpt"' in found.text and only.tokens < 100
    small = retriever.retrieve("What is the value of SMALL_VALUE?", 300)
    assert small.files[0].path == "pkg/small.py" and "excerpt" not in small.files[0].why
