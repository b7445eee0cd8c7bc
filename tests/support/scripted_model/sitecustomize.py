"""Put on PYTHONPATH of a codectx subprocess (a git hook, `codectx acp`) to script its model.

CODECTX_TEST_REPLIES holds a JSON list of replies; every Session the process
makes answers with them, in order, through the FakeBackend (slowed down by
CODECTX_TEST_DELAY seconds a word). The reply "ECHO" answers with the text
after the cached prefix (the question as the model was given it), so a test
can see what the model saw.
"""

import json
import os

if "CODECTX_TEST_REPLIES" in os.environ:
    from codectx.assistant import session as _session
    from codectx.models.fake import FakeBackend as _Fake

    class _Scripted(_Fake):
        def stream(self, prompt, params, cancel=None, progress=None):  # type: ignore[no-untyped-def]
            if self.replies and self.replies[0] == "ECHO" and params.max_tokens > 0:
                self.replies[0] = bytes(prompt.suffix).decode(errors="replace")
            return super().stream(prompt, params, cancel, progress)

    _replies = json.loads(os.environ["CODECTX_TEST_REPLIES"])
    _original = _session.Session.__init__

    def _init(self, root, loaded, backend=None, **kwargs):  # type: ignore[no-untyped-def]
        delay = float(os.environ.get("CODECTX_TEST_DELAY", "0"))
        _original(self, root, loaded, _Scripted(_replies, delay=delay), **kwargs)

    _session.Session.__init__ = _init  # type: ignore[method-assign]
