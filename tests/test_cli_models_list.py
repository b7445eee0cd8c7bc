"""`codectx models list`: every model's name whole, whatever the terminal's width."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from codectx.cli import main
from codectx.cli.models import ModelsListing, models_table
from codectx.models.catalog import catalog

NAMES = [model.name for model in catalog().values()]
LONGEST = max(NAMES, key=len)


def _render(width: int, models_dir: Path) -> str:
    return _print(width, models_table(models_dir))


def _print(width: int, listing: ModelsListing) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width).print(listing)
    return buffer.getvalue()


def _lines_naming(text: str) -> list[str]:
    """The catalog names each output line holds whole (a name on a line of its own, or a
    table's cell), in order."""
    found = []
    for line in text.splitlines():
        words = line.replace("│", " ").split()
        found += [word for word in words if word in NAMES]
    return found


@pytest.mark.parametrize("width", [200, 100, 80, 60])
def test_every_name_is_whole_at_any_width(tmp_path: Path, width: int) -> None:
    text = _render(width, tmp_path / "models")
    assert len(LONGEST) > 30  # a name long enough to be cut in a narrow table
    assert _lines_naming(text) == NAMES
    assert "…" not in text  # nothing is cut, in the name or any other column
    assert all(len(line) <= width for line in text.splitlines())
    # What each row says is there too: the context and where the model comes from.
    flat = " ".join(text.split())
    assert "1,048,576" in flat and "no: models pull" in flat


def test_no_width_cuts_a_cell_where_the_table_would_have_to_squeeze_a_long_word() -> None:
    # A long unbreakable word in the last column: a table a little narrower than its natural
    # width would cut it, so such widths get a block per model instead.
    listing = ModelsListing([
        (LONGEST, "1,048,576", "q4_0", "search-replace", "4.6 GiB", "no: models pull"),
        ("qwen2.5-coder-1.5b-instruct", "32,768", "f16", "definitions", "1.0 GiB",
         "yes (codectx[model-1.5b-with-a-long-extra-name])")])
    for width in range(50, 161):
        text = _print(width, listing)
        assert "…" not in text, width
        assert LONGEST in text.split() or f"│ {LONGEST} " in text, width
        assert "(codectx[model-1.5b-with-a-long-extra-name])" in text, width


def test_a_wide_terminal_gets_a_table_and_a_narrow_one_a_block_per_model(
    tmp_path: Path,
) -> None:
    wide, narrow = _render(200, tmp_path), _render(80, tmp_path)
    assert "┃ name" in wide and "available here" in wide
    assert "┃" not in narrow and "│" not in narrow
    block = narrow.split(LONGEST)[1].splitlines()
    assert block[0] == ""  # the name is the whole line
    assert block[1].startswith("  context 1,048,576 · KV q4_0")
    assert block[2].strip().startswith("available here: no: models pull")


@pytest.mark.parametrize("columns", ["80", "60"])
def test_the_command_keeps_names_whole_in_a_narrow_terminal(columns: str) -> None:
    result = CliRunner().invoke(main, ["models", "list"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    assert _lines_naming(result.output) == NAMES
    assert "…" not in result.output
