"""Cutting a chat template into the pieces around each message."""

from __future__ import annotations

from pathlib import Path

from codectx.models.chat import CHATML, chat_format
from codectx.models.gguf import read_info

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)


def test_the_embedded_models_template(embedded_gguf: Path) -> None:
    info = read_info(embedded_gguf)
    assert chat_format(info.chat_template, info.bos_token, info.eos_token) == CHATML


def test_a_llama3_template() -> None:
    fmt = chat_format(LLAMA3, "<|begin_of_text|>", "<|eot_id|>")
    assert fmt.system_before == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
    assert fmt.user_before == "<|start_header_id|>user<|end_header_id|>\n\n"
    assert fmt.generation_prompt == "<|start_header_id|>assistant<|end_header_id|>\n\n"
    assert fmt.assistant_after == fmt.user_after == "<|eot_id|>"


def test_no_template_or_a_broken_one_falls_back_to_chatml() -> None:
    assert chat_format(None, "", "") == CHATML
    assert chat_format("{% if %}", "", "") == CHATML
    assert chat_format("{{ raise_exception('no system role') }}", "", "") == CHATML
