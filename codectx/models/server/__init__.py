"""The server client: a model behind an OpenAI-compatible HTTP API (llama.cpp, vLLM)."""
