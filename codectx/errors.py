"""Errors a user can act on.

Every failure that is the user's to fix (a bad path, a typo in the config, a
budget too small) is a `CodectxError` with a message and a hint saying what to
do next. The command line prints these as one or two lines, never a traceback.
"""

from __future__ import annotations


class CodectxError(Exception):
    """Root of the errors codectx reports to users."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class ConfigError(CodectxError):
    """A setting is unknown or has a value of the wrong kind."""


class RepositoryError(CodectxError):
    """The path to index is missing, not a directory, or unusable."""


class BudgetError(CodectxError):
    """The token budget cannot hold even the smallest form of the prompt."""

    def __init__(self, message: str, hint: str | None = None,
                 needed: int | None = None) -> None:
        super().__init__(message, hint)
        self.needed = needed
        """The smallest budget that would do, where it is known."""


class TokenizerError(CodectxError):
    """The configured model's tokenizer could not be loaded."""


class ModelError(CodectxError):
    """A model is missing, damaged, unknown, or does not fit in memory."""
