"""Silence llama.cpp's own logging, once per process.

llama.cpp writes warnings to stderr even with `verbose=False`; codectx
reports what matters itself, as errors with hints.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_callback: object = None


def quiet_llama() -> None:
    global _callback
    with _lock:
        if _callback is not None:
            return
        import ctypes

        import llama_cpp

        @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
        def drop(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            return None

        _callback = drop  # llama.cpp keeps calling it: it must outlive this function
        llama_cpp.llama_log_set(drop, ctypes.c_void_p(0))
