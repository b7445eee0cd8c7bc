"""Turning a model's reply into file changes: parse, plan (match and check), apply, undo.

Parsing and planning are pure functions of text and file contents, so they
are tested from a table of real model outputs; only `journal` writes.
"""
