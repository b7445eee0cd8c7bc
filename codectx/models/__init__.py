"""Model backends and what the rest of codectx needs to know about a model."""
