"""Imports of a module from itself, and of names it defines, found from the import's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits import show
from codectx.assistant.edits.selfimport import added_own_imports, asked_to_define, own_import
from codectx.assistant.session import EditProposal, Session
from codectx.indexer.imports.python import module_names
from tests.assistant.edit_cases import ASK_SHOUT, DROPPED, PKG, SHOUT, UTILS, sr
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

FILES = {"pkg/__init__.py", "pkg/utils.py", "pkg/text.py", "src/lib/__init__.py",
         "src/lib/core.py", "tools/run.py", "top.py"}


def own(path: str, statement: str, text: str = UTILS) -> tuple[tuple[str, ...], str | None]:
    """What of `statement` in `path` is the module's own, and what is left of it."""
    found = own_import(path, text, statement, FILES.__contains__)
    if found is None:
        return (), statement
    return (*found.whole, *found.itself, *found.shadowed), found.kept


@pytest.mark.parametrize(("path", "statement", "dropped", "kept"), [
    ("pkg/utils.py", "from pkg.utils import helper", ("helper",), None),
    ("pkg/utils.py", "from .utils import helper as h", ("helper",), None),
    ("pkg/utils.py", "from . import utils", ("utils",), None),
    ("pkg/utils.py", "import pkg.utils as u", ("pkg.utils",), None),
    ("pkg/utils.py", "import os, pkg.utils", ("pkg.utils",), "import os"),
    ("pkg/utils.py", "from pkg.utils import *", ("*",), None),
    ("pkg/utils.py", "from pkg import utils, text", ("utils",), "from pkg import text"),
    ("pkg/utils.py", "from pkg.text import (\n    dedent,\n    helper,\n)", ("helper",),
     "from pkg.text import dedent"),
    ("pkg/utils.py", "from pkg.text import helper as other", (), None),  # binds `other`
    ("pkg/utils.py", "from pkg.text import dedent", (), None),
    ("pkg/utils.py", "from . import text", (), None),
    ("pkg/utils.py", "import pkg", (), None),
    ("src/lib/core.py", "from lib.core import helper", ("helper",), None),
    ("src/lib/core.py", "from src.lib.core import helper", ("helper",), None),
    ("src/lib/core.py", "from .core import helper", ("helper",), None),
    ("src/lib/core.py", "from .. import core", (), None),  # src/core, not this file
    ("pkg/__init__.py", "from pkg import helper, utils", ("helper",), "from pkg import utils"),
    ("pkg/__init__.py", "from . import helper", ("helper",), None),
    ("pkg/__init__.py", "from .utils import helper", ("helper",), None),  # defined here
    ("pkg/__init__.py", "from .utils import shout", (), None),
    ("pkg/__init__.py", "import pkg", ("pkg",), None),
    ("top.py", "import top", ("top",), None),
    ("top.py", "from . import top", ("top",), None),
    # Inside a package a bare name is absolute: pkg/json.py may import the standard json.
    ("pkg/utils.py", "import utils", (), None),
    ("tools/run.py", "import run", (), None),
    ("tools/run.py", "from tools.run import helper", ("helper",), None),
    ("pkg/utils.py", "from __future__ import annotations", (), None),
])
def test_what_of_an_import_is_the_modules_own(path: str, statement: str,
                                              dropped: tuple[str, ...], kept: str | None) -> None:
    assert own(path, statement) == (dropped, statement if not dropped else kept)


def test_a_name_defined_nowhere_in_the_file_is_still_imported_from_itself() -> None:
    found = own_import("pkg/utils.py", UTILS, "from pkg.utils import missing", FILES.__contains__)
    assert found is not None and found.local == ()
    assert found.note("pkg/utils.py") == ("dropped `from pkg.utils import missing`: "
                                          "pkg/utils.py is pkg.utils itself")
    assert "define missing in this file" in found.reason("pkg/utils.py")


def test_only_python_is_read() -> None:
    assert own_import("pkg/utils.js", UTILS, "from pkg.utils import helper") is None


def test_without_a_file_list_a_directory_is_no_package() -> None:
    assert own_import("pkg/utils.py", UTILS, "from pkg.utils import helper") is not None
    assert own_import("pkg/__init__.py", UTILS, "from pkg import helper") is not None


