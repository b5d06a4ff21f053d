"""Running a connector: the hook the `_execute` route calls, and its placeholder.

The route calls `app.state.connector_executor.execute(runtime, params)`. The LLM executor
(another module) replaces the default below; until then every run answers Kibana's error
result for a sub-action nobody registered.
"""

from __future__ import annotations

from typing import Any, Protocol

from vigil.connectors.service import ConnectorRuntime

RUN_ERROR_MESSAGE = "an error occurred while running the action"


class ConnectorExecutor(Protocol):
    async def execute(self, runtime: ConnectorRuntime, params: dict[str, Any]) -> dict[str, Any]:
        """Kibana's executor result: `{connector_id, status: "ok"|"error", data?, message?,
        service_message?, retry?}`. Must never put secrets in it."""
        ...


def error_result(runtime: ConnectorRuntime, message: str, service_message: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"connector_id": runtime.id, "status": "error", "message": message}
    if service_message is not None:
        result["service_message"] = service_message
    return result


class DefaultConnectorExecutor:
    """Knows no sub-actions: answers as Kibana's sub-action framework does for an unknown one."""

    async def execute(self, runtime: ConnectorRuntime, params: dict[str, Any]) -> dict[str, Any]:
        sub_action = params.get("subAction")
        if not isinstance(sub_action, str):
            return error_result(
                runtime,
                "error validating action params: [subAction]: expected value of type [string] but got "
                f"[{'undefined' if sub_action is None else type(sub_action).__name__}]",
            )
        return error_result(
            runtime,
            RUN_ERROR_MESSAGE,
            f'Sub action "{sub_action}" is not registered. Connector id: {runtime.id}. '
            f"Connector name: {runtime.name}. Connector type: {runtime.type_id}",
        )
