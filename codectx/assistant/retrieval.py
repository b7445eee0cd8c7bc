"""Question-time retrieval: the full text of the files a question needs, after the prefix.

When the repository does not fit in full, the cached prefix shows most files
at less detail. Each question then gets, within a token budget, the full
text of the files most relevant to it, placed after the prefix (so the
prefix, and its cache, are the same for every question). Relevance, strongest
first:
1. paths named in the question (a path, or a file name that one file has);
2. identifiers named in the question, looked up in the definition index
   (every name each file defines, from the tree-sitter parse, kept with the index);
   names written as code win over ordinary words that happen to name a definition;
3. when 1 or 2 found something: its neighbours in the dependency graph and the
   best lexical matches, but only those that mention what the question names
   (they show where it is used), and what a file named by its path imports,
   within a quarter of the budget;
4. when they found nothing: lexical relevance, BM25 (bm25s) over the text of
   the files not in full, with identifiers split into their words (the best few).
A large file found by a name it defines comes as an excerpt (its imports, the
definition, the header of a class around it: `excerpts`), so a small model reads
the definition asked about rather than its neighbours, and a slow machine does not
pay for the rest. The retrieved text opens with each file's path and why it is
there, so a small model can tell the file that defines a name from those that use it.
The budget is a ceiling, not a target: a question gets what is relevant to it,
so a warm question costs little more than its own tokens.
Only files of the index are candidates (nothing ignored, secret or outside the
repository is ever read), and never one already in full in the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codectx.assistant.excerpts import excerpt
from codectx.indexer.levels import Level
from codectx.indexer.result import IndexResult
from codectx.indexer.serialize import file_block

if TYPE_CHECKING:
    from bm25s import BM25

MAX_DEFINERS = 4  # a name defined in more files than this says little about which one
LEXICAL_TOP = 5  # lexical matches taken when nothing named in the question was found
NEIGHBOURS = 4  # dependency-graph neighbours considered per file found by name
SECONDARY_SHARE = 4  # beside what the question names, others take at most 1/4 of the room
EXCERPT_FROM = 3  # a file found by a name it defines, larger than 1/3 of the room: an excerpt
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATHLIKE = re.compile(r"(?<![\w@])((?:\.{0,2}/)?[\w.\-]+(?:/[\w.\-]+)*\.[A-Za-z][\w]{0,9}"
                       r"|(?:\.{0,2}/)?[\w.\-]+(?:/[\w.\-]+)+/?)")
_QUOTED = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)(?:\([^`]*\))?`")
_CODE_LIKE = re.compile(r"_|\d|.[A-Z]")
def code_names(text: str) -> set[str]:
    """The names a text writes as code: in backticks, or with `_`, a digit or inner
    capitals."""
    quoted = set(_QUOTED.findall(text))
    return {w for w in _WORD.findall(text) if w in quoted or _CODE_LIKE.search(w)}


_SUBWORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
STOP = frozenset({
    "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "is", "are", "was", "be",
    "it", "this", "that", "with", "what", "which", "where", "how", "why", "who", "does", "do",
    "did", "can", "could", "should", "would", "will", "from", "by", "as", "at", "not", "no",
    "yes", "file", "files", "function", "functions", "class", "method", "return", "returns",
    "value", "values", "code", "repository", "there", "their", "its", "into", "about", "use",
    "used", "using", "make", "get", "set", "add", "new",
})


@dataclass(frozen=True)
class Retrieved:
    path: str
    tokens: int
    why: str

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "tokens": self.tokens, "why": self.why}


@dataclass(frozen=True)
class Retrieval:
    files: tuple[Retrieved, ...] = ()
    text: str = ""
    """The retrieved files' blocks, to go after the prefix (empty when none)."""
    notes: tuple[str, ...] = ()

    @property
    def tokens(self) -> int:
        return sum(f.tokens for f in self.files)


NOTHING = Retrieval()

Reader = Callable[[str], str | None]


def words(text: str) -> list[str]:
    """Lexical terms: each identifier lowercased, and its words (snake_case, camelCase)."""
    terms: list[str] = []
    for word in _WORD.findall(text):
        lowered = word.lower()
        if lowered in STOP or len(word) < 2:
            continue
        terms.append(lowered)
        parts = [p.lower() for piece in word.split("_") for p in _SUBWORD.findall(piece)]
        if len(parts) > 1:
            terms.extend(p for p in parts if len(p) > 1 and p not in STOP)
    return terms