def test_module_names_are_the_indexers() -> None:
    assert module_names("src/lib/core.py", FILES.__contains__) == {"src.lib.core", "lib.core"}
    assert module_names("pkg/__init__.py", FILES.__contains__) == {"pkg"}
    assert module_names("tools/run.py", FILES.__contains__) == {"tools.run"}


def test_only_what_a_change_adds_is_its_own_import() -> None:
    before = "from pkg.utils import helper\n" + UTILS  # there already: not this change's
    after = "from pkg.utils import helper, other\n" + UTILS + "\n\ndef other():\n    pass\n"
    [found] = added_own_imports("pkg/utils.py", before, after, FILES.__contains__)
    assert found.itself == ("helper", "other")
    assert added_own_imports("pkg/utils.py", before, before + "\nX = 1\n",
                             FILES.__contains__) == []


@pytest.mark.parametrize(("instruction", "names"), [
    (ASK_SHOUT, ("shout",)),
    ("Add an exception class ConfigError that subclasses AppError", ("ConfigError",)),
    ("define `slugify` in text.py", ("slugify",)),
    ("implement parse_args() for the CLI", ("parse_args",)),
    ("Add a new method called `reset` to Store", ("reset",)),
    # Mentioned, not asked for: an import of these is ordinary.
    ("add logging to the retry loop", ()),
    ("use helper in shout", ()),
    ("implement retry with backoff", ()),
])
def test_what_an_instruction_asks_to_be_defined(instruction: str,
                                               names: tuple[str, ...]) -> None:
    assert asked_to_define(instruction) == names


def propose(root: Path, replies: list[str], fmt: str) -> tuple[EditProposal, FakeBackend]:
    backend = FakeBackend(replies)
    session = Session(root, config.load(root), ScriptedProvider(backend))
    *_, last = editing.edit(session, ASK_SHOUT, files=["pkg/utils.py"], fmt=fmt, check=False,
                            candidates=1)
    assert isinstance(last, EditProposal)
    return last, backend


SELF = (sr("pkg/utils.py", "import re\n", "import re\nfrom pkg.utils import helper\n")
        + sr("pkg/utils.py", "    return re.sub(r'\\s+', ' ', text).strip()\n",
             f"    return re.sub(r'\\s+', ' ', text).strip()\n\n\n{SHOUT}"))
GOOD = sr("pkg/utils.py", "    return re.sub(r'\\s+', ' ', text).strip()\n",
          f"    return re.sub(r'\\s+', ' ', text).strip()\n\n\n{SHOUT}")


def test_a_self_import_goes_back_to_the_model_saying_why(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", PKG)
    proposal, backend = propose(tmp_path / "r", [SELF, GOOD], "search-replace")
    assert proposal.plan.ok and proposal.attempts == 2
    assert proposal.attempt_problems[0] == (
        "pkg/utils.py imports helper from itself (pkg.utils); helper is defined in this "
        "file: call it directly and remove the import",)
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "pkg/utils.py imports helper from itself (pkg.utils)" in retry
    assert "call it directly and remove the import" in retry


def test_the_function_asked_for_imported_instead_goes_back_saying_why(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", PKG)
    instead = "pkg/utils.py\n```python\nfrom pkg.text import shout\n```\n"
    good = f"pkg/utils.py\n```python\n{SHOUT}```\n"
    proposal, backend = propose(tmp_path / "r", [instead, good], "definitions")
    assert proposal.plan.ok and proposal.attempts == 2
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "pkg/utils.py imports shout from pkg.text instead of defining it" in retry


def test_the_merge_drops_a_self_import_and_the_plan_says_so(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", PKG)
    reply = f"pkg/utils.py\n```python\nfrom pkg.utils import helper\n\n\n{SHOUT}```\n"
    proposal, _ = propose(tmp_path / "r", [reply], "definitions")
    assert proposal.plan.ok and proposal.attempts == 1
    assert proposal.plan.notes == (DROPPED,)
    assert "from pkg.utils" not in (proposal.plan.changes[0].after or "")
    from rich.console import Console

    console = Console(width=200, record=True, color_system=None)
    console.print(show.renderable(proposal.plan))
    assert f"note: {DROPPED}" in console.export_text()
