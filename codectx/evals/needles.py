"""Needles: code-shaped facts with random names and values, written in a file's language.

A needle is a constant assignment (`MAX_SHARD_WEIGHT = 4817203` in Python,
`#define MAX_SHARD_WEIGHT 4817203` in C, `const MAX_SHARD_WEIGHT = 4817203;`
in JavaScript...) or, for variable tracking, an assignment from another
constant. Names are three words from a vocabulary plus a random tag, values
seven digits; both come from a seeded generator, so a run can be repeated
exactly and a model cannot have memorized the answer.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from codectx.indexer.languages import LANGUAGES, spec

# language -> (assignment of a value, assignment from another constant); {n}: name,
# {v}: value, {o}: the other constant's name. Each form is written in its language's record.
FORMS: dict[str, tuple[str, str]] = {
    name: (record.needle_value, record.needle_copy) for name, record in LANGUAGES.items()
}

WORDS = (
    "ALPHA", "AMBER", "ANCHOR", "BASALT", "BEACON", "BRIDGE", "CANYON", "CEDAR", "CIPHER",
    "COBALT", "COMET", "CORAL", "DELTA", "DRIFT", "EMBER", "FALCON", "FJORD", "GARNET",
    "GLACIER", "HARBOR", "HELIX", "INDIGO", "JADE", "KESTREL", "LANTERN", "MAPLE", "MERIDIAN",
    "NEBULA", "OBSIDIAN", "ORBIT", "PRISM", "QUARTZ", "RAVEN", "SAFFRON", "SIERRA", "TALON",
    "TUNDRA", "UMBRA", "VELVET", "WILLOW", "ZENITH", "ZEPHYR",
)


@dataclass(frozen=True)
class Needle:
    name: str
    value: int | None
    """The value assigned, or None for an assignment from `source`."""
    source: str | None = None

    def line(self, language: str) -> str:
        record = spec(language)  # a label no record has is written as plain text
        if self.value is not None:
            return record.needle_value.format(n=self.name, v=self.value)
        return record.needle_copy.format(n=self.name, o=self.source)


class NeedleMaker:
    """Fresh names and values from one seeded generator; never a name the haystack has."""

    def __init__(self, seed: int, avoid: str = "") -> None:
        self.random = random.Random(seed)
        self.avoid = avoid
        self.used: set[str] = set()

    def name(self) -> str:
        while True:
            words = self.random.sample(WORDS, 2)
            tag = "".join(self.random.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=2))
            name = f"{words[0]}_{words[1]}_{tag}"
            if name not in self.used and name not in self.avoid:
                self.used.add(name)
                return name

    def value(self) -> int:
        return self.random.randrange(1_000_000, 10_000_000)

    def constant(self) -> Needle:
        return Needle(self.name(), self.value())


def numbers_in(answer: str) -> set[int]:
    """Every integer an answer mentions (digit groups with , or _ separators joined)."""
    found = re.findall(r"\d[\d,_]*\d|\d", answer)
    return {int(n.replace(",", "").replace("_", "")) for n in found}


def names_in(answer: str, names: list[str]) -> list[str]:
    """Which of `names` the answer mentions as whole identifiers."""
    return [n for n in names if re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])",
                                          answer)]
