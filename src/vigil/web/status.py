"""GET /api/status: Kibana's status document, so load balancers and scripts can wait for Vigil."""

from __future__ import annotations

import socket
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.responses import JSONResponse

from vigil import __version__
from vigil.web.deps import principal_of

router = APIRouter(tags=["status"])

# The Kibana release whose API Vigil answers like; clients gate features on it.
COMPATIBLE_KIBANA_VERSION = "9.2.0"


def _database_status(request: Request) -> dict[str, str]:
    try:
        with request.app.state.database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not reachable"
        return {"level": "unavailable", "summary": f"Database unreachable: {type(exc).__name__}"}
    return {"level": "available", "summary": "Database is available"}


@router.get("/api/status", summary="Vigil's status in Kibana's shape")
def get_status(request: Request) -> JSONResponse:
    database = _database_status(request)
    ready = database["level"] == "available" and getattr(request.app.state, "ready", False)
    overall = (
        {"level": "available", "summary": "All services and plugins are available"}
        if ready
        else {"level": "unavailable", "summary": "Vigil is starting or its database is unreachable"}
    )
    status_code = 200 if ready else 503
    if request.headers.get("authorization"):
        principal_of(request)  # wrong credentials are a 401 here too, as everywhere
    else:
        # Kibana's answer to anonymous callers: the overall level only.
        return JSONResponse({"status": {"overall": {"level": overall["level"]}}}, status_code=status_code)
    body: dict[str, Any] = {
        "name": socket.gethostname(),
        "uuid": request.app.state.instance_uuid,
        "version": {
            "number": COMPATIBLE_KIBANA_VERSION,
            "build_hash": "vigil-" + __version__,
            "build_number": 0,
            "build_snapshot": False,
            "build_flavor": "traditional",
            "build_date": "2026-01-01T00:00:00.000Z",
        },
        "status": {
            "overall": overall,
            "core": {"elasticsearch": database, "savedObjects": database},
            "plugins": {"elasticAssistant": overall},
        },
        "metrics": {"collection_interval_in_millis": 5000},
    }
    return JSONResponse(body, status_code=status_code)
