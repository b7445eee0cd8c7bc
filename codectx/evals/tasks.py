"""The evaluation tasks: what goes into each haystack, what is asked, how answers score.

- niah: one constant at a given depth; asked for its value; right only if the answer
  gives that value (and no other needle's).
- multikey (RULER's multi-key NIAH): four constants at random depths, one asked.
- multivalue (RULER's multi-value NIAH): one constant assigned four values in
  different places; scored by how many of them the answer lists.
- vartrack (RULER's variable tracking): a value assigned to one constant, copied
  along a chain of four (`B = A`, `C = B`...) in different files, next to a
  distractor chain; scored by how many of the chain's names the answer lists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from codectx.evals import RULER_TASKS
from codectx.evals.haystack import Haystack, cut, insert
from codectx.evals.needles import Needle, NeedleMaker, names_in, numbers_in
from codectx.indexer.result import IndexResult
from codectx.tokens import TokenCounter

KEYS = 4  # needles in a multi-key haystack
VALUES = 4  # values of the multi-value key
CHAIN = 4  # constants in a variable-tracking chain


@dataclass(frozen=True)
class Case:
    task: str
    length: int
    """The length asked for, in tokens."""
    depth: float | None
    """Where the asked needle was put (0.0 to 1.0); None for tasks spread over the haystack."""
    sample: int
    haystack: Haystack
    question: str
    expected: tuple[str, ...]
    distractors: tuple[str, ...] = ()
    max_tokens: int = 32

    @property
    def first_position(self) -> int:
        """Tokens before the first needle: what this haystack shares with others before it."""
        return min((p.position for p in self.haystack.placed), default=0)

    def score(self, answer: str) -> float:
        if self.task in ("niah", "multikey"):
            found = numbers_in(answer)
            wrong = found & {int(d) for d in self.distractors}
            return 1.0 if int(self.expected[0]) in found and not wrong else 0.0
        if self.task == "multivalue":
            found = numbers_in(answer)
            return sum(int(v) in found for v in self.expected) / len(self.expected)
        return len(names_in(answer, list(self.expected))) / len(self.expected)


def value_question(name: str) -> str:
    return (f"What is the value of the constant {name} in this repository? "
            "Answer with the number only.")


class CaseMaker:
    """Cases for one repository; the needles come from one seeded generator."""

    def __init__(self, index: IndexResult, seed: int, fmt: str = "xml",
                 counter: TokenCounter | None = None) -> None:
        """`counter`: what the index was counted with, for the files a haystack cuts."""
        self.index = index
        self.fmt = fmt
        self.counter = counter
        self.languages: Mapping[str, str] = {f.path: f.language for f in index.files}
        self.needles = NeedleMaker(seed, avoid=index.text)
        self.random = self.needles.random
        self._cuts: dict[int, Haystack] = {}

    def haystack(self, length: int) -> Haystack:
        if length not in self._cuts:
            self._cuts[length] = cut(self.index, length, self.fmt, self.counter)
        return self._cuts[length]

    def _insert(self, length: int, needles: Sequence[tuple[Needle, float]]) -> Haystack:
        return insert(self.haystack(length), needles, self.languages, self.fmt)

    def niah(self, lengths: Sequence[int], depths: Sequence[float],
             samples: int) -> Iterator[Case]:
        for length in lengths:
            for depth in depths:
                for sample in range(samples):
                    needle = self.needles.constant()
                    yield Case("niah", length, depth, sample,
                               self._insert(length, [(needle, depth)]),
                               value_question(needle.name), (str(needle.value),))

    def ruler(self, lengths: Sequence[int], samples: int,
              tasks: Sequence[str] = RULER_TASKS) -> Iterator[Case]:
        for length in lengths:
            for task in tasks:
                for sample in range(samples):
                    yield getattr(self, f"_{task}")(length, sample)

    def _depths(self, length: int, count: int) -> list[float]:
        """Ascending depths, each in a different file when the haystack has enough of them."""
        haystack = self.haystack(length)
        files = [s for s in haystack.segments if s.kind == "file"]
        if len(files) < count or not haystack.tokens:
            return sorted(round(self.random.uniform(0.02, 0.98), 3) for _ in range(count))
        chosen = sorted(self.random.sample(range(len(files)), count))
        return [(files[i].start + self.random.uniform(0.1, 0.9) * files[i].tokens)
                / haystack.tokens for i in chosen]

    def _multikey(self, length: int, sample: int) -> Case:
        needles = [self.needles.constant() for _ in range(KEYS)]
        depths = self._depths(length, KEYS)
        asked = self.random.randrange(KEYS)
        others = tuple(str(n.value) for i, n in enumerate(needles) if i != asked)
        return Case("multikey", length, depths[asked], sample,
                    self._insert(length, list(zip(needles, depths, strict=True))),
                    value_question(needles[asked].name), (str(needles[asked].value),), others)

    def _multivalue(self, length: int, sample: int) -> Case:
        name = self.needles.name()
        needles = [Needle(name, self.needles.value()) for _ in range(VALUES)]
        question = (f"The constant {name} is assigned several times in this repository, each "
                    f"time with a different value. List every value assigned to {name}, "
                    "separated by commas.")
        depths = self._depths(length, VALUES)
        return Case("multivalue", length, None, sample,
                    self._insert(length, list(zip(needles, depths, strict=True))), question,
                    tuple(str(n.value) for n in needles), max_tokens=64)

    def _chain(self, value: int, count: int) -> list[Needle]:
        names = [self.needles.name() for _ in range(count)]
        return [Needle(names[0], value),
                *(Needle(names[i], None, names[i - 1]) for i in range(1, count))]

    def _vartrack(self, length: int, sample: int) -> Case:
        value = self.needles.value()
        chain = self._chain(value, CHAIN)
        decoy = self._chain(self.needles.value(), CHAIN - 1)
        placed = [*zip(chain, self._depths(length, CHAIN), strict=True),
                  *zip(decoy, self._depths(length, CHAIN - 1), strict=True)]
        question = (f"In this repository one constant is set to {value}, and other constants "
                    "are set from it, each from the one before. List the names of every "
                    f"constant whose value is {value}, separated by commas.")
        return Case("vartrack", length, None, sample, self._insert(length, placed), question,
                    tuple(n.name for n in chain), tuple(n.name for n in decoy), max_tokens=96)
