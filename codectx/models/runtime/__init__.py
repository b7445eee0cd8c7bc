"""The local runtime: a GGUF in this process through llama-cpp-python, its saved states,
their reuse, the memory planner and placement, and this machine's measured speed."""
