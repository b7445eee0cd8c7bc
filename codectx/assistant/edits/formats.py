"""How the model is asked to write edits: one short instruction and example per format."""

from __future__ import annotations

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
FORMATS = {"search-replace": SEARCH_REPLACE.format(example_path=EXAMPLE_PATH),
           "whole": WHOLE.format(example_path=EXAMPLE_PATH),
           "definitions": DEFINITIONS.format(example_path=EXAMPLE_PATH)}

# What a retry reminds the model of, in the terms of the format it was asked to use.
RETRY_HINTS = {
    "search-replace": "Copy SEARCH lines exactly from the files.",
    "whole": "Give each file's path on its own line, then its complete content in one "
             "fenced code block.",
    "definitions": "Give each file's path on its own line, then one fenced code block "
                   "with the complete functions or classes that change.",
}


def edit_request(instruction: str, fmt: str, files: list[str], shown: str = "") -> str:
    """The request: the format, the files to change as `shown`, then the change itself,
    last, where a small model reads it just before it writes."""
    pinned = f"\nThe files to change: {', '.join(files)}.\n" if files else ""
    reminder = f"\n{REMINDERS[fmt]}" if fmt in REMINDERS else ""
    return f"{FORMATS[fmt]}{pinned}{shown}\n\nThe change to make: {instruction}{reminder}"


REMINDERS = {"definitions": "Write only the definitions that are new or change, with the "
                            "change made; not the rest of the file."}
"""What a format's request says last, after the change (a small model copies the file it
has just read otherwise)."""


def retry_request(failures: list[str], fmt: str) -> str:
    problems = "\n\n".join(failures)
    return (f"Those edits could not be applied:\n\n{problems}\n\nReply again with all the "
            f"changes, fixing these. {RETRY_HINTS[fmt]}")


def check_retry_request(command: str, output: str, fmt: str) -> str:
    """A retry after the change applied and a check failed (the change was undone)."""
    return (f"The change was applied, then the check `{command}` failed, so the change was "
            f"undone. Its output:\n\n```\n{output}\n```\n\nReply again with all the changes "
            f"to the files as they were before, fixing what failed. {RETRY_HINTS[fmt]}")


COMMIT_REQUEST = ("Write a git commit message for the change below: one summary line of at "
                  "most 72 characters, a blank line, then one to three short lines saying "
                  "why. Reply with the message only.\n\n")
