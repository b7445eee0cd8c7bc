"""Dependencies first; among files free to go next, the most stable first."""

from __future__ import annotations

from pathlib import Path

from codectx.indexer.order import dependency_graph, prompt_order, volatility
from tests.conftest import commit, index, make_repo, write_tree


def test_files_changed_often_and_recently_go_last(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "A = 0\n", "b.py": "B = 0\n", "c.py": "C = 0\n",
                                       "README.md": "# r\n"})
    for i in range(5):
        commit(repo, {"b.py": f"B = {i + 1}\n"})
    commit(repo, {"README.md": "# r, again\n"})
    order = [f.path for f in index(tmp_path / "r").files]
    assert order == ["a.py", "c.py", "README.md", "b.py"]


def test_uncommitted_edits_and_new_files_count_as_one_more_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "A = 0\n", "b.py": "B = 0\n", "c.py": "C = 0\n"})
    commit(repo, {"c.py": "C = 1\n"})
    write_tree(tmp_path / "r", {"a.py": "A = 2\n", "new.py": "N = 1\n"})
    order = [f.path for f in index(tmp_path / "r").files]
    # one change each (b.py: added; new.py: untracked), then two (a.py: edited; c.py: committed)
    assert order == ["b.py", "new.py", "a.py", "c.py"]


def test_a_dependency_precedes_its_dependent_however_volatile_it_is(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": "import hot\n", "hot.py": "H = 0\n",
                                       "calm.py": "C = 0\n"})
    for i in range(3):
        commit(repo, {"hot.py": f"H = {i}\n"})
    order = [f.path for f in index(tmp_path / "r").files]
    assert order.index("hot.py") < order.index("app.py")
    assert order[0] == "calm.py"


def test_volatility_classes_move_only_when_a_count_doubles() -> None:
    history = [["a.py", "b.py"], ["b.py"], ["b.py"], ["c.py"], ["c.py"], ["c.py"], ["c.py"]]
    score = volatility(history, pending=["a.py"], untracked=["new.py"])
    assert score == {"a.py": 2, "b.py": 2, "c.py": 3, "new.py": 1}
    # one more change to b.py (3 -> 4 changes) moves it up a class; c.py's fifth does not
    more = volatility([["b.py", "c.py"], *history], pending=["a.py"], untracked=["new.py"])
    assert more["b.py"] == 3 and more["c.py"] == 3


def test_committing_a_pending_change_keeps_the_order(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "A = 0\n", "b.py": "B = 0\n", "c.py": "C = 0\n"})
    commit(repo, {"a.py": "A = 1\n"})
    write_tree(tmp_path / "r", {"b.py": "B = 1\n", "d.py": "D = 1\n"})
    before = [f.path for f in index(tmp_path / "r").files]
    commit(repo, {"b.py": "B = 1\n", "d.py": "D = 1\n"})
    after = [f.path for f in index(tmp_path / "r").files]
    assert before == after == ["c.py", "d.py", "a.py", "b.py"]


def test_a_cycle_stays_together_as_volatile_as_its_most_volatile_member() -> None:
    graph = dependency_graph({"a": ["b"], "b": ["a"], "c": [], "d": ["c"]})
    order = prompt_order(graph, {"a": 2, "b": 0, "c": 1})
    assert order == ["c", "d", "b", "a"]


def test_history_of_a_subdirectory_is_its_own(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"sub/x.py": "X = 0\n", "sub/y.py": "Y = 0\n", "top.py": ""})
    for i in range(3):
        commit(repo, {"sub/x.py": f"X = {i}\n", "top.py": f"# {i}\n"})
    order = [f.path for f in index(tmp_path / "r" / "sub").files]
    assert order == ["y.py", "x.py"]
