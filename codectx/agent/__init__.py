"""codectx as an Agent Client Protocol agent: `codectx acp`, for editors."""
