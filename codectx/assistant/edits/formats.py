"""Edit formats: how the model is asked to write edits, and how its reply is read.

Each format is one `EditFormat` record: the request's instruction and example, what
its request says last, what a retry reminds the model of, the grammar its reply is
generated under, how its blocks are parsed and planned, and where a reply cut by its
limit ends. The modules that ask, parse, plan, guard and end a reply read the record
by the format's name (`named`), so what a format does is said here, once.
"""

from __future__ import annotations

from dataclasses import dataclass

SEARCH_REPLACE = """Reply with the changes as SEARCH/REPLACE blocks, one per change:
the file's path on its own line, then the block. SEARCH must copy the current lines
exactly (enough of them to be unique); REPLACE holds the new lines. An empty SEARCH
creates a new file; `DELETE path` on its own line deletes one. Example (the path and
the names are the example's, not this repository's):

{example_path}
<<<<<<< SEARCH
def example_only_total(a, b):
    return a - b
=======
def example_only_total(a, b):
    return a + b
>>>>>>> REPLACE
"""

WHOLE = """Reply with the complete new content of every file you change: the file's
path on its own line, then a fenced code block with the whole file, nothing left out.
A new file is written the same way; `DELETE path` on its own line deletes one. Example
(the path and the names are the example's, not this repository's):

{example_path}
```python
def example_only_total(a, b):
    return a + b
```
"""

DEFINITIONS = """Reply with only the definitions you add or change, each complete: the file's
path on its own line, then a fenced code block holding the new or changed functions and
classes (and any import they need). Do not repeat what stays as it is: a definition with
an existing name replaces it, a new one is added, a method goes inside its class (write
`class Name:` with just that method). Example (the path and the names are the example's,
not this repository's):

{example_path}
```python
def example_only_total(a, b):
    return a + b
```
"""

EXAMPLE_PATH = "EXAMPLE-ONLY/not_a_file.py"
"""The examples' path: no repository has it, so a reply that names it copied the example."""
EXAMPLE_NAME = "example_only_total"

# A line of code inside a block (GBNF): anything but a line that would close or divide it.
_FENCED_LINE = 'line ::= ([^`\\n] [^\\n]*)? "\\n"'
_FENCED_BLOCK = 'block ::= path "\\n" "```" [a-zA-Z0-9_+-]* "\\n" line* "```\\n"'


@dataclass(frozen=True)
class EditFormat:
    """One way of writing edits, from the request to the plan."""

    name: str
    instruction: str
    """What the request says first: how to write the reply, with an example."""
    retry_hint: str
    """What a retry reminds the model of, in the format's terms."""
    reminder: str
    """What the request says last, after the change (empty: nothing)."""
    block_rule: str
    """The grammar's `block` rule (GBNF)."""
    line_rule: str
    """The grammar's `line` rule: a line of code inside a block."""
    blocks_per_file: int
    """How many blocks the grammar lets one file get."""
    fenced_whole: bool
    """A fenced block under a path holds code for that file (not SEARCH/REPLACE)."""
    merges: bool
    """The fenced code holds definitions merged into the file (not the whole file): a
    cut reply ends at its last complete definition, and a large file is shown in part."""
    unchanged: str
    """Why a reply that changes nothing is refused."""


REPEATS = ("the reply repeats code that is already there, without the change asked for; "
           "write only the definitions that are new or change, with the change made")
UNCHANGED = "the edits leave every file as it was"

FORMATS = {f.name: f for f in (
    EditFormat("search-replace", SEARCH_REPLACE.format(example_path=EXAMPLE_PATH),
               "Copy SEARCH lines exactly from the files.", "",
               ('block ::= path "\\n" "<<<<<<< SEARCH\\n" line* "=======\\n" line* '
                '">>>>>>> REPLACE\\n"'),
               'line ::= ([^<=>\\n] [^\\n]*)? "\\n"', 4, fenced_whole=False, merges=False,
               unchanged=UNCHANGED),
    EditFormat("whole", WHOLE.format(example_path=EXAMPLE_PATH),
               "Give each file's path on its own line, then its complete content in one "
               "fenced code block.", "", _FENCED_BLOCK, _FENCED_LINE, 1, fenced_whole=True,
               merges=False, unchanged=UNCHANGED),
    EditFormat("definitions", DEFINITIONS.format(example_path=EXAMPLE_PATH),
               "Give each file's path on its own line, then one fenced code block with the "
               "complete functions or classes that change.",
               # A small model copies the file it has just read otherwise.
               "Write only the definitions that are new or change, with the change made; "
               "not the rest of the file.", _FENCED_BLOCK, _FENCED_LINE, 1, fenced_whole=True,
               merges=True, unchanged=REPEATS),
)}
NAMES = tuple(FORMATS)


def named(name: str) -> EditFormat:
    """The format called `name` (one of `NAMES`)."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown edit format {name!r}; one of {', '.join(NAMES)}") from None


def edit_request(instruction: str, fmt: str, files: list[str], shown: str = "") -> str:
    """The request: the format, the files to change as `shown`, then the change itself,
    last, where a small model reads it just before it writes."""
    form = named(fmt)
    pinned = f"\nThe files to change: {', '.join(files)}.\n" if files else ""
    reminder = f"\n{form.reminder}" if form.reminder else ""
    return f"{form.instruction}{pinned}{shown}\n\nThe change to make: {instruction}{reminder}"


def retry_request(failures: list[str], fmt: str) -> str:
    problems = "\n\n".join(failures)
    return (f"Those edits could not be applied:\n\n{problems}\n\nReply again with all the "
            f"changes, fixing these. {named(fmt).retry_hint}")


def check_retry_request(command: str, output: str, fmt: str) -> str:
    """A retry after the change applied and a check failed (the change was undone)."""
    return (f"The change was applied, then the check `{command}` failed, so the change was "
            f"undone. Its output:\n\n```\n{output}\n```\n\nReply again with all the changes "
            f"to the files as they were before, fixing what failed. {named(fmt).retry_hint}")

