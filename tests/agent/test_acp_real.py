"""One editor session with the embedded model, through `codectx acp` as a subprocess."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from acp.schema import ToolCallProgress

from tests.agent.acp_client import Editor, connected, prompt_text, wait_for
from tests.conftest import make_repo
from tests.models.test_llama_real import CODE, QUESTION

pytestmark = pytest.mark.model


async def test_the_embedded_model_answers_about_a_small_repository(tmp_path: Path) -> None:
    root = (tmp_path / "r").resolve()
    make_repo(root, CODE)
    editor = Editor()
    async with connected(editor, None) as conn:
        session = await conn.new_session(cwd=str(root))
        await wait_for(lambda: any(isinstance(u, ToolCallProgress) and u.status == "completed"
                                   and u.tool_call_id.startswith("prefill-")
                                   for u in editor.updates), timeout=300)
        response = await conn.prompt(
            session_id=session.session_id,
            prompt=prompt_text(QUESTION))
        assert response.stop_reason in ("end_turn", "max_tokens")
        await wait_for(lambda: editor.text().strip() != "")
        answer = editor.text()
        assert "2.54" in answer
        before = len(answer)
        await conn.prompt(session_id=session.session_id, prompt=prompt_text("/tokens"))
        await wait_for(lambda: "reused from the cache" in editor.text()[before:])
        reused = re.search(r"([\d,]+) reused from the cache", editor.text()[before:])
        assert reused is not None and int(reused.group(1).replace(",", "")) > 200
