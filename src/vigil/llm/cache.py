"""Built models, reused across turns: building one creates an SDK client and its connection pool,
which a turn should not pay for again. A connector's edit changes its key, so it rebuilds."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from pydantic_ai.models import Model

from vigil.llm.config import LlmSettings
from vigil.llm.factory import build_model


def _fingerprint(type_id: str, config: Mapping[str, Any], secrets: Mapping[str, Any], model: str | None) -> str:
    # Secrets only ever enter a digest; the cache never keeps them readable beside the model.
    material = json.dumps([type_id, config, secrets, model], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


class ModelCache:
    def __init__(self, settings: LlmSettings, max_entries: int = 64) -> None:
        self.settings = settings
        self._max = max_entries
        self._models: OrderedDict[tuple[str, str], Model] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        connector_id: str,
        type_id: str,
        config: Mapping[str, Any],
        secrets: Mapping[str, Any],
        model_override: str | None = None,
    ) -> Model:
        key = (connector_id, _fingerprint(type_id, config, secrets, model_override))
        with self._lock:
            cached = self._models.get(key)
            if cached is not None:
                self._models.move_to_end(key)
                return cached
        model = build_model(type_id, config, secrets, model_override=model_override, settings=self.settings)
        with self._lock:
            self._models[key] = model
            while len(self._models) > self._max:
                self._models.popitem(last=False)
        return model
