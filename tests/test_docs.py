"""The documentation keeps up with the code.

docs/configuration.md is rendered from `Settings` (`make docs`).
"""

from __future__ import annotations

from pathlib import Path

from codectx.settings_reference import PAGE, render

ROOT = Path(__file__).parents[1]


def test_the_configuration_page_is_rendered_from_the_settings() -> None:
    assert (ROOT / PAGE).read_text(encoding="utf-8") == render(), (
        "docs/configuration.md differs from what codectx/settings_reference.py renders "
        "from the settings in codectx/config.py: run `make docs` and commit the page")
