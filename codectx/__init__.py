"""codectx: a local, codebase-aware coding assistant.

The whole repository goes into a long-context model's prompt, ordered by its
dependency graph so that what is stable comes first and a prompt cache can be
reused across questions and edits.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("codectx")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
