"""The prompt's layout: instructions, then the repository, then the conversation.

Everything before the conversation is the cacheable prefix, and it is built
so that one changed file leaves every token before it unchanged: each
segment of the serialized repository is tokenized on its own, as plain text
(a file containing a special token's text cannot forge one); only the chat
template's own pieces are tokenized with special tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from codectx.indexer.serialize import Segment
from codectx.models.backend import Message, Prompt, Span
from codectx.models.chat import ChatFormat

INSTRUCTIONS = (
    "You are codectx, a coding assistant. The whole source of a repository follows, each "
    "file after the files it depends on. Answer the user's questions about it precisely and "
    "briefly, naming the files you rely on. If the repository does not hold the answer, "
    "say so.\n"
    # Part of the cached prefix, so a review's request stays short (see review/findings.py).
    "When asked to review a change, report each real problem on its own line as "
    "PATH:LINE: SEVERITY: MESSAGE, where LINE is a number shown before | in the change and "
    "SEVERITY is error (a bug: wrong behaviour, a crash, a security hole), warning "
    "(probably a problem) or note (clarity, style); MESSAGE says what is wrong and how to "
    "fix it in one sentence. If there is no problem, answer exactly: no findings\n\n"
)

Tokenize = Callable[..., list[int]]
"""tokenize(text, special=False) -> token ids."""


def build_prompt(
    chat: ChatFormat,
    tokenize: Tokenize,
    segments: Sequence[Segment],
    question: str | None,
    history: Sequence[tuple[str, str]] = (),
    bos: Sequence[int] = (),
    exact: bool = False,
) -> Prompt:
    """Prefix: instructions and repository; suffix: past turns, then the question."""
    prefix = [*bos, *tokenize(chat.system_before, special=True), *tokenize(INSTRUCTIONS)]
    spans = [Span(_key("head", None, INSTRUCTIONS + chat.system_before), 0, len(prefix))]
    for segment in segments:
        start = len(prefix)
        prefix += tokenize(segment.text)
        if len(prefix) > start:
            spans.append(Span(_key(segment.kind, segment.path, segment.text), start,
                              len(prefix)))
    start = len(prefix)
    prefix += tokenize(chat.system_after, special=True)
    if len(prefix) > start:
        spans.append(Span(_key("tail", None, chat.system_after), start, len(prefix)))
    suffix: list[int] = []
    messages: list[Message] = [("system", INSTRUCTIONS + "".join(s.text for s in segments))]
    if question is not None:
        for asked, answered in history:
            messages += [("user", asked), ("assistant", answered)]
            suffix += _turn(chat, tokenize, asked)
            suffix += tokenize(chat.assistant_before, special=True) + tokenize(answered)
            suffix += tokenize(chat.assistant_after, special=True)
        suffix += _turn(chat, tokenize, question)
        suffix += tokenize(chat.generation_prompt, special=True)
        messages.append(("user", question))
    return Prompt(tuple(prefix), tuple(suffix), tuple(messages), tuple(spans), exact)


def _key(kind: str, path: str | None, text: str) -> str:
    """A span's name: what it is and a hash of its text (same text, same cells)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()
    return f"{kind}:{path or ''}:{digest}"


def _turn(chat: ChatFormat, tokenize: Tokenize, text: str) -> list[int]:
    return [*tokenize(chat.user_before, special=True), *tokenize(text),
            *tokenize(chat.user_after, special=True)]
