"""An edit shows a large file as the part it needs; the reply merges back by name and
leaves what was not shown byte for byte."""

from __future__ import annotations

from pathlib import Path

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits.view import edit_view
from codectx.assistant.session import EditProposal, Session
from codectx.models.runtime.speed import Line, Speed
from codectx.tokens import EstimateCounter
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

BODY = "".join(f"    total_{j} = value * {j}\n" for j in range(12))
LARGE = "import math\n\n\n" + "".join(
    f"def helper_{i:02}(value):\n    \"\"\"Helper {i}.\"\"\"\n{BODY}    return value + {i}\n\n\n"
    for i in range(40)).rstrip("\n") + "\n"
SLOW = Speed(Line(1 / 150, 1e-6), Line(1 / 30, 1e-6), "slow")


def test_a_large_file_shows_the_named_definition_and_an_outline(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"big.py": LARGE, "small.py": "def tiny():\n    return 1\n"})
    view = edit_view(tmp_path / "r", ["big.py", "small.py"], "make helper_07 return value",
                     "definitions", 1200, EstimateCounter())
    assert view.partial == ("big.py",)
    assert "    return value + 7\n" in view.text  # the named definition, whole
    assert "return value + 8" not in view.text  # another one's body, not shown
    assert "def helper_31(value)" in view.text  # in the outline
    assert "import math" in view.text
    assert "The current content of small.py" in view.text  # a small file stays whole
    whole = edit_view(tmp_path / "r", ["big.py"], "make helper_07 return value",
                      "search-replace", 1200, EstimateCounter())
    assert whole.partial == () and "return value + 8" in whole.text
    assert edit_view(tmp_path / "r", ["big.py"], "x", "definitions", None,
                     EstimateCounter()).partial == ()


def test_an_edit_on_a_slow_machine_sends_the_view_and_merges_back(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"big.py": LARGE})
    reply = "big.py\n```python\ndef helper_07(value):\n    return value * 70\n```\n"
    backend = FakeBackend([reply], context_window=200_000)
    loaded = config.load(tmp_path / "r", {"first_answer_seconds": 300,
                                          "question_seconds": 30, "edit_seconds": 120})
    session = Session(tmp_path / "r", loaded, ScriptedProvider(backend, speed=SLOW))
    *_, proposal = editing.edit(session, "make helper_07 return value * 70", files=["big.py"],
                                fmt="definitions")
    assert isinstance(proposal, EditProposal)
    assert proposal.plan.ok, proposal.problems
    sent = bytes(backend.prompts[0].suffix).decode()
    assert "helper_07" in sent and "return value + 8" not in sent
    assert proposal.answer.shown_tokens < len(LARGE) // 2  # bytes are the fake's tokens
    editing.apply(session.root, session.loaded, proposal.plan)
    after = (tmp_path / "r" / "big.py").read_text()
    assert "def helper_07(value):\n    return value * 70\n" in after
    before_07, _, rest = LARGE.partition("def helper_07(value):")
    assert after.startswith(before_07)  # everything before it, untouched
    assert after.endswith(rest[rest.index("def helper_08"):])  # and everything after it


class Bytes:
    """Counts as the fake backend tokenizes: one token per byte."""

    name = "bytes"
    exact = True

    def count(self, text: str) -> int:
        return len(text.encode("utf-8"))


def crowded(root: Path, fmt: str) -> tuple[EditProposal, FakeBackend, str, str]:
    """A repository that fills the prefix's room, an edit to a large file of it, and a
    question after it; with the prefixes of the edit and of the question."""
    files = {f"pkg/m{i:02}.py": f"def f{i}(x):\n" + "    x += 1\n" * 90 + "    return x\n"
             for i in range(30)}
    make_repo(root, {**files, "big.py": LARGE})
    reply = ("big.py\n```python\ndef helper_07(value):\n    return value * 70\n```\n"
             if fmt == "definitions" else
             "big.py\n<<<<<<< SEARCH\n    return value + 7\n=======\n    return value * 70\n"
             ">>>>>>> REPLACE\n")
    backend = FakeBackend([reply, "an answer"], context_window=len(LARGE) + 30_000)
    session = Session(root, config.load(root), ScriptedProvider(backend, counter=Bytes()))
    *_, proposal = editing.edit(session, "make helper_07 return value * 70", files=["big.py"],
                                fmt=fmt)
    assert isinstance(proposal, EditProposal)
    list(session.ask("what does f3 do?"))
    asked = bytes(backend.prompts[1].prefix).decode()
    return proposal, backend, bytes(backend.prompts[0].prefix).decode(), asked


def test_the_prefix_yields_room_to_a_file_shown_whole(tmp_path: Path) -> None:
    proposal, backend, prefix, asked = crowded(tmp_path / "r", "search-replace")
    assert proposal.plan.ok, proposal.problems
    prompt = backend.prompts[0]
    assert len(prompt.tokens) + backend.params[0].max_tokens <= backend.context_window
    assert "return value + 8" in bytes(prompt.suffix).decode()  # the file, whole
    whole = "    x += 1\n" * 90
    assert prefix.count(whole) < asked.count(whole)  # other files, at less detail


