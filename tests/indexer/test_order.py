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


def test_uncommitted_and_untracked_files_count_as_the_most_volatile(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "A = 0\n", "b.py": "B = 0\n", "c.py": "C = 0\n"})
    commit(repo, {"c.py": "C = 1\n"})
    write_tree(tmp_path / "r", {"a.py": "A = 2\n", "new.py": "N = 1\n"})
    order = [f.path for f in index(tmp_path / "r").files]
    assert order[:2] == ["b.py", "c.py"]
    assert sorted(order[2:]) == ["a.py", "new.py"]


def test_a_dependency_precedes_its_dependent_however_volatile_it_is(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"app.py": "import hot\n", "hot.py": "H = 0\n",
                                       "calm.py": "C = 0\n"})
    for i in range(3):
        commit(repo, {"hot.py": f"H = {i}\n"})
    order = [f.path for f in index(tmp_path / "r").files]
    assert order.index("hot.py") < order.index("app.py")
    assert order[0] == "calm.py"


def test_volatility_weighs_recency_and_frequency() -> None:
    history = [["new.py"], ["old.py"], ["old.py"], ["old.py"]] + [[]] * 200 + [["ancient.py"]]
    score = volatility(history, [], [])
    assert score["old.py"] > score["new.py"] > score["ancient.py"] > 0


def test_a_cycle_stays_together_and_goes_by_its_total_volatility() -> None:
    graph = dependency_graph({"a": ["b"], "b": ["a"], "c": [], "d": ["c"]})
    order = prompt_order(graph, {"a": 1.0, "b": 0.0, "c": 0.5})
    assert order == ["c", "d", "b", "a"]


def test_history_of_a_subdirectory_is_its_own(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"sub/x.py": "X = 0\n", "sub/y.py": "Y = 0\n", "top.py": ""})
    for i in range(3):
        commit(repo, {"sub/x.py": f"X = {i}\n", "top.py": f"# {i}\n"})
    order = [f.path for f in index(tmp_path / "r" / "sub").files]
    assert order == ["y.py", "x.py"]
