"""Tool contexts over real parts: an in-memory data store (read as the embedded data source), the
turn's real anonymization with Kibana's default field rules, a real (throwaway) database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vigil.agent.tools import SideModel, ToolContext
from vigil.anonymization import Anonymizer
from vigil.anonymization.fields.defaults import DEFAULT_FIELDS
from vigil.auth.principal import Principal
from vigil.chat.redaction import TurnRedactor, policy_from_rules
from vigil.dataplane.store import DataStore, WriteOp
from vigil.datasource import EmbeddedDataSource
from vigil.db.engine import Database
from vigil.demo.documents import iso
from vigil.settings import Settings

ANALYST = Principal(user_id="u_analyst", username="analyst", roles=("editor",))
NO_DATA = Principal(user_id="u_nodata", username="nodata", roles=())

KIBANA_DEFAULT_RULES = [(f.field, f.allowed, f.anonymized) for f in DEFAULT_FIELDS]


def store_with(documents: Iterable[tuple[str, str | None, Mapping[str, Any]]]) -> DataStore:
    """An in-memory store holding (index, id, source) documents."""
    store = DataStore.open(None)
    results = store.write([WriteOp("create", index, doc_id, dict(source)) for index, doc_id, source in documents])
    failed = [r.error for r in results if r.failed]
    assert not failed, failed
    return store


def redactor(extra_rules: Iterable[tuple[str, bool, bool]] = ()) -> TurnRedactor:
    return TurnRedactor(Anonymizer(), policy_from_rules([*KIBANA_DEFAULT_RULES, *extra_rules]))


def tool_context(
    tmp_path: Path,
    store: DataStore | None,
    *,
    principal: Principal = ANALYST,
    space_id: str = "default",
    privacy: TurnRedactor | None = None,
    ask_model: SideModel | None = None,
    alerts_to_analyze: int = 100,
    **settings: Any,
) -> ToolContext:
    configured = Settings(data_dir=tmp_path, **settings)
    return ToolContext(
        principal,
        space_id,
        None,
        Database(configured),
        configured,
        data_source=EmbeddedDataSource(store) if store is not None else None,
        privacy=privacy if privacy is not None else redactor(),
        ask_model=ask_model,
        alerts_to_analyze=alerts_to_analyze,
    )


def ago(**delta: float) -> str:
    return iso(datetime.now(UTC) - timedelta(**delta))


def alert(
    rule: str,
    risk: int,
    *,
    when: str | None = None,
    status: str = "open",
    severity: str = "high",
    host: str = "wks-fin-01",
    user: str = "alice.nguyen",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "@timestamp": when or ago(hours=1),
        "kibana.alert.rule.name": rule,
        "kibana.alert.risk_score": risk,
        "kibana.alert.severity": severity,
        "kibana.alert.workflow_status": status,
        "host": {"name": host},
        "user": {"name": user},
        **extra,
    }


class ScriptedWriter:
    """A SideModel that answers from a list, recording every prompt it was given."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[tuple[str, str]] = []

    async def __call__(self, instructions: str, prompt: str) -> str:
        self.prompts.append((instructions, prompt))
        return self.replies.pop(0)