def test_a_large_file_is_shown_in_part_where_the_prefix_leaves_too_little(
        tmp_path: Path) -> None:
    proposal, backend, prefix, asked = crowded(tmp_path / "r", "definitions")
    assert proposal.plan.ok, proposal.problems
    sent = bytes(backend.prompts[0].suffix).decode()
    assert "here are its imports" in sent and "return value + 8" not in sent
    assert prefix == asked  # the prefix a question has: its cells are reused


def test_a_file_that_gets_new_code_is_shown_without_code_to_copy(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"big.py": LARGE})
    added = edit_view(tmp_path / "r", ["big.py"], "add a function `triple(value)` to big.py",
                      "definitions", None, EstimateCounter())
    assert added.partial == ("big.py",) and "gets new code (triple)" in added.text
    # Its signatures, in the header, but no body to copy.
    assert "  def helper_00(value)\n" in added.text and "return value +" not in added.text
    assert added.need == 0
    # Naming nothing of it and adding nothing, a file that fits is shown whole.
    plain = edit_view(tmp_path / "r", ["big.py"], "make the helpers faster", "definitions",
                      None, EstimateCounter())
    assert plain.partial == () and "return value + 8" in plain.text


def test_a_class_that_gets_a_new_method_is_shown_as_its_header(tmp_path: Path) -> None:
    methods = "".join(f"    def step_{i:02}(self):\n        return {i}\n\n" for i in range(30))
    source = f'class Ledger:\n    """Keeps the totals."""\n\n{methods}'
    make_repo(tmp_path / "r", {"ledger.py": source})
    view = edit_view(tmp_path / "r", ["ledger.py"],
                     "add a method `bench_answer(self)` to the class `Ledger`", "definitions",
                     None, EstimateCounter())
    assert view.partial == ("ledger.py",)
    assert 'class Ledger:\n    """Keeps the totals."""' in view.text  # its header, indented
    assert "return 7" not in view.text  # not its body, which a small model would copy
    named = edit_view(tmp_path / "r", ["ledger.py"], "make `step_07` return 70",
                      "definitions", None, EstimateCounter())
    assert "    def step_07(self):\n        return 7" in named.text


UTILS = '''"""Text helpers."""

import re

SEPARATOR = "-"


def slugify(text: str,
            separator: str = SEPARATOR) -> str:
    return re.sub(r"\\W+", separator, text).strip(separator).lower()


class AppError(Exception):
    """What the app raises."""

    hint = "try again"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint or self.hint

    @property
    def label(self) -> str:
        return type(self).__name__

    def _private(self) -> None:
        pass


def _internal() -> int:
    return 1
'''
UTILS_HEADER = (
    "\n\npkg/utils.py is the module `pkg.utils`. It already defines these "
    "(signatures only); code in it uses them directly by name, never imports them:\n"
    '  SEPARATOR = "-"\n'
    "  def slugify(text: str, separator: str = SEPARATOR) -> str\n"
    "  class AppError(Exception)\n"
    "  def _internal() -> int")


def test_a_small_module_is_said_by_name_with_its_signatures(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/utils.py": UTILS})
    for fmt in ("definitions", "whole", "search-replace"):
        view = edit_view(tmp_path / "r", ["pkg/utils.py"], "make slugify keep case", fmt,
                         None, EstimateCounter())
        assert view.partial == ()
        assert view.text == (UTILS_HEADER + "\n\nThe current content of pkg/utils.py:\n```\n"
                             + UTILS + "```")


def test_a_package_and_a_src_layout_are_said_by_their_import_names(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"src/pkg/__init__.py": "from .utils import slugify\n",
                               "src/pkg/utils.py": UTILS, "tool.py": "def main():\n    pass\n"})
    view = edit_view(tmp_path / "r", ["src/pkg/__init__.py", "src/pkg/utils.py", "tool.py"],
                     "add a version", "definitions", None, EstimateCounter())
    assert "\n\nsrc/pkg/__init__.py is the module `pkg`. It defines nothing yet.\n\n" in view.text
    assert "\n\nsrc/pkg/utils.py is the module `pkg.utils`. It already" in view.text
    assert ("\n\ntool.py is the module `tool`. It already defines these (signatures only); "
            "code in it uses them directly by name, never imports them:\n  def main()\n"
            ) in view.text


