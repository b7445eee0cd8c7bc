"""Several candidates per edit request, each checked without running the repository's
code (`editing`, `edits.static`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx import config
from codectx.assistant import editing
from codectx.assistant.edits import static
from codectx.assistant.edits.guard import plan_reply
from codectx.assistant.edits.plan import EditPlan, FileChange
from codectx.assistant.edits.selfimport import parse_statement
from codectx.assistant.session import EditProposal, Session
from codectx.cli import main
from codectx.models.runtime.speed import Line, Speed
from tests.conftest import make_repo
from tests.support.fake import FakeBackend, ScriptedProvider

HELPERS = "import re\n\n\ndef slug(text):\n    return re.sub(r'\\W+', '-', text).lower()\n"
TEXT = "def shout(text):\n    return text.upper()\n"
FILES = {"pkg/__init__.py": "", "pkg/helpers.py": HELPERS, "pkg/text.py": TEXT,
         "app.py": "import yaml\n\nfrom pkg.text import shout\n"}
ASK = "In pkg/text.py add a function title_slug(text) that returns slug of the title-cased text"


def reply(code: str) -> str:
    return f"pkg/text.py\n```python\n{code}```\n"


# What the 0.5B writes for such a request: a name its helper module does not have, and a
# helper it never imported.
WRONG_NAME = reply("from pkg.helpers import slugify\n\n\ndef title_slug(text):\n"
                   "    return slugify(text.title())\n")
UNDEFINED = reply("def title_slug(text):\n    return slug(text.title())\n")
GOOD = reply("from pkg.helpers import slug\n\n\ndef title_slug(text):\n"
             "    return slug(text.title())\n")
SLOW = Speed(Line(0.001, 0.0), Line(60.0, 0.0), "a test: a minute a token")


def propose(root: Path, replies: list[str], speed: Speed | None = None,
            check: bool | None = None) -> tuple[EditProposal, FakeBackend]:
    """The proposal for ASK; with `speed`, on a machine that fast, within 120 s."""
    backend = FakeBackend(replies)
    settings = {"edit_seconds": 120.0} if speed is not None else {}
    session = Session(root, config.load(root, settings), ScriptedProvider(backend, speed=speed))
    *_, last = editing.edit(session, ASK, files=["pkg/text.py"], fmt="definitions", check=check)
    assert isinstance(last, EditProposal)
    return last, backend


def test_a_failing_first_reply_is_followed_by_a_sampled_one_of_the_same_prompt(
        tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    proposal, backend = propose(tmp_path / "r", [WRONG_NAME, UNDEFINED, GOOD], check=False)
    assert proposal.plan.ok and proposal.attempts == 1
    assert "from pkg.helpers import slug\n" in (proposal.plan.changes[0].after or "")
    assert "3 candidates were tried: the first that passed the static check, candidate 3" \
        in proposal.plan.notes
    assert [(p.temperature, p.seed) for p in backend.params] == [(0.0, 0), (0.7, 1), (0.7, 2)]
    assert backend.prompts[1] == backend.prompts[0] == backend.prompts[2]  # cached: reused
    assert len(proposal.replies) == 3


def test_a_passing_first_reply_is_the_only_one(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    proposal, backend = propose(tmp_path / "r", [GOOD, WRONG_NAME], check=False)
    assert proposal.plan.ok and len(backend.params) == 1 and not proposal.plan.notes


def test_no_second_candidate_when_the_edit_s_time_would_not_hold_it(tmp_path: Path) -> None:
    """A minute a token: the next candidate would pass `edit_seconds`, so the first goes
    back with what the static check found, as a retry."""
    make_repo(tmp_path / "r", FILES)
    proposal, backend = propose(tmp_path / "r", [WRONG_NAME, GOOD], speed=SLOW)
    assert proposal.plan.ok and proposal.attempts == 2
    assert [p.temperature for p in backend.params] == [0.0, 0.0]
    retry = bytes(backend.prompts[1].suffix).decode()
    assert "`slugify` is not defined in pkg.helpers (pkg/helpers.py)" in retry
    assert proposal.checks[0].name == "static" and proposal.checks[0].attempt == 1


def test_without_checks_the_closest_candidate_is_offered_naming_what_was_found(
        tmp_path: Path) -> None:
    make_repo(tmp_path / "r", FILES)
    proposal, _ = propose(tmp_path / "r", [UNDEFINED] * 4, check=False)
    assert proposal.plan.ok and proposal.attempts == 1 and not proposal.checks
    notes = " ".join(proposal.plan.notes)
    assert "4 candidates were tried: none passed the static check" in notes
    assert "the static check found: pkg/text.py: F821 Undefined name `slug`" in notes


def test_a_change_failing_the_static_check_is_never_applied_without_a_say(
        tmp_path: Path, scripted: FakeBackend) -> None:
    make_repo(tmp_path / "r", FILES)
    scripted.replies.extend([WRONG_NAME] * 8)  # every candidate of both attempts
    result = CliRunner().invoke(main, ["edit", ASK, str(tmp_path / "r"), "--files",
                                       "pkg/text.py", "--format", "definitions", "--apply",
                                       "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["status"] == "check-failed"
    assert report["files"][0]["path"] == "pkg/text.py"
    assert [c["name"] for c in report["checks"]] == ["static", "static"]
    assert "`slugify` is not defined" in report["checks"][-1]["output_tail"]
    assert (tmp_path / "r" / "pkg" / "text.py").read_text() == TEXT


# -- the static check itself ------------------------------------------------------------

def known(root: Path, files: dict[str, str], external: tuple[str, ...] = ()) -> static.Known:
    make_repo(root, files)
    return static.known_for(EditPlan((), ()), root, files, external)


@pytest.mark.parametrize(("path", "statement", "problem"), [
    ("pkg/text.py", "import os.path", None),
    ("pkg/text.py", "from pkg.helpers import slug", None),
    ("pkg/text.py", "from .helpers import slug", None),
    ("pkg/text.py", "from . import helpers", None),  # a submodule of the package
    ("pkg/text.py", "from pkg import helpers", None),
    ("pkg/text.py", "import yaml", None),  # another file imports it: a dependency
    ("pkg/text.py", "from pkg.stars import anything", None),  # `import *` there
    ("pkg/text.py", "from pkg.helpers import slugify", "`slugify` is not defined in "
                                                       "pkg.helpers (pkg/helpers.py)"),
    ("pkg/text.py", "from .helpers import slugify", "`slugify` is not defined in .helpers"),
    ("pkg/text.py", "from .missing import x", "no module .missing next to pkg/text.py"),
    ("pkg/text.py", "import pkg.missing", "no module pkg.missing in the repository"),
    ("pkg/text.py", "import requests", "no module requests: not in the standard library"),
    ("tool.py", "import neighbour", None),  # a script's neighbour
])
def test_an_added_import_resolves_or_says_why_not(tmp_path: Path, path: str, statement: str,
                                                  problem: str | None) -> None:
    files = {**FILES, "pkg/stars.py": "from os.path import *\n", "tool.py": "",
             "neighbour.py": ""}
    parsed = parse_statement(statement)
    assert parsed is not None
    found = static.unresolved(path, parsed, known(tmp_path / "r", files, ("yaml", ".text")))
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(problem), found


def change(path: str, before: str | None, after: str) -> EditPlan:
    return EditPlan((FileChange(path, "modify" if before is not None else "create", before,
                                after),), ())


def test_ruff_counts_only_what_the_change_added(tmp_path: Path) -> None:
    ruff = static.ruff_program()
    assert ruff is not None  # a dev install has it, as `make run`'s does
    base = known(tmp_path / "r", FILES)
    # The change leaves `re` unused, and the file had an undefined name before: neither
    # is the change's doing. The import it adds and does not use, and the name it
    # calls that nothing defines, are.
    before = "import re\nimport os\n\n\ndef a():\n    return missing() + re.sub('', '', '')\n"
    after = ("import json\nimport os\n\n\ndef a():\n    return missing()\n\n\n"
             "def b():\n    return other(os.sep)\n")
    found = static.problems(change("pkg/helpers.py", before, after), base, ruff)
    assert found == ["pkg/helpers.py: F821 Undefined name `other`",  # what breaks first
                     "pkg/helpers.py: F401 `json` imported but unused"]
    assert static.problems(change("pkg/helpers.py", before, after), base, None) == []


def test_a_new_module_the_change_creates_resolves(tmp_path: Path) -> None:
    base = known(tmp_path / "r", FILES)
    plan = EditPlan((FileChange("pkg/text.py", "modify", TEXT,
                                "from pkg.extra import thing\n\n\nX = thing\n"),
                     FileChange("pkg/extra.py", "create", None, "thing = 1\n")), ())
    again = static.known_for(plan, base.root, base.paths, base.external)
    assert static.problems(plan, again, None) == []
    check = static.static_check(plan, again, 1, static.ruff_program())
    assert check is not None and check.status == "passed"


# A real reply of the embedded 0.5B (click 8.2.1, bench_edit_history.py's seeded helper
# task): the body of `split_arg_string` copied, with its parameter `string` left in.
SHELL = '''import shlex


def split_arg_string(string):
    """Split an argument string as with shlex.split, but don't fail if the string is
    incomplete."""
    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out = []
    try:
        for token in lex:
            out.append(token)
    except ValueError:
        out.append(lex.token)
    return out
'''
SHELL_ASK = ("In shell_completion.py, add a function `split_arg_string_each(items)` that "
             "calls the module's `split_arg_string` on each of the items and returns the "
             "results as a list.")
COPIED_BODY = '''shell_completion.py
```python
def split_arg_string_each(items):
    """Split an argument string as with :func:`shlex.split`, but don't
    fail if the string is incomplete. Ignores a missing closing quote or
    incomplete escape sequence and uses the partial token as-is.

    :param items: List of strings to split.
    """
    import shlex

    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out = []

    for token in lex:
        out.append(token)

    return out
```
'''
EACH = ("shell_completion.py\n```python\ndef split_arg_string_each(items):\n"
        "    return [split_arg_string(item) for item in items]\n```\n")


def test_a_real_reply_calling_a_name_nothing_defines_gives_way_to_the_next_candidate(
        tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"shell_completion.py": SHELL})
    backend = FakeBackend([COPIED_BODY, EACH])
    session = Session(tmp_path / "r", config.load(tmp_path / "r"), ScriptedProvider(backend))
    *_, proposal = editing.edit(session, SHELL_ASK, files=["shell_completion.py"],
                                fmt="definitions", check=False)
    assert isinstance(proposal, EditProposal) and proposal.plan.ok
    assert "[split_arg_string(item) for item in items]" in (proposal.plan.changes[0].after
                                                             or "")
    assert "candidate 2" in proposal.plan.notes[-1]
    copied, _ = plan_reply(COPIED_BODY, tmp_path / "r", "definitions", None)
    here = static.known_for(copied, tmp_path / "r", ["shell_completion.py"], ())
    assert static.problems(copied, here, static.ruff_program()) == [
        "shell_completion.py: F821 Undefined name `string`"]
