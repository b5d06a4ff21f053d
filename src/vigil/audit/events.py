"""ECS audit events, written as JSON lines in the shape Kibana's audit logger uses."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request

from vigil.auth.principal import Principal

ECS_VERSION = "9.0.0"
_START = time.monotonic()


class AuditLog:
    """Appends one JSON object per line; a no-op when auditing is off."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()

    def record(
        self,
        *,
        action: str,
        message: str,
        principal: Principal | None,
        space_id: str,
        category: str = "database",
        event_type: str = "change",
        outcome: str = "success",
        client_ip: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "@timestamp": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "message": message,
            "event": {"action": action, "category": [category], "type": [event_type], "outcome": outcome},
            "kibana": {"space_id": space_id},
            "trace": {"id": str(uuid.uuid4())},
            "log": {"level": "INFO", "logger": "plugins.security.audit.ecs"},
            "process": {"pid": os.getpid(), "uptime": round(time.monotonic() - _START, 3)},
            "ecs": {"version": ECS_VERSION},
        }
        if principal is not None:
            event["user"] = {
                "id": principal.user_id,
                "name": principal.username,
                "roles": list(principal.roles),
            }
        if client_ip:
            event["client"] = {"ip": client_ip}
        if extra:
            event.update(extra)
        if self._path is not None:
            line = json.dumps(event, separators=(",", ":"))
            with self._lock:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                with self._path.open("a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
        logging.getLogger("vigil.audit").debug("%s", message)
        return event


def audit_event(
    request: Request,
    principal: Principal | None,
    space_id: str,
    *,
    action: str,
    message: str,
    event_type: str = "change",
    category: str = "database",
    outcome: str = "success",
) -> None:
    """Records an event about an HTTP request, with the caller's address."""
    audit: AuditLog = request.app.state.audit
    audit.record(
        action=action,
        message=message,
        principal=principal,
        space_id=space_id,
        category=category,
        event_type=event_type,
        outcome=outcome,
        client_ip=request.client.host if request.client else None,
    )
