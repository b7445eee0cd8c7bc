"""Realistic model replies and what applying them must give.

Each case: the files before, the reply, and either the files after (None
deletes) or a fragment of the error that must refuse it. Shared by the test
table and benchmarks/bench_edits.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

APP = "def greet(name):\n    return 'hi ' + name\n\n\ndef main():\n    print(greet('x'))\n"
CLS = ("class Store:\n    def __init__(self):\n        self.items = []\n\n"
       "    def add(self, item):\n        self.items.append(item)\n")


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]
    reply: str
    after: dict[str, str | None] = field(default_factory=dict)
    error: str | None = None
    instruction: str | None = None
    """When set, the change is also held to this instruction (edits.guard)."""
    fmt: str | None = None
    """The format the reply was asked in, when it matters (None: read as search-replace
    blocks, or as whole files when held to an instruction)."""
    notes: tuple[str, ...] = ()
    """What the plan must say it left out of the reply."""

    @property
    def recoverable(self) -> bool:
        return self.error is None


def sr(path: str, search: str, replace: str, fence: bool = True) -> str:
    body = f"<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"
    return f"{path}\n```python\n{body}```\n" if fence else f"{path}\n{body}"


NEW_GREET = APP.replace("'hi '", "'hello '")

# Replies of the 0.5B and 1.5B models on a public project, asked to add to a module a
# function that uses a helper the module defines: they import the helper from the
# module itself, which then fails with "cannot import name 'helper' from partially
# initialized module". The definitions format drops such an import, saying so; the
# other formats refuse the change with a line for the retry.
UTILS = "import re\n\n\ndef helper(text):\n    return re.sub(r'\\s+', ' ', text).strip()\n"
SHOUT = "def shout(text):\n    return helper(text).upper()\n"
WITH_SHOUT = f"{UTILS}\n\n{SHOUT}"
PKG = {"pkg/__init__.py": "", "pkg/utils.py": UTILS,
       "pkg/text.py": "def dedent(s):\n    return s\n"}
ASK_SHOUT = "In pkg/utils.py add a function shout(text) that returns helper(text) in capitals"
DROPPED = "dropped `from pkg.utils import helper`: pkg/utils.py defines helper itself"


def defs(path: str, code: str) -> str:
    return f"{path}\n```python\n{code}```\n"


# The embedded 0.5B's replies on click 8.2.1 (bench_edit_history.py's seeded tasks): asked
# to add a function that calls one of the module's, it writes a long import of names it
# saw elsewhere, from `.typing`, a module click does not have, and uses none of them.
TYPING = ("from .typing import ParamType, CompositeParamType, Choice, DateTime, "
          "IntRange, File, convert_type\n")
EACH = "def shout_each(items):\n    return [helper(item).upper() for item in items]\n"
UNUSED_IMPORTS = [
    Case("definitions: an import nothing in the reply uses is dropped", PKG,
         defs("pkg/utils.py", f"{TYPING}\n\n{EACH}"),
         {"pkg/utils.py": f"{UTILS}\n\n{EACH}"}, fmt="definitions",
         notes=(f"dropped `{TYPING.strip()[:77]}...`: nothing the reply adds uses it",)),
    Case("definitions: of an import, only what the reply uses is kept", PKG,
         defs("pkg/utils.py", "from pkg.text import dedent, indent\n\n\n"
              "def shout(s):\n    return dedent(helper(s)).upper()\n"),
         {"pkg/utils.py": UTILS.replace("import re\n", "import re\nfrom pkg.text import dedent\n")
          + "\n\ndef shout(s):\n    return dedent(helper(s)).upper()\n"},
         fmt="definitions",
         notes=("dropped `indent` from `from pkg.text import dedent, indent`: nothing the "
                "reply adds uses it",)),
    Case("definitions: an import alone, asked for, is kept", PKG,
         defs("pkg/utils.py", "import os\n"),
         {"pkg/utils.py": UTILS.replace("import re\n", "import re\nimport os\n")},
         fmt="definitions"),
    Case("definitions: `from __future__` is kept, used by no name", PKG,
         defs("pkg/utils.py", f"from __future__ import annotations\n\n\n{SHOUT}"),
         {"pkg/utils.py": UTILS.replace("import re\n",
                                        "import re\nfrom __future__ import annotations\n")
          + f"\n\n{SHOUT}"}, fmt="definitions"),
]


SELF_IMPORTS = [
    Case("definitions: the helper imported from the module itself, by absolute name", PKG,
         defs("pkg/utils.py", f"from pkg.utils import helper\n\n\n{SHOUT}"),
         {"pkg/utils.py": WITH_SHOUT}, fmt="definitions", notes=(DROPPED,)),
    Case("definitions: the helper imported from the module itself, by relative name", PKG,
         defs("pkg/utils.py", f"from .utils import helper\n\n\n{SHOUT}"),
         {"pkg/utils.py": WITH_SHOUT}, fmt="definitions",
         notes=("dropped `from .utils import helper`: pkg/utils.py defines helper itself",)),
    Case("definitions: the module imported into itself", PKG,
         defs("pkg/utils.py", f"import pkg.utils\n\n\n{SHOUT}"),
         {"pkg/utils.py": WITH_SHOUT}, fmt="definitions",
         notes=("dropped `import pkg.utils`: pkg/utils.py is pkg.utils itself",)),
    Case("definitions: the module imported into itself, relatively and with an alias", PKG,
         defs("pkg/utils.py", f"from . import utils as u\n\n\n{SHOUT}"),
         {"pkg/utils.py": WITH_SHOUT}, fmt="definitions",
         notes=("dropped `from . import utils as u`: pkg/utils.py is pkg.utils itself",)),
    Case("definitions: a src-layout package imports from itself",
         {f"src/{p}": t for p, t in PKG.items()},
         defs("src/pkg/utils.py", f"from pkg.utils import (\n    helper,\n)\n\n\n{SHOUT}"),
         {"src/pkg/utils.py": WITH_SHOUT}, fmt="definitions",
         notes=("dropped `from pkg.utils import helper`: src/pkg/utils.py defines helper "
                "itself",)),
    Case("definitions: a package's __init__ imports a name it defines from itself",
         {"pkg/__init__.py": UTILS, "pkg/utils.py": "X = 1\n"},
         defs("pkg/__init__.py", f"from pkg import helper, utils\n\n\n{SHOUT}"),
         {"pkg/__init__.py": UTILS.replace("import re\n", "import re\nfrom pkg import utils\n")
          + f"\n\n{SHOUT}"}, fmt="definitions",
         notes=("dropped `helper` from `from pkg import helper, utils`: pkg/__init__.py "
                "defines helper itself",)),
    Case("definitions: of a mixed import, only the module itself is dropped", PKG,
         defs("pkg/utils.py", "from . import text, utils\n\n\n"
              "def shout(s):\n    return text.dedent(helper(s)).upper()\n"),
         {"pkg/utils.py": UTILS.replace("import re\n", "import re\nfrom . import text\n")
          + "\n\ndef shout(s):\n    return text.dedent(helper(s)).upper()\n"},
         fmt="definitions",
         notes=("dropped `utils` from `from . import text, utils`: pkg/utils.py is pkg.utils "
                "itself",)),
    Case("definitions: a name the module defines, imported from a sibling", PKG,
         defs("pkg/utils.py", "from pkg.text import dedent, helper\n\n\n"
              "def shout(text):\n    return dedent(helper(text)).upper()\n"),
         {"pkg/utils.py": UTILS.replace("import re\n", "import re\nfrom pkg.text import dedent\n")
          + "\n\ndef shout(text):\n    return dedent(helper(text)).upper()\n"},
         fmt="definitions",
         notes=("dropped `helper` from `from pkg.text import dedent, helper`: pkg/utils.py "
                "defines helper itself",)),
    Case("definitions: a sibling module imported as it should be", PKG,
         defs("pkg/utils.py", "from pkg import text\n\n\n"
              "def shout(s):\n    return text.dedent(helper(s)).upper()\n"),
         {"pkg/utils.py": UTILS.replace("import re\n", "import re\nfrom pkg import text\n")
          + "\n\ndef shout(s):\n    return text.dedent(helper(s)).upper()\n"},
         fmt="definitions"),
    Case("search-replace: the helper imported from the module itself", PKG,
         sr("pkg/utils.py", "import re\n", "import re\nfrom pkg.utils import helper\n")
         + sr("pkg/utils.py", "    return re.sub(r'\\s+', ' ', text).strip()\n",
              f"    return re.sub(r'\\s+', ' ', text).strip()\n\n\n{SHOUT}"),
         error="pkg/utils.py imports helper from itself (pkg.utils); helper is defined in "
               "this file: call it directly and remove the import", fmt="search-replace"),
    Case("whole file: the module imported into itself", PKG,
         defs("pkg/utils.py", f"import pkg.utils\n{UTILS}\n\n"
              "def shout(text):\n    return pkg.utils.helper(text).upper()\n"),
         error="pkg/utils.py imports itself (pkg.utils), and a module cannot import itself",
         fmt="whole"),
    Case("whole file: a name the module defines, imported from a sibling", PKG,
         defs("pkg/utils.py", f"from pkg.text import helper\n{WITH_SHOUT}"),
         error="pkg/utils.py imports helper from pkg.text, but pkg/utils.py defines helper "
               "itself", fmt="whole"),
    Case("search-replace: a sibling module imported as it should be", PKG,
         sr("pkg/utils.py", "import re\n", "import re\n\nfrom pkg.text import dedent\n"),
         {"pkg/utils.py": UTILS.replace("import re\n",
                                       "import re\n\nfrom pkg.text import dedent\n")},
         fmt="search-replace"),
    # The 0.5B's reply to "add a function": an import of it from a sibling module.
    Case("the function asked for, imported instead of defined", PKG,
         defs("pkg/utils.py", "from pkg.text import shout\n"),
         error="pkg/utils.py imports shout from pkg.text instead of defining it",
         fmt="definitions", instruction=ASK_SHOUT),
    Case("the function asked for, imported instead of defined, as a whole file", PKG,
         defs("pkg/utils.py", f"from pkg.text import shout\n{UTILS}"),
         error="pkg/utils.py imports shout from pkg.text instead of defining it",
         fmt="whole", instruction=ASK_SHOUT),
    Case("the function asked for, defined, using a sibling's import", PKG,
         defs("pkg/utils.py", "from pkg.text import dedent\n\n\n"
              "def shout(text):\n    return dedent(helper(text)).upper()\n"),
         {"pkg/utils.py": UTILS.replace("import re\n", "import re\nfrom pkg.text import dedent\n")
          + "\n\ndef shout(text):\n    return dedent(helper(text)).upper()\n"},
         fmt="definitions", instruction=ASK_SHOUT),
]
STATS = ("def mean(values):\n    return sum(values) / len(values)\n\n\n"
         "def spread(values):\n    return max(values) - min(values)\n")
MEDIAN = "def median(values):\n    return sorted(values)[len(values) // 2]\n"
ASK_MEDIAN = "In stats.py add a function median(values) that returns the middle value"
CASES = [
    Case("plain block", {"app.py": APP},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n"),
         {"app.py": NEW_GREET}),
    Case("block without a fence", {"app.py": APP},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n", fence=False),
         {"app.py": NEW_GREET}),
    Case("prose around the block", {"app.py": APP},
         "Sure! Here is the change you asked for.\n\n"
         + sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
         + "\nThis changes the greeting. Let me know if you need more.",
         {"app.py": NEW_GREET}),
    Case("path in bold", {"app.py": APP},
         sr("**app.py**", "    return 'hi ' + name\n", "    return 'hello ' + name\n"),
         {"app.py": NEW_GREET}),
    Case("path in backticks with a colon", {"app.py": APP},
         sr("`app.py`:", "    return 'hi ' + name\n", "    return 'hello ' + name\n"),
         {"app.py": NEW_GREET}),
    Case("path as a markdown heading", {"app.py": APP},
         sr("### app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n"),
         {"app.py": NEW_GREET}),
    Case("trailing spaces in SEARCH", {"app.py": APP},
         sr("app.py", "    return 'hi ' + name   \n", "    return 'hello ' + name\n"),
         {"app.py": NEW_GREET}),
    Case("trailing spaces in the file", {"app.py": APP.replace("name\n", "name  \n", 1)},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n"),
         {"app.py": NEW_GREET}),
    Case("wrong indentation, re-indented", {"cls.py": CLS},
         sr("cls.py", "def add(self, item):\n    self.items.append(item)\n",
            "def add(self, item):\n    if item not in self.items:\n"
            "        self.items.append(item)\n"),
         {"cls.py": CLS.replace("        self.items.append(item)\n",
                                "        if item not in self.items:\n"
                                "            self.items.append(item)\n")}),
    Case("too much indentation, re-indented", {"app.py": APP},
         sr("app.py", "        return 'hi ' + name\n", "        return 'hello ' + name\n"),
         {"app.py": NEW_GREET}),
    Case("CRLF file, LF reply", {"app.py": APP.replace("\n", "\r\n")},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n"),
         {"app.py": NEW_GREET.replace("\n", "\r\n")}),
    Case("CRLF reply, LF file", {"app.py": APP},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
         .replace("\n", "\r\n"),
         {"app.py": NEW_GREET}),
    Case("a typo in SEARCH, fuzzy match", {"cls.py": CLS},
         sr("cls.py", "    def add(self, itme):\n        self.items.append(item)\n",
            "    def add(self, item):\n        self.items.insert(0, item)\n"),
         {"cls.py": CLS.replace("append(item)", "insert(0, item)")}),
    Case("two blocks in one file", {"app.py": APP},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
         + sr("app.py", "    print(greet('x'))\n", "    print(greet('y'))\n"),
         {"app.py": NEW_GREET.replace("'x'", "'y'")}),
    Case("second block without a path", {"app.py": APP},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
         + "```python\n<<<<<<< SEARCH\n    print(greet('x'))\n=======\n"
           "    print(greet('z'))\n>>>>>>> REPLACE\n```\n",
         {"app.py": NEW_GREET.replace("'x'", "'z'")}),
    Case("several files", {"app.py": APP, "cls.py": CLS},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
         + sr("cls.py", "        self.items = []\n", "        self.items: list = []\n"),
         {"app.py": NEW_GREET, "cls.py": CLS.replace("items = []", "items: list = []")}),
    Case("new file with an empty SEARCH", {"app.py": APP},
         sr("util/strings.py", "", "def shout(s):\n    return s.upper()\n"),
         {"util/strings.py": "def shout(s):\n    return s.upper()\n"}),
    Case("deleted file", {"app.py": APP, "old.py": "x = 1\n"},
         "The helper is unused, so:\n\nDELETE old.py\n", {"old.py": None}),
    Case("delete with backticks", {"old.py": "x = 1\n"}, "DELETE `old.py`\n", {"old.py": None}),
    Case("removing lines: empty REPLACE", {"app.py": APP},
         sr("app.py", "\n\ndef main():\n    print(greet('x'))\n", ""),
         {"app.py": "def greet(name):\n    return 'hi ' + name\n"}),
    Case("fence inside the code", {"doc.py": 'DOC = """\n```\nexample\n```\n"""\n'},
         sr("doc.py", "example\n", "another example\n"),
         {"doc.py": 'DOC = """\n```\nanother example\n```\n"""\n'}),
    Case("whole file", {"app.py": APP},
         "app.py\n```python\ndef greet(name):\n    return 'hey ' + name\n```\n",
         {"app.py": "def greet(name):\n    return 'hey ' + name\n"}),
    Case("whole file, path as heading", {"app.py": APP},
         "## app.py\n\n```python\nprint('x')\n```\n", {"app.py": "print('x')\n"}),
    Case("whole new file", {},
         "Create `pkg/__init__.py`:\n\npkg/__init__.py\n```python\n__all__ = []\n```\n",
         {"pkg/__init__.py": "__all__ = []\n"}),
    Case("whole file with fenced examples inside", {"README.md": "# T\n"},
         "README.md\n```markdown\n# T\n\n```python\nx = 2\n```\n\nMore text.\n```\n",
         {"README.md": "# T\n\n```python\nx = 2\n```\n\nMore text.\n"}),
    Case("whole file containing a fence, longer outer fence", {"README.md": "# x\n"},
         "README.md\n````markdown\n# x\n\n```sh\nmake run\n```\n````\n",
         {"README.md": "# x\n\n```sh\nmake run\n```\n"}),
    Case("whole file keeps CRLF", {"app.py": "a = 1\r\n"},
         "app.py\n```python\na = 2\n```\n", {"app.py": "a = 2\r\n"}),
    Case("unified diff", {"app.py": APP},
         "```diff\n--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,2 @@\n def greet(name):\n"
         "-    return 'hi ' + name\n+    return 'hello ' + name\n```\n",
         {"app.py": NEW_GREET}),
    Case("unified diff without a fence, two hunks", {"app.py": APP},
         "--- a/app.py\n+++ b/app.py\n@@ -2 +2 @@\n-    return 'hi ' + name\n"
         "+    return 'hello ' + name\n@@ -6 +6 @@\n-    print(greet('x'))\n"
         "+    print(greet('w'))\n",
         {"app.py": NEW_GREET.replace("'x'", "'w'")}),
    Case("unified diff creating a file", {},
         "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+A = 1\n+B = 2\n",
         {"new.py": "A = 1\nB = 2\n"}),
    Case("unified diff deleting a file", {"gone.py": "x = 1\n"},
         "--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x = 1\n", {"gone.py": None}),
    Case("unified diff with sloppy indentation", {"cls.py": CLS},
         "--- a/cls.py\n+++ b/cls.py\n@@ -5,2 +5,2 @@\n def add(self, item):\n"
         "-    self.items.append(item)\n+    self.items.extend([item])\n",
         {"cls.py": CLS.replace("append(item)", "extend([item])")}),
    # Unrecoverable: nothing may be written.
    Case("matches twice", {"dup.py": "x = 1\ny = 2\nx = 1\n"},
         sr("dup.py", "x = 1\n", "x = 3\n"), error="matches 2 places"),
    Case("matches nowhere", {"app.py": APP},
         sr("app.py", "def farewell():\n    pass\n", "def farewell():\n    return 1\n"),
         error="matches nowhere"),
    Case("file does not exist", {"app.py": APP},
         sr("missing.py", "a = 1\n", "a = 2\n"), error="no such file"),
    Case("one good block, one bad: nothing applied", {"app.py": APP, "cls.py": CLS},
         sr("app.py", "    return 'hi ' + name\n", "    return 'hello ' + name\n")
         + sr("cls.py", "    def remove(self):\n        pass\n", "    def remove(self):\n"
              "        self.items.clear()\n"), error="matches nowhere"),
    Case("truncated block", {"app.py": APP},
         "app.py\n```python\n<<<<<<< SEARCH\n    return 'hi ' + name\n=======\n"
         "    return 'hel", error="truncated"),
    Case("truncated whole file", {"app.py": APP},
         "app.py\n```python\ndef greet(name):\n    return 'he", error="truncated"),
    Case("path traversal", {"app.py": APP},
         sr("../outside.py", "", "x = 1\n"), error="leads outside the repository"),
    Case("deep path traversal", {"app.py": APP},
         sr("src/../../etc/passwd", "", "root::0:0\n"), error="leads outside the repository"),
    Case("absolute path", {"app.py": APP},
         sr("/etc/hosts", "", "127.0.0.1 evil\n"), error="an absolute path"),
    Case("git config", {"app.py": APP},
         sr(".git/config", "", "[core]\n"), error="never edits inside .git"),
    Case("git hooks via a whole file", {"app.py": APP},
         "\n.git/hooks/pre-commit\n```sh\nrm -rf /\n```\n", error="never edits inside .git"),
    Case("git directory in capitals", {"app.py": APP},
         sr(".GIT/hooks/pre-commit", "", "rm -rf ~\n"), error="never edits inside .git"),
    Case("a directory as the target", {"pkg/a.py": "A = 1\n"},
         sr("pkg/", "", "x = 1\n"), error="is a directory"),
    Case("a file under a file", {"app.py": APP},
         sr("app.py/inner.py", "", "x = 1\n"), error="app.py is a file"),
    Case("create over an existing file", {"app.py": APP},
         sr("app.py", "", "x = 1\n"), error="the file exists"),
    Case("delete a missing file", {"app.py": APP}, "DELETE nope.py\n", error="no such file"),
    Case("block naming no file", {"app.py": APP},
         "<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", error="names no file"),
    Case("no edits at all", {"app.py": APP},
         "I think the code is fine as it is.", error="no edits"),
    # Replies of the embedded model to "In stats.py add a function median(values) ...",
    # which must be refused, not applied.
    Case("DELETE followed by the new code", {"stats.py": STATS},
         f"DELETE stats.py\n```python\n{MEDIAN}```\n", error="is followed by code",
         instruction=ASK_MEDIAN),
    Case("deleting the file it was asked to extend", {"stats.py": STATS}, "DELETE stats.py\n",
         error="does not ask for it to be deleted", instruction=ASK_MEDIAN),
    Case("a whole file holding only the new function", {"stats.py": STATS},
         f"stats.py\n```python\n{MEDIAN}```\n",
         error="the reply drops `mean` and `spread` from stats.py", instruction=ASK_MEDIAN),
    Case("the format's example copied", {"stats.py": STATS},
         "EXAMPLE-ONLY/not_a_file.py\n```python\ndef example_only_total(a, b):\n"
         "    return a + b\n```\n", error="copies the format's example",
         instruction=ASK_MEDIAN),
    Case("a whole file keeping what it does not change", {"stats.py": STATS},
         f"stats.py\n```python\n{STATS}\n\n{MEDIAN}```\n",
         {"stats.py": f"{STATS}\n\n{MEDIAN}"}, instruction=ASK_MEDIAN),
    *SELF_IMPORTS,
    *UNUSED_IMPORTS,
]
