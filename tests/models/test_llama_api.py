"""The adapter over llama-cpp-python's private API refuses a release it was not written
for, with a message that says which one to install."""

from __future__ import annotations

import pytest

from codectx.errors import ModelError
from codectx.models.runtime import llama_api


def test_the_installed_release_is_one_the_adapter_knows() -> None:
    import llama_cpp

    llama_api.check_version(llama_cpp.__version__)  # the import itself checked it too


@pytest.mark.parametrize("version", ["0.3.35", "0.2.90", "0.4.0", "1.0.0"])
def test_another_release_is_refused_with_what_to_install(version: str) -> None:
    with pytest.raises(ModelError) as caught:
        llama_api.check_version(version)
    assert f"llama-cpp-python {version} is installed" in caught.value.message
    assert "llama-cpp-python==0.3.36" in (caught.value.hint or "")


def test_nothing_else_reaches_into_llama_cpp_python_internals() -> None:
    from pathlib import Path

    import codectx

    private = ("._ctx", "._batch", "._model.", "_internals", "input_ids", ".n_tokens =",
               "_requires_eval")
    offenders = [
        f"{path.name}: {name}"
        for path in Path(codectx.__file__).parent.rglob("*.py") if path.name != "llama_api.py"
        for name in private if name in path.read_text()]
    assert offenders == []
