"""How long tokens take on this machine, as a function of how deep in the context they are.

Every token a model evaluates attends to every token before it, so on a CPU the cost
of a token grows with its position: the embedded model prefills about 110 tokens/s at
2k tokens of depth and 80 at 8k on a 2-core machine, and generates 30 and 17. A line
of seconds per token against depth fits that well, for the prompt and for generation
alike; integrated, it says what a span of the prompt costs wherever it stands, and
inverted, how many tokens a number of seconds buys from a given depth. Sizes of
prompts, retrieval and edit views come from it (`models/sizing.py`). Pure: the
measurement itself is in `tuning.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """Seconds per token at depth d: `base` + `slope` * d."""

    base: float
    slope: float = 0.0

    def at(self, depth: float) -> float:
        return self.base + self.slope * depth

    def per_s(self, depth: float) -> float:
        """Tokens per second at this depth."""
        return 1.0 / self.at(depth)

    def span(self, start: float, end: float) -> float:
        """Seconds for the tokens from position `start` to `end`, one after another."""
        if end <= start:
            return 0.0
        return self.base * (end - start) + self.slope * (end * end - start * start) / 2


def fit(points: Sequence[tuple[float, float]]) -> Line:
    """The least-squares line through (depth, seconds per token) points; a slope that
    comes out negative (noise over a short range) is taken as flat."""
    if not points:
        raise ValueError("no points to fit")
    n = len(points)
    mean_d = sum(d for d, _ in points) / n
    mean_s = sum(s for _, s in points) / n
    spread = sum((d - mean_d) ** 2 for d, _ in points)
    slope = sum((d - mean_d) * (s - mean_s) for d, s in points) / spread if spread else 0.0
    if slope <= 0:
        return Line(mean_s, 0.0)
    return Line(max(mean_s - slope * mean_d, mean_s * 0.05), slope)


@dataclass(frozen=True)
class Speed:
    """This model on this machine: the prompt's cost and generation's, against depth."""

    prefill: Line
    generate: Line
    source: str
    """Where the figures come from: a measurement (when, how deep), or the default."""
    measured: bool = True

    def prefill_s(self, start: int, end: int) -> float:
        return self.prefill.span(start, end)

    def generate_s(self, depth: int, tokens: int) -> float:
        return self.generate.span(depth, depth + tokens)

    def turn_s(self, depth: int, evaluated: int, generated: int) -> float:
        """A turn that evaluates `evaluated` tokens after `depth` cached ones, then
        generates `generated`."""
        return (self.prefill_s(depth, depth + evaluated)
                + self.generate_s(depth + evaluated, generated))

    def describe(self) -> str:
        return (f"prefill {self.prefill.per_s(2048):,.0f} tok/s at 2k tokens deep, "
                f"{self.prefill.per_s(8192):,.0f} at 8k, {self.prefill.per_s(32768):,.0f} at "
                f"32k; generation {self.generate.per_s(2048):,.1f}, "
                f"{self.generate.per_s(8192):,.1f} and {self.generate.per_s(32768):,.1f} "
                f"({self.source})")

    def to_json(self) -> dict[str, object]:
        return {"prefill": [self.prefill.base, self.prefill.slope],
                "generate": [self.generate.base, self.generate.slope],
                "source": self.source, "measured": self.measured}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Speed:
        prefill, generate = data["prefill"], data["generate"]
        if not (isinstance(prefill, list) and isinstance(generate, list)):
            raise ValueError("not a speed")
        return cls(Line(float(prefill[0]), float(prefill[1])),
                   Line(float(generate[0]), float(generate[1])), str(data["source"]),
                   bool(data.get("measured", True)))


# When nothing could be measured (no model loaded yet, a cancelled measurement): slower
# than a 2-core CPU with a 0.5B model measures (prefill 110 tok/s at 2k, 80 at 8k;
# generation 26 and 17), so a plan made from it errs on the short side.
CONSERVATIVE = Speed(Line(1 / 60, 1.0 / 60 / 8192), Line(1 / 15, 1 / 15 / 8192),
                     "a conservative default: not measured on this machine", measured=False)
