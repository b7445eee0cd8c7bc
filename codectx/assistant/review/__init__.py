"""Reviewing a change with the whole repository in view: `codectx review` and the hook."""
