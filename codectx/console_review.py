"""What `codectx review` and the hook show: findings grouped by file, with the code line."""

from __future__ import annotations

from collections import Counter

from rich.text import Text

from codectx.assistant.review.findings import Finding, reaches
from codectx.assistant.session import Review
from codectx.console import err, out

STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def count_line(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
             for s in ("error", "warning", "note") if counts[s]]
    return ", ".join(parts)


def print_review(review: Review, fail_on: str, prefix: str = "") -> None:
    """Findings on stdout, grouped by file; the summary and notes on stderr."""
    by_file: dict[str | None, list[Finding]] = {}
    for finding in review.findings:
        by_file.setdefault(finding.path, []).append(finding)
    for path, findings in by_file.items():
        if path is not None:
            out.print(Text(path, style="bold underline"))
        changed = review.change.file(path) if path is not None else None
        for finding in sorted(findings, key=lambda f: f.line or 0):
            if finding.line is not None:
                code = changed.text_at(finding.line) if changed else None
                out.print(Text.assemble((f"{finding.line:>6} │ ", "dim"), code or ""))
            indent = "         " if finding.line is not None else "  "
            out.print(Text.assemble(indent, (finding.severity, STYLES[finding.severity]),
                                    f": {finding.message}"))
        out.print()
    reviewed = len(review.change.reviewable)
    summary = f"{prefix}{count_line(review.findings)} in {review.change.description}"
    if review.answer is not None:
        answer = review.answer
        summary += (f" ({reviewed} file(s); {answer.model}; prompt {answer.prompt_tokens:,} "
                    f"tokens, {answer.reused_tokens:,} reused; {answer.total_s:.1f} s)")
    err.print(summary, markup=False, highlight=False, soft_wrap=True)
    for note in review.notes:
        err.print(f"{prefix}note: {note}", markup=False, highlight=False, soft_wrap=True)
    failing = [f for f in review.findings if reaches(f.severity, fail_on)]
    if failing:
        err.print(f"{prefix}{len(failing)} finding(s) at --fail-on {fail_on} or above",
                  markup=False, highlight=False, soft_wrap=True)
