"""Settings precedence, sources, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx import config
from codectx.errors import ConfigError
from tests.conftest import SCRIPTED, write_tree


def test_defaults_with_no_config_anywhere(tmp_path: Path) -> None:
    loaded = config.load(tmp_path, environ={})
    assert loaded.settings.format == "xml"
    assert loaded.settings.max_file_size == 1_000_000
    assert set(loaded.sources.values()) == {"default"}


def test_each_layer_overrides_the_one_before(tmp_path: Path, isolated_env: Path) -> None:
    user = isolated_env / "config.toml"
    user.write_text('format = "markdown"\nbudget = 100\nmax_file_size = 10\nhistory_commits = 7\n')
    write_tree(tmp_path, {".codectx.toml": "budget = 200\nmax_file_size = 20\nsubmodules = true\n"})
    env = {"CODECTX_MAX_FILE_SIZE": "30", "CODECTX_EXCLUDE": "a/, b/"}
    loaded = config.load(tmp_path, {"submodules": False, "budget": None}, environ=env)
    s = loaded.settings
    assert (s.format, s.budget, s.max_file_size, s.submodules) == ("markdown", 200, 30, False)
    assert s.exclude == ["a/", "b/"]
    assert loaded.sources["format"] == f"user config {user}"
    assert loaded.sources["budget"] == ".codectx.toml"
    assert loaded.sources["max_file_size"] == "CODECTX_MAX_FILE_SIZE"
    assert loaded.sources["submodules"] == "command line"
    assert loaded.sources["history_commits"].startswith("user config")


def test_pyproject_tool_table_when_there_is_no_dotfile(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n[tool.codectx]\nbudget = 5\n'})
    loaded = config.load(tmp_path, environ={})
    assert loaded.settings.budget == 5
    assert loaded.sources["budget"] == "pyproject.toml [tool.codectx]"


def test_a_typo_is_an_error_naming_the_key_and_a_suggestion(tmp_path: Path) -> None:
    write_tree(tmp_path, {".codectx.toml": "bugdet = 5\n"})
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path, environ={})
    assert info.value.message == "unknown setting 'bugdet' in .codectx.toml"
    assert info.value.hint == "Did you mean 'budget'?"


def test_a_wrong_value_names_the_key_and_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="setting 'budget' from CODECTX_BUDGET"):
        config.load(tmp_path, environ={"CODECTX_BUDGET": "lots"})
    write_tree(tmp_path, {".codectx.toml": 'format = "html"\n'})
    with pytest.raises(ConfigError, match=r"setting 'format' from \.codectx\.toml"):
        config.load(tmp_path, environ={})


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    write_tree(tmp_path, {".codectx.toml": "budget = = 5\n"})
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(tmp_path, environ={})


def test_cache_path_follows_the_setting(tmp_path: Path) -> None:
    loaded = config.load(tmp_path, {"cache_dir": str(tmp_path / "c")}, environ={})
    assert loaded.cache_path() == tmp_path / "c"


def test_the_backend_is_one_the_provider_table_knows(tmp_path: Path) -> None:
    from codectx.models.registry import PROVIDERS

    write_tree(tmp_path, {".codectx.toml": 'backend = "gpu-cloud"\n'})
    with pytest.raises(ConfigError, match="must be one of local, openai, not") as caught:
        config.load(tmp_path)
    assert "from .codectx.toml" in caught.value.message
    for name in PROVIDERS:
        assert config.load(None, {"backend": name}).settings.backend == name


def test_the_test_suites_scripted_model_is_not_a_users_choice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from codectx.cli import main

    monkeypatch.delenv("CODECTX_TEST_BACKENDS", raising=False)
    with pytest.raises(ConfigError, match="must be one of local, openai, not 'scripted'"):
        config.load(None, {"backend": "scripted"})
    shown = CliRunner().invoke(main, ["ask", "--help"]).output
    assert "--backend [local|openai]" in shown and "scripted" not in shown
    monkeypatch.setenv("CODECTX_TEST_BACKENDS", "1")  # no NAME=MODULE:CLASS: nothing added
    with pytest.raises(ConfigError, match="not 'scripted'"):
        config.load(None, {"backend": "scripted"})
    monkeypatch.setenv("CODECTX_TEST_BACKENDS", SCRIPTED)  # what the test suite sets
    assert config.load(None, {"backend": "scripted"}).settings.backend == "scripted"
    monkeypatch.setenv("CODECTX_TEST_BACKENDS", f"local={SCRIPTED.partition('=')[2]}")
    from codectx.models.registry import known
    assert known()["local"].cls == "LocalProvider"  # a built-in is never replaced


def test_each_backend_setting_gives_its_provider(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from codectx.models.provider import provider_for
    from codectx.models.runtime.local import LocalProvider
    from codectx.models.server.provider import ServerProvider
    from tests.support.fake import ScriptedProvider

    monkeypatch.setenv("CODECTX_TEST_BACKENDS", SCRIPTED)
    kinds = {"local": LocalProvider, "openai": ServerProvider, "scripted": ScriptedProvider}
    for name, kind in kinds.items():
        provider = provider_for(tmp_path, config.load(None, {"backend": name}))
        assert type(provider) is kind
    monkeypatch.setenv("CODECTX_SCRIPTED_REPLIES", '["one", "two"]')
    scripted = provider_for(tmp_path, config.load(None, {"backend": "scripted"}))
    assert isinstance(scripted, ScriptedProvider) and list(scripted.fake.replies) == ["one", "two"]
    monkeypatch.setenv("CODECTX_SCRIPTED_REPLIES", "not json")
    with pytest.raises(ConfigError, match="CODECTX_SCRIPTED_REPLIES"):
        provider_for(tmp_path, config.load(None, {"backend": "scripted"}))


@pytest.mark.parametrize(("key", "value", "wanted"), [
    ("gpu_layers", "-3", "must be auto or a whole number of at least 0, not '-3'"),
    ("gpu_layers", "2.5", "must be auto or a whole number of at least 0"),
    ("n_batch", "0", "must be auto or a whole number of at least 1, not '0'"),
    ("n_batch", "abc", "must be auto or a whole number of at least 1"),
    ("flash_attn", "maybe", "must be auto, true or false, not 'maybe'"),
])
def test_a_runtime_setting_that_is_neither_auto_nor_a_value_says_what_it_takes(
        key: str, value: str, wanted: str) -> None:
    with pytest.raises(ConfigError, match=f"setting '{key}'") as info:
        config.load(None, environ={f"CODECTX_{key.upper()}": value})
    assert wanted in info.value.message


def test_runtime_settings_take_auto_or_a_value() -> None:
    settings = config.load(None, environ={"CODECTX_GPU_LAYERS": "12", "CODECTX_N_BATCH": "256",
                                          "CODECTX_FLASH_ATTN": "off"}).settings
    assert (settings.gpu_layers, settings.n_batch, settings.flash_attn) == (12, 256, False)
    default = config.load(None, environ={}).settings
    assert (default.gpu_layers, default.n_batch, default.flash_attn) == ("auto",) * 3
    with pytest.raises(ConfigError, match="gpu_layers"):
        config.load(None, {"gpu_layers": True}, environ={})


def test_a_repositorys_keys_wait_for_trust_then_add_to_the_users(tmp_path: Path,
                                                                  isolated_env: Path) -> None:
    user = isolated_env / "config.toml"
    user.write_text('[keys]\nquit = "f10"\nnew_chat = "f3"\n')
    write_tree(tmp_path, {".codectx.toml": '[keys]\nnew_chat = "f2"\n"trust.yes" = "n"\n'})
    loaded = config.load(tmp_path, environ={})
    assert loaded.settings.keys == {"quit": "f10", "new_chat": "f3"}
    assert loaded.trust is not None
    assert loaded.trust.ignored == {"keys": {"new_chat": "f2", "trust.yes": "n"}}
    assert "sets keys, which reach outside" in (loaded.trust.notice() or "")
    assert loaded.key_layers == ((f"user config {user}", {"quit": "f10", "new_chat": "f3"}),)

    config.trust_store().grant(loaded.trust)
    loaded = config.load(tmp_path, environ={})
    assert loaded.settings.keys == {"quit": "f10", "new_chat": "f2", "trust.yes": "n"}
    assert loaded.sources["keys"] == ".codectx.toml"
    assert loaded.key_layers[1] == (".codectx.toml", {"new_chat": "f2", "trust.yes": "n"})
    write_tree(tmp_path, {".codectx.toml": "[keys]\n"})  # an empty table needs no trust
    assert config.load(tmp_path, environ={}).trust.ignored == {}  # type: ignore[union-attr]
