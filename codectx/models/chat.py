"""The model's own chat template, cut into the pieces around each message.

codectx never renders a whole conversation as one string: the repository
must be tokenized segment by segment (so an edit to one file leaves every
earlier token as it was) and as plain text (so a file that contains a special
token's text cannot forge one). The template is rendered once with sentinel
messages to learn what comes before and after the system message, a user
message and an assistant message; the pieces are tokenized with special
tokens, the contents without.
"""

from __future__ import annotations

from dataclasses import dataclass

_SYS, _USER, _ASSISTANT = "\x01SYSTEM\x01", "\x01USER\x01", "\x01ASSISTANT\x01"


@dataclass(frozen=True)
class ChatFormat:
    system_before: str
    system_after: str
    user_before: str
    user_after: str
    assistant_before: str
    assistant_after: str

    @property
    def generation_prompt(self) -> str:
        return self.assistant_before


# Used when a model has no template, or one that does not render as a plain prefix chain.
CHATML = ChatFormat(
    "<|im_start|>system\n", "<|im_end|>\n", "<|im_start|>user\n", "<|im_end|>\n",
    "<|im_start|>assistant\n", "<|im_end|>\n",
)


def _split(text: str, sentinel: str) -> tuple[str, str]:
    before, found, after = text.partition(sentinel)
    if not found:
        raise ValueError(sentinel)
    return before, after


def chat_format(template: str | None, bos: str, eos: str) -> ChatFormat:
    """Pieces of `template` (a GGUF `tokenizer.chat_template`), or ChatML without one."""
    if not template:
        return CHATML
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    system = {"role": "system", "content": _SYS}
    user = {"role": "user", "content": _USER}
    assistant = {"role": "assistant", "content": _ASSISTANT}
    try:
        plain = Jinja2ChatFormatter(template, eos, bos, add_generation_prompt=False)
        generate = Jinja2ChatFormatter(template, eos, bos, add_generation_prompt=True)
        r1 = plain(messages=[system]).prompt  # type: ignore[list-item]
        r2 = plain(messages=[system, user]).prompt  # type: ignore[list-item]
        r3 = generate(messages=[system, user]).prompt  # type: ignore[list-item]
        r4 = plain(messages=[system, user, assistant]).prompt  # type: ignore[list-item]
        if not (r2.startswith(r1) and r3.startswith(r2) and r4.startswith(r2)):
            return CHATML
        system_before, system_after = _split(r1, _SYS)
        user_before, user_after = _split(r2[len(r1):], _USER)
        assistant_before, assistant_after = _split(r4[len(r2):], _ASSISTANT)
        if r3[len(r2):] != assistant_before:
            return CHATML
    except Exception:  # a template that cannot render this way: use ChatML
        return CHATML
    return ChatFormat(system_before, system_after, user_before, user_after,
                      assistant_before, assistant_after)
