"""Needles, haystacks and scores: deterministic, in every language, at the asked depth."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx.evals.haystack import cut, insert
from codectx.evals.needles import FORMS, Needle, NeedleMaker, names_in, numbers_in
from codectx.evals.tasks import Case, CaseMaker
from codectx.indexer import languages
from codectx.indexer.result import IndexResult
from tests.conftest import index, write_tree


def make_repo(root: Path, files: int = 30) -> IndexResult:
    """A chain of small modules (each imports the one before), about 60 tokens each."""
    tree = {}
    for i in range(files):
        imports = f"from m{i - 1:02} import f{i - 1}\n\n" if i else ""
        tree[f"m{i:02}.py"] = (f'"""Module {i}."""\n{imports}\ndef f{i}(x):\n'
                               f"    y = x * {i + 2}\n    z = y - {i}\n    return z + 1\n")
    write_tree(root, tree)
    return index(root)


def test_needles_repeat_with_a_seed_and_differ_without() -> None:
    one, two, other = NeedleMaker(7), NeedleMaker(7), NeedleMaker(8)
    first = [one.constant() for _ in range(5)]
    assert first == [two.constant() for _ in range(5)]
    assert first != [other.constant() for _ in range(5)]
    assert len({n.name for n in first}) == 5
    assert all(1_000_000 <= (n.value or 0) < 10_000_000 for n in first)


def test_a_name_the_haystack_already_has_is_never_chosen() -> None:
    taken = NeedleMaker(3).name()
    assert NeedleMaker(3, avoid=f"x = {taken}\n").name() != taken


def test_every_language_the_serializer_labels_has_a_needle_form() -> None:
    labels = (set(languages.EXTENSIONS.values()) | set(languages.FILENAMES.values())
              | set(languages.GRAMMARS) | {"text"})
    assert labels <= set(FORMS)
    for language in labels:
        value = Needle("AMBER_HELIX_QX", 4817203).line(language)
        copy = Needle("RAVEN_ORBIT_ZZ", None, "AMBER_HELIX_QX").line(language)
        assert "AMBER_HELIX_QX" in value and "4817203" in value, language
        assert "RAVEN_ORBIT_ZZ" in copy and "AMBER_HELIX_QX" in copy, language


@pytest.mark.parametrize("language,wrap", [
    ("python", "{}\n"), ("javascript", "{}\n"), ("typescript", "{}\n"), ("tsx", "{}\n"),
    ("go", "package p\n{}\n"), ("rust", "{}\n"), ("java", "class A {{\n{}\n}}\n"),
    ("c", "{}\nint main(void) {{ return 0; }}\n"), ("cpp", "{}\n"),
])
def test_needles_are_valid_code_in_the_languages_with_a_grammar(language: str, wrap: str) -> None:
    from tree_sitter import Parser

    parser = Parser(languages.grammar(language))
    for needle in (Needle("AMBER_HELIX_QX", 4817203), Needle("RAVEN_ORBIT_ZZ", None, "X_Y")):
        tree = parser.parse(wrap.format(needle.line(language)).encode())
        assert not tree.root_node.has_error, (language, needle.line(language))


@pytest.mark.parametrize("answer,numbers", [
    ("4817203", {4817203}), ("The value is 4,817,203.", {4817203}),
    ("4_817_203 or 12", {4817203, 12}), ("none", set()),
])
def test_numbers_in_answers(answer: str, numbers: set[int]) -> None:
    assert numbers_in(answer) == numbers


def test_names_in_answers_are_whole_identifiers() -> None:
    names = ["AMBER_HELIX_QX", "RAVEN_ORBIT_ZZ"]
    assert names_in("AMBER_HELIX_QX, and `RAVEN_ORBIT_ZZ`", names) == names
    assert names_in("AMBER_HELIX_QXY", names) == []


def test_scores() -> None:
    def case(task: str, expected: tuple[str, ...], distractors: tuple[str, ...] = ()) -> Case:
        return Case(task, 1000, 0.5, 0, None, "q", expected, distractors)  # type: ignore[arg-type]

    assert case("niah", ("4817203",)).score("It is 4817203.") == 1.0
    assert case("niah", ("4817203",)).score("It is 4817204.") == 0.0
    multikey = case("multikey", ("4817203",), ("5550001",))
    assert multikey.score("4817203") == 1.0 and multikey.score("4817203 or 5550001") == 0.0
    assert case("multivalue", ("1000001", "1000002", "1000003", "1000004")).score(
        "1000001, 1000003") == 0.5
    assert case("vartrack", ("A_B_CD", "E_F_GH")).score("E_F_GH") == 0.5


def test_haystacks_keep_the_order_and_the_length(tmp_path: Path) -> None:
    result = make_repo(tmp_path / "r")
    order = [f.path for f in result.files]
    for length in (400, 800, 1600):
        haystack = cut(result, length)
        paths = [s.path for s in haystack.segments if s.kind == "file"]
        assert paths == [p for p in order if p in paths]  # prompt order kept
        assert 0.85 * length <= haystack.tokens <= length
        assert haystack.segments[0].kind == "header"
    assert cut(result, 10**6).tokens == sum(s.tokens for s in result.segments
                                            if s.kind != "tree")  # nothing else left out


def test_an_earlier_runs_report_is_never_in_the_haystack(tmp_path: Path) -> None:
    make_repo(tmp_path / "r")
    write_tree(tmp_path / "r", {"eval-niah.json": '{"expected": ["4817203"]}\n',
                                "docs/eval/eval-ruler.json": "{}\n"})
    result = index(tmp_path / "r")
    assert {"eval-niah.json", "docs/eval/eval-ruler.json"} <= {f.path for f in result.files}
    haystack = cut(result, 10**6)
    assert "4817203" not in haystack.text
    assert not [s for s in haystack.segments if (s.path or "").endswith("ruler.json")]


@pytest.mark.parametrize("depth", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_the_needle_lands_at_its_depth_inside_a_file(tmp_path: Path, depth: float) -> None:
    result = make_repo(tmp_path / "r")
    base = cut(result, 1600)
    needle = Needle("AMBER_HELIX_QX", 4817203)
    haystack = insert(base, [(needle, depth)], {f.path: f.language for f in result.files})
    text = haystack.text
    line = needle.line("python")
    at = text.index(line)
    assert text.count(line) == 1
    assert text[at - 1] == "\n" and text[at + len(line)] == "\n"  # a line of its own
    # Characters stand in for tokens here; the header comes first, so depth 0 is just after it.
    header = len(haystack.segments[0].text) / len(text)
    assert abs(at / len(text) - max(depth, header)) < 0.06
    placed = haystack.placed[0]
    assert abs(placed.position / haystack.tokens - max(depth, header)) < 0.06
    block = next(s.text for s in haystack.segments if line in s.text)
    assert block.index("<file") < block.index(line) < block.index("</file>")
    files = [s for s in haystack.segments if s.kind == "file"]
    if depth == 0.0:
        assert files[0].text.split("\n")[1] == line  # the first line of the first file
    if depth == 1.0:
        assert line in files[-1].text and files[-1].text.endswith(f"{line}\n</file>\n\n")


def test_ruler_cases_spread_over_files_in_order(tmp_path: Path) -> None:
    result = make_repo(tmp_path / "r")
    cases = list(CaseMaker(result, seed=1).ruler([1600], samples=1))
    assert [c.task for c in cases] == ["multikey", "multivalue", "vartrack"]
    vartrack = cases[2]
    chain = [p for p in vartrack.haystack.placed if p.needle.name in vartrack.expected]
    assert len({p.path for p in chain}) == 4  # every link in a file of its own
    positions = [vartrack.haystack.text.index(p.needle.line("python")) for p in chain]
    assert positions == sorted(positions)  # each assignment after the one it copies
    assert chain[0].needle.value is not None and str(chain[0].needle.value) in vartrack.question
    again = list(CaseMaker(result, seed=1).ruler([1600], samples=1))
    assert [c.question for c in again] == [c.question for c in cases]
