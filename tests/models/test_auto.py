"""`model = auto`: the largest installed model whose planned turns meet the time targets
at the speed measured here, else the smallest, said in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx import config
from codectx.cli import main
from codectx.errors import ModelError
from codectx.models.catalog import EMBEDDED, auto
from codectx.models.runtime.speed import Line, Speed

# Seconds per token: prefill and generation.
FAST = Speed(Line(0.001), Line(0.01), "a test: fast")
SLOW = Speed(Line(0.5), Line(2.0), "a test: slow")
LIMIT = 30_000
BIG, SMALL = "big-7b", "small-0.5b"


def loaded(tmp_path: Path) -> config.Loaded:
    """The default targets (the test environment turns them off)."""
    return config.load(tmp_path, {"first_answer_seconds": 300.0, "question_seconds": 30.0,
                                  "edit_seconds": 120.0})


def model(name: str, speed: Speed | None) -> auto.Measured:
    return auto.Measured(name, 7_000 if name == BIG else 500, speed, LIMIT)


@pytest.mark.parametrize(("models", "name", "meets", "why"), [
    ([model(SMALL, FAST)], SMALL, True, "the only model installed here"),
    ([model(SMALL, SLOW)], SMALL, False, "the only model installed here; the first answer "
                                         "is expected to take"),
    ([model(SMALL, FAST), model(BIG, FAST)], BIG, True,
     "the largest installed model whose turns meet the time targets here"),
    ([model(BIG, SLOW), model(SMALL, FAST)], SMALL, True,
     "the largest installed model whose turns meet the time targets here (big-7b: the "
     "first answer is expected to take"),
    ([model(BIG, SLOW), model(SMALL, SLOW)], SMALL, False,
     "no installed model is known to meet the time targets here, so auto takes the "
     "smallest (big-7b: the first answer"),
    ([model(BIG, None), model(SMALL, FAST)], SMALL, True,
     "the largest installed model whose turns meet the time targets here (big-7b not "
     "measured here yet (`codectx doctor --tune --model big-7b`))"),
])
def test_auto_takes_the_largest_that_meets_the_targets(
        tmp_path: Path, models: list[auto.Measured], name: str, meets: bool,
        why: str) -> None:
    choice = auto.pick(models, loaded(tmp_path))
    assert (choice.name, choice.meets) == (name, meets)
    assert choice.why.startswith(why), choice.why
    assert "\n" not in choice.why


def test_no_model_installed_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as raised:
        auto.pick([], loaded(tmp_path))
    assert "pip install 'codectx[model]'" in (raised.value.hint or "")


def test_auto_is_a_setting_a_repository_may_hold(tmp_path: Path) -> None:
    """Naming no file, `model = "auto"` in a repository's config needs no trust."""
    (tmp_path / ".codectx.toml").write_text('model = "auto"\n')
    found = config.load(tmp_path)
    assert found.settings.model == "auto" and found.trust is not None
    assert "model" not in found.trust.ignored


def test_models_list_says_what_auto_picks_and_why(tmp_path: Path) -> None:
    """Tests see the embedded model alone (tests/conftest.py), as after `make run`."""
    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # as one line, whatever the width
    assert f"auto (the default `model`) picks {EMBEDDED}: the only model installed here" \
        in said
