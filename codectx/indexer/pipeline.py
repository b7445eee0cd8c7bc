"""walk -> read -> parse -> resolve -> order -> count -> budget -> serialize.

`build_index` runs the whole pipeline for one directory and returns plain
data; every stage is a function of its own module, so tests can run any of
them alone. Progress goes through a callback and nothing here prints.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codectx.indexer import budget as budget_mod
from codectx.indexer import order as order_mod
from codectx.indexer.cache import IndexCache
from codectx.indexer.content import decode, skip_reason
from codectx.indexer.imports import Resolver
from codectx.indexer.languages import language_of
from codectx.indexer.parse import FileFacts, parse_file
from codectx.indexer.serialize import Mode, Segment, file_block, header, tree
from codectx.indexer.tokens import TokenCounter
from codectx.indexer.walk import Candidate, Listing, Skipped, list_files

Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) during long stages."""


@dataclass(frozen=True)
class IndexOptions:
    format: str = "xml"
    budget: int | None = None
    max_file_size: int = 1_000_000
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    submodules: bool = False
    include_dirs: tuple[str, ...] = ()
    history_commits: int = 500


@dataclass(frozen=True)
class IndexedFile:
    path: str
    language: str
    tokens: int
    mode: Mode
    imports: tuple[str, ...]
    external: tuple[str, ...]
    invalid_utf8: bool = False


@dataclass
class IndexResult:
    root: str
    name: str
    files: list[IndexedFile]
    skipped: list[Skipped]
    segments: list[Segment]
    token_count_exact: bool
    tokenizer: str
    elapsed_s: float
    parsed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)

    @property
    def total_tokens(self) -> int:
        return self.segments[-1].end if self.segments else 0


@dataclass
class _Source:
    path: str
    language: str
    digest: str
    text: str
    invalid_utf8: bool


def _noop(stage: str, done: int, total: int) -> None:
    pass


def build_index(
    root: Path,
    options: IndexOptions,
    counter: TokenCounter,
    cache: IndexCache,
    progress: Progress = _noop,
) -> IndexResult:
    started = time.perf_counter()
    listing = list_files(
        root, max_file_size=options.max_file_size, include=list(options.include),
        exclude=list(options.exclude), submodules=options.submodules,
    )
    root = root.resolve()
    skipped = list(listing.skipped)
    sources = _read(listing.files, skipped, progress)
    skipped.sort(key=lambda s: s.path)
    facts, parsed = _facts(sources, cache, progress)

    by_path = {s.path: s for s in sources}
    resolver = Resolver(
        {s.path: (s.language, facts[s.path]) for s in sources},
        lambda p: by_path[p].text if p in by_path else None,
        options.include_dirs,
    )
    resolved = {s.path: resolver.resolve(s.path, s.language, facts[s.path]) for s in sources}
    graph = order_mod.dependency_graph({p: r.internal for p, r in resolved.items()})
    volatility = _volatility(root, listing, options.history_commits, cache)
    ordered = order_mod.prompt_order(graph, volatility)

    name = root.name or "repository"
    fmt = options.format

    def block(path: str, mode: Mode) -> str:
        src = by_path[path]
        text = src.text if mode is Mode.FULL else facts[path].skeleton or ""
        return file_block(path, src.language, text, mode, fmt)

    counts = _Counts(counter, cache)
    full_blocks = {p: block(p, Mode.FULL) for p in ordered}
    counts.prefetch(full_blocks.values(), progress)
    head = header(name, fmt)
    modes = {p: Mode.FULL for p in ordered}
    if options.budget is not None:
        modes = budget_mod.fit(
            budget_mod.rank(graph),
            {p: counts(t) for p, t in full_blocks.items()},
            lambda p: counts(block(p, Mode.SKELETON)) if facts[p].skeleton is not None else None,
            lambda m: counts(head) + counts(tree(list(m.items()), fmt)),
            counts(" (skeleton)\n"),
            options.budget,
        )

    segments: list[Segment] = []

    def add(kind: str, path: str | None, text: str) -> int:
        tokens = counts(text)
        start = segments[-1].end if segments else 0
        segments.append(Segment(kind, path, text, tokens, start))
        return tokens

    add("header", None, head)
    files = []
    for path in ordered:
        mode = modes[path]
        tokens = 0
        if mode is not Mode.OMITTED:
            text = full_blocks[path] if mode is Mode.FULL else block(path, mode)
            tokens = add("file", path, text)
        src = by_path[path]
        files.append(IndexedFile(path, src.language, tokens, mode, resolved[path].internal,
                                 resolved[path].external, src.invalid_utf8))
    add("tree", None, tree(list(modes.items()), fmt))
    counts.flush()
    return IndexResult(
        root=str(root), name=name, files=files, skipped=skipped, segments=segments,
        token_count_exact=counter.exact, tokenizer=counter.name,
        elapsed_s=time.perf_counter() - started, parsed=parsed, notes=cache.notes,
    )


