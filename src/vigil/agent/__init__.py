"""The assistant loop: one agent with provider-native tool calling, a tool registry each
capability adds to, a step limit and a token budget. pydantic-ai types stay inside this package."""
