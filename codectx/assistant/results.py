"""What the Session hands the front ends: frozen results of a question, an edit, a review."""

from __future__ import annotations

from dataclasses import dataclass

from codectx.assistant.checks.run import CheckResult
from codectx.assistant.edits.plan import EditPlan
from codectx.assistant.retrieval import Retrieved
from codectx.assistant.review.change import Change
from codectx.assistant.review.findings import Finding
from codectx.models.backend import Completion


@dataclass(frozen=True)
class Answer(Completion):
    """A completion, timed from the question (indexing and model loading included)."""

    model: str = ""
    retrieved: tuple[Retrieved, ...] = ()
    """The files that went with the question in full, after the prefix, and why."""
    prefix_tokens: int = 0
    """How the prompt divides: the cached prefix (instructions and repository), ..."""
    retrieved_tokens: int = 0
    """... the retrieved files, ..."""
    shown_tokens: int = 0
    """... the files shown in full by request (pinned, or to be changed), ..."""
    conversation_tokens: int = 0
    """... the earlier turns, ..."""
    question_tokens: int = 0
    """... and the question (an edit's instructions included)."""
    asked: str = ""
    """The question as the model got it, its retrieved files before it."""
    expected_s: float | None = None
    """What the speed model measured here expected this turn to take, as it ran (None: no
    speed model, as with a server)."""

    @property
    def evaluated_split(self) -> dict[str, int]:
        """The evaluated tokens by part: the prefix's that were not reused, then the rest
        of the prompt (never cached), then the reply."""
        prefix = max(0, min(self.evaluated_tokens, self.prefix_tokens - self.reused_tokens))
        return {"prefix": prefix, "retrieved": self.retrieved_tokens,
                "shown": self.shown_tokens, "conversation": self.conversation_tokens,
                "question": self.question_tokens, "reply": self.generated_tokens}

    @property
    def tokens_per_s(self) -> float:
        gen_s = self.total_s - self.ttft_s
        return self.generated_tokens / gen_s if gen_s > 0 and self.generated_tokens else 0.0


@dataclass(frozen=True)
class EditProposal:
    """Planned changes (empty when the reply could not be applied) and how they came about."""

    plan: EditPlan
    attempts: int
    problems: tuple[str, ...]
    replies: tuple[str, ...]
    answer: Answer
    request: str = ""
    """What the model was last asked (a revision continues from it)."""
    instruction: str = ""
    """What the user asked for, in their words (a revision's included)."""
    checks: tuple[CheckResult, ...] = ()
    """Every check run on the attempts' changes, each marked with its attempt."""
    held_back: str | None = None
    """Checks not run because the repository is not trusted, said in a line."""
    checked: bool = False
    """Whether checks were on for this edit."""
    checks_attempt: int = 0
    """The attempt whose change `plan` is (0: the last)."""
    attempt_problems: tuple[tuple[str, ...], ...] = ()
    """What was wrong with each attempt's reply (empty for one that could be applied)."""

    @property
    def plan_checks(self) -> tuple[CheckResult, ...]:
        """The checks run on the change this proposal holds."""
        attempt = self.checks_attempt or self.attempts
        return tuple(c for c in self.checks if c.attempt == attempt)

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        """The checks the change on offer failed (applied only when the user says so)."""
        return tuple(c for c in self.plan_checks if c.failed)


@dataclass(frozen=True)
class Review:
    """What a review found in a change; `answer` is None when there was nothing to review."""

    change: Change
    findings: list[Finding]
    dropped: list[tuple[Finding, str]]
    notes: tuple[str, ...]
    answer: Answer | None

    def markdown(self) -> str:
        """The findings as markdown, each under its code line, after a one-line summary."""
        from codectx.assistant.review.report import review_markdown

        count = len(self.findings)
        summary = (f"{count} finding(s) in {self.change.description}" if count
                   else f"no findings in {self.change.description}")

        def line(path: str, number: int) -> str | None:
            changed = self.change.file(path)
            return changed.text_at(number) if changed else None

        return review_markdown(self.findings, line, summary)
