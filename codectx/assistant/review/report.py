"""A review as data for other tools: JSON, and SARIF 2.1.0 for code-scanning tools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sarif_pydantic import (
    ArtifactLocation,
    Level,
    Location,
    Message,
    PhysicalLocation,
    Region,
    ReportingDescriptor,
    Result,
    Run,
    Sarif,
    Tool,
    ToolDriver,
)

from codectx import __version__
from codectx.assistant.review.findings import Finding, Severity, reaches

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULE = "codectx-review"
PARSE_RULE = "codectx-parse"
_LEVELS: dict[Severity, Level] = {"error": Level.ERROR, "warning": Level.WARNING,
                                  "note": Level.NOTE}


def review_json(findings: list[Finding], dropped: list[tuple[Finding, str]],
                notes: tuple[str, ...], fail_on: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "findings": [f.to_json() for f in findings],
        "dropped": [{**f.to_json(), "reason": reason} for f, reason in dropped],
        "notes": list(notes),
        "fail_on": fail_on,
        "failed": any(reaches(f.severity, fail_on) for f in findings),
        **extra,
    }


def by_file(findings: list[Finding]) -> list[tuple[str | None, list[Finding]]]:
    """Findings grouped by file, the files in the order they first come, each file's by
    line (None: the notes about the review itself)."""
    grouped: dict[str | None, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.path, []).append(finding)
    return [(path, sorted(group, key=lambda f: f.line or 0))
            for path, group in grouped.items()]


def found_by_note(finding: Finding) -> str:
    """What found a finding, said after it where that is not the model."""
    return "" if finding.found_by == "model" else f" (found by {finding.found_by})"


def review_markdown(findings: list[Finding], lines: Callable[[str, int], str | None],
                    summary: str) -> str:
    """Findings as markdown, grouped by file, each under its code line (`lines(path, n)`)."""
    parts = [summary]
    for path, group in by_file(findings):
        parts.append(f"**{path}**" if path else "**the review**")
        for finding in group:
            where = f"line {finding.line}: " if finding.line else ""
            parts.append(f"- {where}**{finding.severity}**: {finding.message}"
                         f"{found_by_note(finding)}")
            code = lines(path, finding.line) if path and finding.line else None
            if code and code.strip():
                parts.append(f"\n  ```\n  {code.strip()}\n  ```")
    return "\n\n".join(parts)


def _rule(finding: Finding) -> str:
    """The SARIF rule of a finding: the model's, the parse check's, or its analyzer's."""
    if finding.found_by == "model":
        return RULE
    if finding.found_by == "parser":
        return PARSE_RULE
    return "codectx-" + finding.found_by.replace(" ", "-")


def review_sarif(findings: list[Finding], notes: tuple[str, ...]) -> dict[str, Any]:
    results = []
    for finding in findings:
        locations = None
        if finding.path is not None:
            region = Region(start_line=finding.line) if finding.line else None
            locations = [Location(physical_location=PhysicalLocation(
                artifact_location=ArtifactLocation(uri=finding.path), region=region))]
        results.append(Result(rule_id=_rule(finding), level=_LEVELS[finding.severity],
                              message=Message(text=finding.message), locations=locations))
    rules = [
        ReportingDescriptor(id=RULE, name="CodeReview", short_description=Message(
            text="A problem found by a review of the change with the whole repository in view")),
        ReportingDescriptor(id=PARSE_RULE, name="ParseError", short_description=Message(
            text="A changed file that no longer parses, found without the model")),
    ]
    rules += [ReportingDescriptor(id=rule, short_description=Message(
        text=f"Found without the model by {found_by}, on the change's lines"))
        for found_by, rule in sorted({(f.found_by, _rule(f)) for f in findings
                                      if _rule(f) not in (RULE, PARSE_RULE)})]
    driver = ToolDriver(name="codectx", version=__version__, rules=rules)
    log = Sarif(schema_uri=SARIF_SCHEMA, version="2.1.0", runs=[Run(
        tool=Tool(driver=driver), results=results,
        properties={"notes": list(notes)} if notes else None)])
    dumped: dict[str, Any] = log.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped
