"""Put on PYTHONPATH of a codectx subprocess (a git hook) to replace its model with a script.

CODECTX_TEST_REPLIES holds a JSON list of replies; every Session the process
makes answers with them, in order, through the FakeBackend (slowed down by
CODECTX_TEST_DELAY seconds a word).
"""

import json
import os

if "CODECTX_TEST_REPLIES" in os.environ:
    from codectx.assistant import session as _session
    from codectx.models.fake import FakeBackend as _Fake

    _replies = json.loads(os.environ["CODECTX_TEST_REPLIES"])
    _original = _session.Session.__init__

    def _init(self, root, loaded, backend=None):  # type: ignore[no-untyped-def]
        delay = float(os.environ.get("CODECTX_TEST_DELAY", "0"))
        _original(self, root, loaded, _Fake(_replies, delay=delay))

    _session.Session.__init__ = _init  # type: ignore[method-assign]
