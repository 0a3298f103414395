"""OpenAI-compatible models: the agent's lines, the optional intent model, their prompts."""
