"""The project checkers of a review (cargo check, go vet, tsc): what the change adds, on
its lines; and never run where they would do what an untrusted repository chooses."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from codectx.assistant.review import change as changes
from codectx.assistant.review.change import ChangedFile
from codectx.assistant.review.findings import Finding
from codectx.assistant.review.projects import checkers, project_findings
from codectx.assistant.review.syntax import versions
from tests.conftest import installed_tools, make_repo, stage

LIB = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
BROKEN = "pub fn add(a: i32, b: i32) -> i32 {\n    a.plus(b)\n}\n"
CARGO = '[package]\nname = "adder"\nversion = "0.1.0"\nedition = "2021"\n'

# A checker that reports, for each line of the files it is about that holds a marked
# word, a diagnostic in its own output format.
FAKE = '''\
import json, os, pathlib, sys
kind, word = {kind!r}, {word!r}
for path in sorted(pathlib.Path(".").rglob("*")):
    if path.suffix not in (".rs", ".go", ".ts") or not path.is_file():
        continue
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for found in (w for w in (word, "OLD") if w in line):
            if kind == "tsc":
                print(f"{{path}}({{number}},5): error TS2339: Property '{{found}}' does not exist.")
            elif kind == "go":
                print(f"./{{path}}:{{number}}:2: suspicious {{found}}", file=sys.stderr)
sys.exit(1)
'''


def fake(tools: Path, name: str, kind: str, word: str) -> None:
    script = tools / name
    script.write_text(f"#!{sys.executable}\n" + FAKE.format(kind=kind, word=word))
    script.chmod(0o755)


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory first on the PATH, before the real one (cargo, go)."""
    return installed_tools(tmp_path, monkeypatch, after=os.environ["PATH"])


Versions = list[tuple[ChangedFile, str | None, str]]


def staged(tmp_path: Path, files: dict[str, str], changed: dict[str, str],
           ) -> tuple[Path, Versions]:
    make_repo(tmp_path / "r", files).close()
    root = tmp_path / "r"
    stage(root, changed)
    change = changes.staged(root)
    return root, versions(root, change, lambda f: True)


def where(found: list[Finding]) -> list[tuple[str | None, int | None, str, str]]:
    return [(f.path, f.line, f.severity, f.found_by) for f in found]


def test_cargo_check_finds_what_the_change_breaks_in_a_trusted_repository(
        tmp_path: Path) -> None:
    root, files = staged(tmp_path, {"Cargo.toml": CARGO, "src/lib.rs": LIB},
                         {"src/lib.rs": BROKEN})
    found, notes = project_findings(root, files, True, tmp_path / "builds")
    assert notes == []
    assert where(found) == [("src/lib.rs", 2, "error", "cargo check E0599")]
    assert "no method named `plus`" in found[0].message
    assert not (root / "target").exists()  # build output stays in codectx's cache
    quiet, _ = project_findings(root, [(files[0][0], BROKEN, BROKEN)], True,
                                tmp_path / "builds")
    assert quiet == []  # the error was there before: not the change's


def test_an_untrusted_repository_runs_no_cargo_and_says_so(tmp_path: Path) -> None:
    root, files = staged(tmp_path, {"Cargo.toml": CARGO, "src/lib.rs": LIB},
                         {"src/lib.rs": BROKEN})
    found, notes = project_findings(root, files, False, None)
    assert found == []
    assert len(notes) == 1 and notes[0].startswith("cargo check was not run")
    assert "codectx trust" in notes[0]


def test_tsc_on_the_path_reports_only_new_diagnostics_on_changed_lines(
        tmp_path: Path, tools: Path) -> None:
    fake(tools, "tsc", "tsc", "NEW")
    before = "const a = 1; // OLD\nconst b = 2;\nconst c = 3;\n"
    after = "const a = 1; // OLD\nconst b = NEW;\nconst c = 3;\n"
    root, files = staged(tmp_path, {"tsconfig.json": "{}", "src/a.ts": before},
                         {"src/a.ts": after})
    found, notes = project_findings(root, files, False, None)  # reads nothing outside
    assert notes == []
    assert where(found) == [("src/a.ts", 2, "error", "tsc TS2339")]
    assert found[0].message == "Property 'NEW' does not exist. (TS2339)"


def test_tsc_waits_for_trust_where_tsconfig_reaches_outside(tmp_path: Path,
                                                            tools: Path) -> None:
    fake(tools, "tsc", "tsc", "NEW")
    config = json.dumps({"extends": "../../shared/tsconfig.base.json"})
    root, files = staged(tmp_path, {"tsconfig.json": config, "a.ts": "let x = 1;\n"},
                         {"a.ts": "let x = NEW;\n"})
    found, notes = project_findings(root, files, False, None)
    assert found == [] and notes[0].startswith("tsc was not run")
    trusted, _ = project_findings(root, files, True, None)
    assert where(trusted) == [("a.ts", 1, "error", "tsc TS2339")]


def test_go_vet_runs_offline_and_a_failure_without_diagnostics_is_named(
        tmp_path: Path, tools: Path) -> None:
    fake(tools, "go", "go", "NEW")
    root, files = staged(tmp_path, {"go.mod": "module m\n", "m.go": "package m\n"},
                         {"m.go": "package m\n// NEW\n"})
    (check,) = [c.check for c in checkers(root, ["m.go"])]
    assert ("GOPROXY", "off") in check.env and ("GOTOOLCHAIN", "local") in check.env
    found, notes = project_findings(root, files, False, None)
    assert where(found) == [("m.go", 2, "warning", "go vet vet")]
    (tools / "go").write_text("#!/bin/sh\necho 'go: cannot find main module' >&2\nexit 1\n")
    found, notes = project_findings(root, files, False, None)
    assert found == []
    assert notes == ["go vet could not check the change: it failed without a diagnostic "
                     "(go: cannot find main module)"]


def test_no_checker_for_files_it_is_not_about_or_where_none_is_installed(
        tmp_path: Path, tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake(tools, "tsc", "tsc", "NEW")
    root = tmp_path / "r"
    make_repo(root, {"tsconfig.json": "{}", "Cargo.toml": CARGO, "a.py": "x = 1\n"})
    assert checkers(root, ["a.py"]) == []
    monkeypatch.setenv("PATH", str(tools))  # no cargo, no go
    assert [c.name for c in checkers(root, ["a.ts", "src/lib.rs", "m.go"])] == ["tsc"]
    monkeypatch.setenv("PATH", f"relative-bin{os.pathsep}{tools}")
    (root / "relative-bin").mkdir()
    fake(root / "relative-bin", "cargo", "go", "NEW")  # the repository's own: never found
    assert [c.name for c in checkers(root, ["src/lib.rs"])] == []