def test_a_class_to_subclass_is_listed_with_its_members(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/utils.py": UTILS})
    view = edit_view(tmp_path / "r", ["pkg/utils.py"],
                     "add an exception class `NotFound` that subclasses AppError", "whole",
                     None, EstimateCounter())
    assert ("  class AppError(Exception)\n"
            '    hint = "try again"\n'
            "    def __init__(self, message: str, hint: str | None = None) -> None\n"
            "    @property def label(self) -> str\n"
            "    def _private(self) -> None\n"
            "  def _internal() -> int") in view.text


LARGE_UTILS = UTILS + "".join(
    f'\n\ndef helper_{i:02}(value: int) -> int:\n    """Helper {i}."""\n{BODY}'
    f"    return value + {i}\n" for i in range(50))


def test_a_large_module_shows_the_helper_named_whole_and_the_class_named_by_members(
        tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/utils.py": LARGE_UTILS})
    view = edit_view(tmp_path / "r", ["pkg/utils.py"],
                     "add a function `title_slug(text)` that returns `slugify(text).title()`, "
                     "and a class `Missing` subclassing `AppError`", "definitions", None,
                     EstimateCounter())
    assert view.partial == ("pkg/utils.py",)
    head, _, body = view.text.partition("\n\nOf pkg/utils.py")
    assert head.startswith("\n\npkg/utils.py is the module `pkg.utils`. It already")
    # The class named, with its members, before the other names; at most 40 lines.
    assert '  class AppError(Exception)\n    hint = "try again"\n' in head
    assert "    @property def label(self) -> str\n" in head
    assert "  def helper_33(value: int) -> int\n" in head
    assert "helper_34" not in head and head.endswith("  ... and 18 more")
    assert len(head.splitlines()) == 2 + 1 + 40 + 1  # blank lines, the sentence, the cap
    # The helper named, whole; the class added to, its header and docstring only.
    assert ("def slugify(text: str,\n            separator: str = SEPARATOR) -> str:\n"
            "    return re.sub(") in body
    assert 'class AppError(Exception):\n    """What the app raises."""\n' in body
    assert "super().__init__" not in body and "return value + 3" not in body


def test_a_large_file_too_big_to_show_is_shown_as_its_whole_header(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/utils.py": LARGE_UTILS})
    view = edit_view(tmp_path / "r", ["pkg/utils.py"], "make the helpers faster",
                     "definitions", 2000, EstimateCounter())
    assert view.partial == ("pkg/utils.py",) and view.need == 0
    assert "    @property def label(self) -> str\n" in view.text  # every class's members
    assert "  def helper_49(value: int) -> int\n" in view.text and "more\n" not in view.text
    assert view.text.endswith("The list above is all pkg/utils.py has, one line per "
                              "definition. Write only the definitions you add or change.")


def test_the_header_gives_way_to_the_budget_before_the_file(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"pkg/__init__.py": "", "pkg/utils.py": LARGE_UTILS})
    counter = Bytes()
    size = counter.count(LARGE_UTILS)
    full = edit_view(tmp_path / "r", ["pkg/utils.py"], "x", "whole", None, counter).text
    for room in (counter.count(full), counter.count(full) - 400, size + 300):
        for fmt in ("whole", "search-replace", "definitions"):
            view = edit_view(tmp_path / "r", ["pkg/utils.py"], "make the helpers faster",
                             fmt, room, counter)
            head = view.text.partition("\n\nThe current content")[0]
            assert "return value + 49" in view.text and view.partial == ()  # the file, whole
            assert head.startswith("\n\npkg/utils.py is the module `pkg.utils`.")
            assert counter.count(view.text) <= room
            lines = len(head.splitlines())
            assert lines == 44 if room == counter.count(full) else 4 < lines < 44  # fewer first
    for fmt in ("whole", "search-replace"):  # shown whole whatever the room: the least header
        least = edit_view(tmp_path / "r", ["pkg/utils.py"], "x", fmt, size, counter).text
        assert least.startswith("\n\npkg/utils.py is the module `pkg.utils`. Code in it uses "
                                "the 54 names it defines directly, never imports them.\n\n"
                                "The current content of pkg/utils.py")
    # In the definitions format, a file that does not fit beside its least header is cut.
    cut = edit_view(tmp_path / "r", ["pkg/utils.py"], "make helper_07 return value",
                    "definitions", size, counter)
    assert cut.partial == ("pkg/utils.py",) and counter.count(cut.text) <= size


def test_other_languages_list_their_definitions_without_a_module_name(tmp_path: Path) -> None:
    source = ("import { x } from './x';\n\nexport function total(a: number,\n  b: number): "
              "number {\n  return a + b;\n}\n\nexport class Cart extends Base {\n"
              "  add(item: Item): void {}\n}\n\nexport type Id = string;\n")
    make_repo(tmp_path / "r", {"src/cart.ts": source})
    view = edit_view(tmp_path / "r", ["src/cart.ts"], "give Cart a remove method", "whole",
                     None, EstimateCounter())
    assert view.text.startswith(
        "\n\nsrc/cart.ts already defines these (signatures only); code in it uses them "
        "directly by name, never imports them:\n"
        "  export function total(a: number, b: number): number\n"
        "  export class Cart extends Base\n"
        "    add(item: Item): void\n"
        "  export type Id = string\n\n")
    go = ("package shop\n\ntype Cart struct {\n\tItems []Item\n}\n\n"
          "func (c *Cart) Total() int {\n\treturn 0\n}\n")
    make_repo(tmp_path / "g", {"shop/cart.go": go})
    view = edit_view(tmp_path / "g", ["shop/cart.go"], "add Cart.Count", "whole", None,
                     EstimateCounter())
    assert view.text.startswith(
        "\n\nshop/cart.go already defines these (signatures only); code in it uses them "
        "directly by name, never imports them:\n"
        "  type Cart struct {Items []Item}\n  func (c *Cart) Total() int\n\n")