def _read(candidates: list[Candidate], skipped: list[Skipped], progress: Progress) -> list[_Source]:
    sources = []
    total = len(candidates)
    for i, cand in enumerate(candidates):
        if i % 200 == 0:
            progress("read", i, total)
        try:
            data = cand.abspath.read_bytes()
        except OSError as exc:
            skipped.append(Skipped(cand.path, f"unreadable: {exc.strerror or exc}"))
            continue
        reason = skip_reason(data)
        if reason:
            skipped.append(Skipped(cand.path, reason))
            continue
        decoded = decode(data)
        language = language_of(cand.path)
        digest = hashlib.sha256(data).hexdigest()
        sources.append(_Source(cand.path, language, digest, decoded.text, decoded.invalid_utf8))
    progress("read", total, total)
    return sources


def _facts(
    sources: list[_Source], cache: IndexCache, progress: Progress
) -> tuple[dict[str, FileFacts], int]:
    keys = {s.path: f"{s.digest}:{s.language}" for s in sources}
    cached = cache.get_many("facts", keys.values())
    facts: dict[str, FileFacts] = {}
    fresh: dict[str, object] = {}
    missing = [s for s in sources if keys[s.path] not in cached]
    for i, src in enumerate(missing):
        if i % 50 == 0:
            progress("parse", i, len(missing))
        parsed = parse_file(src.language, src.text.encode("utf-8"))
        fresh[keys[src.path]] = parsed.to_json()
        facts[src.path] = parsed
    progress("parse", len(missing), len(missing))
    for src in sources:
        if src.path not in facts:
            facts[src.path] = FileFacts.from_json(cached[keys[src.path]])
    cache.put_many("facts", fresh)
    return facts, len(missing)


def _volatility(
    root: Path, listing: Listing, commits: int, cache: IndexCache
) -> dict[str, float]:
    if not listing.is_git:
        return {}
    import git

    repo = git.Repo(root, search_parent_directories=True)
    try:
        head = repo.head.commit.hexsha
    except ValueError:  # no commits yet: every file is equally new
        return {}
    subdir = root.relative_to(Path(repo.working_tree_dir or root).resolve()).as_posix()
    key = f"{head}:{commits}:{subdir}"
    history = cache.get("history", key)
    if history is None:
        history = order_mod.change_history(root, commits) or []
        cache.put_many("history", {key: history})
    return order_mod.volatility(history, order_mod.uncommitted(root), listing.untracked)


class _Counts:
    """Token counts by block content, from the cache or the counter, saved at the end."""

    def __init__(self, counter: TokenCounter, cache: IndexCache) -> None:
        self.counter = counter
        self.cache = cache
        self.ns = f"tokens:{counter.name}"
        self.known: dict[str, int] = {}
        self.fresh: dict[str, int] = {}

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def prefetch(self, texts: Iterable[str], progress: Progress) -> None:
        items = {self._key(t): t for t in texts}
        self.known.update(self.cache.get_many(self.ns, items))
        missing = [(k, t) for k, t in items.items() if k not in self.known]
        for i, (key, text) in enumerate(missing):
            if i % 50 == 0:
                progress("tokens", i, len(missing))
            self.known[key] = self.fresh[key] = self.counter.count(text)
        progress("tokens", len(missing), len(missing))

    def __call__(self, text: str) -> int:
        key = self._key(text)
        if key not in self.known:
            cached = self.cache.get(self.ns, key)
            if cached is None:
                cached = self.fresh[key] = self.counter.count(text)
            self.known[key] = cached
        return self.known[key]

    def flush(self) -> None:
        self.cache.put_many(self.ns, self.fresh)
        self.fresh = {}


def language_tokens(files: list[IndexedFile]) -> Mapping[str, int]:
    totals: Counter[str] = Counter()
    for f in files:
        totals[f.language] += f.tokens
    return dict(totals.most_common())