class Retriever:
    """Built once per index: the definition index and a lexical index of the files that
    are not in full."""

    def __init__(self, index: IndexResult, read: Reader, fmt: str = "xml") -> None:
        self.files = {f.path: f for f in index.files}
        self.read = read
        self.fmt = fmt
        self.candidates = [f.path for f in index.files if f.mode is not Level.FULL]
        self.definitions: dict[str, list[str]] = {}
        self.folded: dict[str, list[str]] = {}
        for f in index.files:
            for name in f.symbols:
                self.definitions.setdefault(name, []).append(f.path)
                self.folded.setdefault(name.lower(), []).append(f.path)
        self.dirs = {f.path.split("/")[0] for f in index.files if "/" in f.path}
        self.by_name: dict[str, list[str]] = {}
        for f in index.files:
            self.by_name.setdefault(f.path.rpartition("/")[2], []).append(f.path)
        self.dependents: dict[str, list[str]] = {}
        for f in index.files:
            for dep in f.imports:
                self.dependents.setdefault(dep, []).append(f.path)
        self._lexical: tuple[BM25, list[str]] | None = None
        self._texts: dict[str, str] = {}

    def retrieve(self, question: str, budget: int, exclude: Iterable[str] = ()) -> Retrieval:
        """The files most relevant to `question` that fit in `budget` tokens; `exclude`:
        files the question already carries in full."""
        if budget <= 0 or not self.candidates:
            return NOTHING
        skip = set(exclude)
        notes: list[str] = []
        strong = self._named_paths(question, notes) + self._defined(question)
        found = list(dict.fromkeys(p for p, _ in strong))
        looked_up: dict[str, list[str]] = {}  # file -> the names the question finds in it
        for path, why in strong:
            if why.startswith("defines `"):
                looked_up.setdefault(path, []).append(why.removeprefix("defines `")[:-1])
        chosen: list[Retrieved] = []
        blocks: list[str] = []
        seen: set[str] = set(skip)

        def take(ranked: list[tuple[str, str]], limit: int) -> int:
            used = 0
            for path, why in ranked:
                f = self.files.get(path)
                if path in seen or f is None or f.mode is Level.FULL:
                    continue
                seen.add(path)
                text = self._text(path)
                if text is None:
                    continue
                tokens, part = f.full_tokens, None
                # A large file found by a name it defines: that definition, in context.
                if path in looked_up and f.full_tokens > min(limit - used,
                                                             budget // EXCERPT_FROM):
                    cut = excerpt(f.language, text, looked_up[path])
                    if cut is not None:
                        tokens = max(1, f.full_tokens * len(cut.text) // max(len(text), 1))
                        text, part = cut.text, "excerpt"
                        why += f" (an excerpt: {', '.join(cut.names)} and the file's imports)"
                if used + tokens > limit:
                    continue
                used += tokens
                chosen.append(Retrieved(path, tokens, why))
                blocks.append(file_block(path, f.language, text, Level.FULL, self.fmt, part))
            return used

        used = take(strong, budget)
        if found:
            # What the question names is found: the rest is there to trace it, and all
            # of it together takes at most a share of the room.
            take(self._related(question, strong, found),
                 min(budget - used, budget // SECONDARY_SHARE))
        else:
            take(self._lexical_matches(question)[:LEXICAL_TOP], budget)
        if not blocks:
            return Retrieval((), "", tuple(notes))
        listing = "; ".join(f"{f.path} ({f.why})" for f in chosen)
        text = ("The full text of the files most relevant to the question (the repository "
                f"above shows them at less detail): {listing}.\n\n" + "".join(blocks))
        return Retrieval(tuple(chosen), text, tuple(notes))

    def _related(self, question: str, strong: list[tuple[str, str]],
                 found: list[str]) -> list[tuple[str, str]]:
        """Files that trace what the question names (where the named things are used): each
        must mention one of them. Without that, a small model is handed several big files
        and names the wrong one."""
        names = self._names(question, strong)
        near = [(dep, f"imported by {path}") for path in found
                for dep in self.files[path].imports]
        near += [(user, f"imports {path}") for path in found
                 for user in self.dependents.get(path, [])]
        lexical = self._lexical_matches(question)
        # A file named by its path is the subject whole: what it imports is related.
        subject = [(dep, f"imported by {path}") for path, why in strong
                   if why == "named in the question" for dep in self.files[path].imports]
        return subject + [(p, why) for p, why in near[: NEIGHBOURS * len(found)] + lexical
                          if self._mentions(p, names)]

    def _names(self, question: str, strong: list[tuple[str, str]]) -> list[str]:
        """What the question names that was found: the identifiers, and named files' stems."""
        names = [why.removeprefix("defines `").removesuffix("`") for _, why in strong
                 if why.startswith("defines `")]
        names += [p.rpartition("/")[2].partition(".")[0] for p, why in strong
                  if why == "named in the question"]
        return [n for n in dict.fromkeys(names) if len(n) >= 3]

    def _mentions(self, path: str, names: list[str]) -> bool:
        text = self._text(path)
        return text is not None and any(
            re.search(rf"\b{re.escape(name)}\b", text) for name in names)

    # -- the signals ------------------------------------------------------------------

    def _named_paths(self, question: str, notes: list[str]) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for raw in _PATHLIKE.findall(question):
            path = raw.strip(".,;:!?'\"`()[]{}").removeprefix("./")
            if not path:
                continue
            if path in self.files:
                found.append((path, "named in the question"))
            elif path.startswith("/") or ".." in path.split("/"):
                notes.append(f"{raw} is outside the repository: nothing was retrieved for it")
            elif path in self.by_name and len(self.by_name[path]) <= MAX_DEFINERS:
                found += [(p, "named in the question") for p in self.by_name[path]]
            elif _looks_like_a_file(path.rpartition("/")[2]) or path.split("/")[0] in self.dirs:
                notes.append(f"{path}: no such file in the repository, nothing was retrieved "
                             "for it")
        return found

    def _defined(self, question: str) -> list[tuple[str, str]]:
        """Files defining the names the question mentions. A name written as code (in
        backticks, or with `_`, a digit or inner capitals) outranks an ordinary word that
        happens to name a definition ("Answer", "path"): when the question has one, the
        ordinary words are left to lexical relevance."""
        quoted = set(_QUOTED.findall(question))
        code: list[tuple[str, str]] = []
        plain: list[tuple[str, str]] = []
        for word in dict.fromkeys(_WORD.findall(question)):
            as_code = word in quoted or _CODE_LIKE.search(word) is not None
            if len(word) < (2 if as_code else 3) or word.lower() in STOP:
                continue
            paths = self.definitions.get(word) or (
                self.folded.get(word.lower(), []) if len(word) >= 4 else [])
            if 0 < len(paths) <= MAX_DEFINERS:
                (code if as_code else plain).extend((p, f"defines `{word}`") for p in paths)
        return code or plain

    def _lexical_matches(self, question: str) -> list[tuple[str, str]]:
        terms = words(question)
        if not terms:
            return []
        index = self._lexical_index()
        if index is None:
            return []
        retriever, paths = index
        known = retriever.get_tokens_ids(terms)  # words the corpus never uses are left out
        if not known:
            return []
        scores = retriever.get_scores(known)
        best = sorted(((float(s), p) for s, p in zip(scores, paths, strict=True) if s > 0),
                      key=lambda item: (-item[0], item[1]))[:LEXICAL_TOP]
        return [(p, "matches the question's words") for _, p in best]

    def _lexical_index(self) -> tuple[BM25, list[str]] | None:
        if self._lexical is None:
            import bm25s

            paths, corpus = [], []
            for path in self.candidates:
                text = self._text(path)
                if text is not None:
                    paths.append(path)
                    corpus.append(words(path.replace("/", " ").replace(".", " ") + " " + text)
                                  or ["\0"])
            if not corpus:
                return None
            retriever = bm25s.BM25()
            retriever.index(corpus, show_progress=False)
            self._lexical = (retriever, paths)
        return self._lexical

    def _text(self, path: str) -> str | None:
        if path not in self._texts:
            text = self.read(path)
            if text is None:
                return None
            self._texts[path] = text
        return self._texts[path]


def _looks_like_a_file(name: str) -> bool:
    from codectx.indexer.languages import language_of

    return language_of(name) != "text" or name.endswith(".txt")


def given(index: IndexResult, paths: Sequence[str], why: str) -> tuple[Retrieved, ...]:
    """Files the question carries in full by the user's choice (pinned, or to be changed),
    as retrieval lists them."""
    files = {f.path: f for f in index.files}
    return tuple(Retrieved(p, files[p].full_tokens, why) for p in paths if p in files)
