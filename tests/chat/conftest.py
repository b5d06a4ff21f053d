"""Chat tests share the root fixtures `fake` (a scripted provider) and `connector_id`."""

CHAT = "/api/security_ai_assistant/chat/complete"
