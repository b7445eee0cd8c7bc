"""The repository serializer: any directory in, one deterministic prompt out.

Kept empty on purpose: parser worker processes import `codectx.indexer.parse`
and must not pay for the whole pipeline. The entry point for front ends is
`codectx.indexer.repository.index_repository`.
"""
