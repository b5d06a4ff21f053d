"""Kibana's POST /api/security_ai_assistant/chat/complete: a turn of the assistant, persisted."""
