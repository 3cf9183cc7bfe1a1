"""Model layer: one interface over OpenAI, Anthropic, OpenAI-compatible endpoints and scripted models."""
