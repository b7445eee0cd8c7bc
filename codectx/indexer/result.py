"""What an index is: the files in prompt order, what was skipped, and the prompt's segments."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codectx.indexer.levels import Level
from codectx.indexer.serialize import Segment
from codectx.indexer.walk import Skipped


@dataclass(frozen=True)
class IndexedFile:
    path: str
    language: str
    tokens: int
    """Its block's tokens in the prompt, at its level."""
    mode: Level
    """Its level of detail in the prompt."""
    imports: tuple[str, ...]
    external: tuple[str, ...]
    invalid_utf8: bool = False
    full_tokens: int = 0
    """What its full text's block takes (what retrieving it costs)."""
    names: tuple[str, ...] = ()
    """Its top-level names."""
    symbols: tuple[str, ...] = ()
    """Every name it defines (the definition index's entries)."""
    kind: str = "source"
    """source, test, docs, config, changelog or data (see `levels.Kind`)."""
    data_reason: str | None = None
    """Why it counts as data (a snapshot, JSON over a size, generated...)."""


@dataclass(frozen=True)
class Collapsed:
    """A directory the file tree shows as one line, to fit the budget."""

    path: str
    """"" for the repository's root."""
    files: int
    summary: str
    """What its line says after its name: how many files, of which kinds, and names."""


@dataclass
class IndexResult:
    root: str
    name: str
    files: list[IndexedFile]
    skipped: list[Skipped]
    segments: list[Segment]
    token_count_exact: bool
    tokenizer: str
    elapsed_s: float = 0.0
    parsed: int = 0
    """How many files were parsed afresh (the rest came from the cache)."""
    from_snapshot: bool = False
    """True when nothing changed since the last index and its result was reused whole."""
    notes: list[str] = field(default_factory=list)
    collapsed: list[Collapsed] = field(default_factory=list)
    """The directories shown as one line each (outermost only); their files are in
    `files`, with the level `collapsed` unless a block of theirs is in the prompt."""

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def total_tokens(self) -> int:
        return self.segments[-1].end if self.segments else 0

    def to_json(self) -> dict[str, Any]:
        """Everything needed to rebuild this result (for the snapshot), nothing run-specific."""
        return {
            "root": self.root, "name": self.name,
            "files": [[f.path, f.language, f.tokens, f.mode.value, list(f.imports),
                       list(f.external), f.invalid_utf8, f.full_tokens, list(f.names),
                       list(f.symbols), f.kind, f.data_reason] for f in self.files],
            "skipped": [[s.path, s.reason] for s in self.skipped],
            "segments": [[s.kind, s.path, s.text, s.tokens, s.start] for s in self.segments],
            "token_count_exact": self.token_count_exact, "tokenizer": self.tokenizer,
            "collapsed": [[c.path, c.files, c.summary] for c in self.collapsed],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexResult:
        files = [IndexedFile(path, language, tokens, Level(mode), tuple(imports),
                             tuple(external), bad, full, tuple(names), tuple(symbols), kind,
                             reason)
                 for (path, language, tokens, mode, imports, external, bad, full, names,
                      symbols, kind, reason) in data["files"]]
        return cls(
            root=data["root"], name=data["name"], files=files,
            skipped=[Skipped(path, reason) for path, reason in data["skipped"]],
            segments=[Segment(*s) for s in data["segments"]],
            token_count_exact=data["token_count_exact"], tokenizer=data["tokenizer"],
            collapsed=[Collapsed(*c) for c in data.get("collapsed", [])],
        )


def language_tokens(files: list[IndexedFile]) -> Mapping[str, int]:
    totals: Counter[str] = Counter()
    for f in files:
        totals[f.language] += f.tokens
    return dict(totals.most_common())
