"""How much each turn may hold, from how long the user waits and how fast this machine is.

The context says how much a turn may hold; the machine says how much it can afford.
On a GPU a 30k-token prefix costs seconds and the whole context is the right size; on
a 2-core CPU it costs minutes, and every token of it slows each later token. So the
sizes come from time targets (`first_answer_seconds`, `question_seconds`,
`edit_seconds`) and the measured speed model (`models/runtime/speed.py`):

- the prefix: the deepest one whose first prefill and first question fit the first
  answer's target, and at whose depth a question with its retrieved text still fits the
  question's target;
- retrieval: what a question may evaluate after that prefix within its target;
- an edit's view: the tokens of files an edit may show after the prefix within its target.

Every size stays within the context. Where time does not bind (a fast machine), the
caps reach the context and the room is shared as before. Pure: table-tested.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from codectx.models.runtime.speed import Speed
from codectx.settings import Settings

QUESTION_TOKENS = 96
"""A question's own tokens and the chat template around it, typically."""
ANSWER_TOKENS = 256
"""A typical answer's length, for expected times (the longest is `max_answer_tokens`)."""
EDIT_REQUEST_TOKENS = 400
"""An edit's instructions and format example."""
EDIT_REPLY_TOKENS = 400
"""A typical edit reply: a definition or two written out."""
MIN_RETRIEVAL = 1024
"""What a question is planned to retrieve at least when the repository does not fit: room
for the definitions it names."""
MIN_PREFIX = 2048
"""The smallest prefix planned: below it, a map of the repository says too little."""
PROMPT_OVERHEAD = 512
"""The instructions, the chat template's pieces and the question, roughly."""
RETRY_ROOM = 2048
"""An edit's retry, which carries the first reply and what failed."""
MIN_VIEW = 1024
"""The smallest view of the files an edit changes."""


def prompt_limit(context_limit: int, answer_tokens: int) -> int:
    """The longest prompt a context of `context_limit` tokens takes with room for an
    answer of `answer_tokens`."""
    return max(context_limit - answer_tokens, 1)


def repository_budget(context_limit: int, answer_tokens: int) -> int:
    """The tokens the repository may take: the prompt limit less room for the
    instructions, the question and one edit retry's exchange."""
    return prompt_limit(context_limit, answer_tokens) - PROMPT_OVERHEAD - RETRY_ROOM


@dataclass(frozen=True)
class Targets:
    """Seconds a user waits; 0 leaves that kind of turn unbounded by time."""

    first_answer: float = 300.0
    question: float = 30.0
    edit: float = 120.0

    @classmethod
    def of(cls, settings: Settings) -> Targets:
        return cls(settings.first_answer_seconds, settings.question_seconds,
                   settings.edit_seconds)

    @property
    def any(self) -> bool:
        return bool(self.first_answer or self.question or self.edit)


@dataclass(frozen=True)
class TurnSizes:
    """The caps a turn's parts are held to, and what they are expected to cost."""

    prefix: int
    """Tokens of the repository's prefix when questions retrieve."""
    prefix_alone: int
    """Tokens of the prefix when the repository fits in it whole (nothing is retrieved)."""
    retrieval: int
    """Tokens a question may retrieve after the prefix."""
    edit_view: int
    """Tokens of files an edit may show after the prefix."""
    by_time: bool
    """False: sized by the context alone (no speed model, or no targets)."""
    expected: dict[str, float] = field(default_factory=dict)
    """Seconds expected for "prefill", "first_answer", "question" and "edit" (by_time only)."""
    notes: tuple[str, ...] = ()
    """Targets that cannot be met even at the smallest sizes, with the expected time."""


def _largest(fits: Callable[[int], bool], low: int, high: int) -> int:
    """The largest n in [low, high] with fits(n), for fits true up to some n then false;
    `low` when none fits."""
    if high <= low or not fits(low):
        return low
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def plan(speed: Speed | None, limit: int, targets: Targets) -> TurnSizes:
    """The caps for a context of `limit` tokens for the repository and what a turn adds
    (the answer's room excluded)."""
    if speed is None or not targets.any:
        return TurnSizes(limit, limit, limit, limit, by_time=False)

    def question_s(prefix: int, retrieved: int) -> float:
        return speed.turn_s(prefix, retrieved + QUESTION_TOKENS, ANSWER_TOKENS)

    def within(seconds: float, target: float) -> bool:
        return not target or seconds <= target

    def prefix_fits(retrieved: int) -> Callable[[int], bool]:
        def fits(prefix: int) -> bool:
            question = question_s(prefix, retrieved)
            return (within(question, targets.question)
                    and within(speed.prefill_s(0, prefix) + question, targets.first_answer))
        return fits

    floor = min(MIN_PREFIX, limit)
    prefix = _largest(prefix_fits(MIN_RETRIEVAL), floor, max(floor, limit - MIN_RETRIEVAL))
    alone = _largest(prefix_fits(0), floor, limit)
    room = max(limit - prefix, 0)
    retrieval = _largest(lambda r: within(question_s(prefix, r), targets.question),
                         min(MIN_RETRIEVAL, room), room)

    def edit_s(view: int) -> float:
        return speed.turn_s(prefix, view + EDIT_REQUEST_TOKENS, EDIT_REPLY_TOKENS)

    view = _largest(lambda v: within(edit_s(v), targets.edit), min(MIN_VIEW, room), room)
    expected = {"prefill": speed.prefill_s(0, prefix),
                "question": question_s(prefix, retrieval), "edit": edit_s(view)}
    expected["first_answer"] = expected["prefill"] + expected["question"]
    notes = []
    for kind, target in (("first_answer", targets.first_answer),
                         ("question", targets.question), ("edit", targets.edit)):
        if target and expected[kind] > target * 1.01:
            notes.append(f"the {kind.replace('_', ' ')} is expected to take "
                         f"{expected[kind]:,.0f} s even at the smallest sizes, over the "
                         f"{target:,.0f} s target ({speed.describe()})")
    return TurnSizes(prefix, alone, retrieval, view, True, expected, tuple(notes))
