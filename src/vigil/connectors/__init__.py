"""Connectors: the LLM endpoints the assistant talks to, managed through Kibana's actions API."""
