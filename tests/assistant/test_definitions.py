"""The definition-level format: definitions merged into files through tree-sitter, and the
grammar edit replies are generated under."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_cpp.llama_grammar import LlamaGrammar

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits.definitions import MergeError, merge
from codectx.assistant.edits.grammar import edit_grammar
from codectx.assistant.edits.guard import Request, plan_reply
from codectx.assistant.session import EditProposal, Session
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

STATS = ("import math\n\n\ndef mean(values):\n    return sum(values) / len(values)\n\n\n"
         "def spread(values):\n    return max(values) - min(values)\n")
MEDIAN = "def median(values):\n    return sorted(values)[len(values) // 2]\n"
STORE = ("class Store:\n    def __init__(self):\n        self.items = []\n\n"
         "    def add(self, item):\n        self.items.append(item)\n\n\n"
         "def helper():\n    return 0\n")
GO = ('package stats\n\nimport "sort"\n\nfunc Mean(v []float64) float64 {\n\treturn 0\n}\n')
JS = 'import { a } from "./a.js";\n\nexport function one() {\n  return a(1);\n}\n'

LIMITS = "import os\n\nMAX_SIZE = 10\nMIN_SIZE = 1\n\n\ndef size():\n    return MAX_SIZE\n"
ERRORS = ('class Frozen(AttributeError):\n    """Raised on a write."""\n\n'
          '    msg = "cannot set"\n\n    def __str__(self):\n        return "frozen"\n')

MERGES = [
    ("a new function goes after the last function", "stats.py", STATS, MEDIAN,
     STATS + "\n\n" + MEDIAN),
    ("a changed function replaces it; a new import joins the imports", "stats.py", STATS,
     "import statistics\n\n\ndef mean(values):\n    return statistics.fmean(values)\n",
     STATS.replace("import math\n", "import math\nimport statistics\n")
     .replace("sum(values) / len(values)", "statistics.fmean(values)")),
    ("an import the file has is not repeated", "stats.py", STATS, "import math\n\n" + MEDIAN,
     STATS + "\n\n" + MEDIAN),
    ("a method goes into its class; one with an existing name replaces it", "store.py", STORE,
     "class Store:\n    def remove(self, item):\n        self.items.remove(item)\n\n"
     "    def add(self, item):\n        self.items.insert(0, item)\n",
     STORE.replace("self.items.append(item)\n", "self.items.insert(0, item)\n\n"
                   "    def remove(self, item):\n        self.items.remove(item)\n")),
    ("a new class goes after the last class", "store.py", STORE, "class Box:\n    pass\n",
     STORE.replace("\n\n\ndef helper", "\n\n\nclass Box:\n    pass\n\n\ndef helper")),
    ("go: a new function and its import", "stats.go", GO,
     'import "math"\n\nfunc Max(v []float64) float64 {\n\treturn math.Inf(-1)\n}\n',
     GO.replace('import "sort"\n', 'import "sort"\nimport "math"\n')
     + '\nfunc Max(v []float64) float64 {\n\treturn math.Inf(-1)\n}\n'),
    ("javascript: an exported function", "m.js", JS,
     'export function two() {\n  return 2;\n}\n',
     JS + "\nexport function two() {\n  return 2;\n}\n"),
    ("a language without a grammar takes the reply whole", "notes.md", "# Old\n",
     "# New\n", "# New\n"),
    ("the whole file copied around a new function adds only the function", "stats.py", STATS,
     STATS + "\n\n" + MEDIAN, STATS + "\n\n" + MEDIAN),
    ("a constant's assignment replaces it where it stands", "limits.py", LIMITS,
     "MAX_SIZE = 987654\n", LIMITS.replace("MAX_SIZE = 10", "MAX_SIZE = 987654")),
    ("a class copied with a new method: the method, and nothing else twice", "errors.py",
     ERRORS, ERRORS.replace('        return "frozen"\n',
                            '        return "frozen"\n\n    def answer(self):\n'
                            '        return 42\n'),
     ERRORS.replace('        return "frozen"\n',
                    '        return "frozen"\n\n    def answer(self):\n        return 42\n')),
    ("the view's markers of code left out are not code to add", "errors.py", ERRORS,
     '...\n\nclass Frozen(AttributeError):\n    ...\n\n    def __str__(self):\n'
     '        return "cold"\n\n\n...\n', ERRORS.replace('"frozen"', '"cold"')),
    ("a class's docstring rewritten replaces it", "errors.py", ERRORS,
     'class Frozen(AttributeError):\n    """Cannot be changed."""\n',
     ERRORS.replace('"""Raised on a write."""', '"""Cannot be changed."""')),
]


@pytest.mark.parametrize("name,path,before,reply,after", MERGES, ids=[m[0] for m in MERGES])
def test_merge(name: str, path: str, before: str, reply: str, after: str) -> None:
    assert merge(path, before, reply) == after


def test_a_reply_that_does_not_parse_is_refused() -> None:
    with pytest.raises(MergeError, match="does not parse"):
        merge("stats.py", STATS, "def median(values:\n    return\n")


def test_a_definitions_reply_is_planned_and_held_to_the_request(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    reply = f"stats.py\n```python\n{MEDIAN}```\n"
    plan, problems = plan_reply(reply, tmp_path / "r", "definitions",
                                Request("In stats.py add median", ("stats.py",)))
    assert plan.ok and problems == () and plan.changes[0].after == STATS + "\n\n" + MEDIAN
    # The same reply as a whole file would drop mean and spread.
    _, refused = plan_reply(reply, tmp_path / "r", "whole",
                            Request("In stats.py add median", ("stats.py",)))
    assert "drops `mean` and `spread`" in refused[0]


def test_a_reply_that_replaces_a_body_with_a_stub_is_refused() -> None:
    with pytest.raises(MergeError, match=r"replaces `mean` in stats\.py with a stub"):
        merge("stats.py", STATS, "def mean(values): ...\n")
    with pytest.raises(MergeError, match="replaces `add` with a stub"):
        merge("store.py", STORE, "class Store:\n    def add(self, item):\n        pass\n")
    # A new stub, or a stub replacing a stub, is the reply's own business.
    assert "def median(values): ..." in merge("stats.py", STATS, "def median(values): ...\n")


def test_a_reply_that_only_repeats_the_file_is_refused_saying_so(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    reply = f"stats.py\n```python\n{STATS.rstrip()}\n\n```\n"  # a copy, blank space aside
    plan, problems = plan_reply(reply, tmp_path / "r", "definitions",
                                Request("In stats.py add median", ("stats.py",)))
    assert not plan.ok and "repeats code that is already there" in " ".join(problems)


def test_the_grammar_names_only_the_allowed_paths() -> None:
    grammar = edit_grammar("definitions", ["stats.py", "lib/a b.py"])
    assert grammar is not None
    assert 'path ::= "lib/a b.py" | "stats.py"\n' in grammar
    assert "DELETE" not in grammar and "{0,1}" in grammar  # a whole block per file, at most
    free = edit_grammar("search-replace", [], any_path=True, deletions=True)
    assert free is not None and "[A-Za-z0-9_.]" in free and 'delete ::= "DELETE " path' in free
    for text in (grammar, free, edit_grammar("whole", ["x.py"])):
        assert text is not None
        LlamaGrammar.from_string(text, verbose=False)  # llama.cpp accepts it


def test_edit_replies_are_generated_under_the_grammar(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"stats.py": STATS})
    backend = FakeBackend([f"stats.py\n```python\n{MEDIAN}```\n"])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    *_, proposal = editing.edit(session, "In stats.py add median", files=["stats.py"],
                                fmt="definitions")
    assert isinstance(proposal, EditProposal) and proposal.plan.ok
    assert backend.params[-1].grammar == edit_grammar("definitions", ["stats.py"])


@pytest.mark.model
def test_the_embedded_model_adds_a_function_with_its_default_format(tmp_path: Path) -> None:
    """The catalog's format for the embedded model, under the grammar, on a real edit."""
    make_repo(tmp_path / "r", {"stats.py": STATS.replace("import math\n\n\n", ""),
                               "main.py": "from stats import mean\n\nprint(mean([1, 2]))\n"})
    session = Session(tmp_path / "r", config.load(tmp_path / "r", {"max_answer_tokens": 200}))
    *_, proposal = editing.edit(session, "In stats.py add a function median(values) that "
                                "returns the middle value of the sorted values",
                                files=["stats.py"])
    assert isinstance(proposal, EditProposal)
    assert proposal.plan.ok, proposal.problems
    [change] = proposal.plan.changes
    assert change.path == "stats.py" and change.action == "modify"
    after = change.after or ""
    assert "def mean" in after and "def spread" in after  # nothing dropped
    namespace: dict[str, object] = {}
    exec(compile(after, "stats.py", "exec"), namespace)  # the merged file runs
    median = namespace["median"]
    assert callable(median) and median([3, 1, 2]) == 2


def test_a_reply_that_does_not_parse_is_refused_with_the_line_and_what_failed() -> None:
    original = "def f(x):\n    return x\n"
    with pytest.raises(MergeError, match=r"a\.py does not parse \(line 1: cannot parse "
                                         r"`def f\(x:`\)"):
        merge("a.py", original, "def f(x:\n    return x\n")
    with pytest.raises(MergeError, match=r"line 2: (cannot parse|missing)"):
        merge("a.py", original, "def f(x):\n    return \"abc\n")
