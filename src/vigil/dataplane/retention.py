"""Retention: drop whole daily partitions older than `VIGIL_DATA_RETENTION`, periodically."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from vigil.dataplane.store import DataStore
from vigil.settings import Settings
from vigil.timeunits import parse_duration

logger = logging.getLogger("vigil.dataplane")


def enforce_retention(store: DataStore, retention: str, now: datetime | None = None) -> list[str]:
    """Drop the partitions whose whole day ended before `now - retention`; returns their tables."""
    cutoff = (now or datetime.now(UTC)) - parse_duration(retention)
    dropped = store.drop_partitions_before(cutoff)
    if dropped:
        logger.info("data retention %s dropped %d daily partitions: %s", retention, len(dropped), ", ".join(dropped))
    return dropped


async def retention_loop(store: DataStore, retention: str, interval_seconds: float) -> None:
    """Runs until cancelled (at shutdown); a failed run is logged and retried next interval."""
    while True:
        try:
            await run_in_threadpool(enforce_retention, store, retention)
        except Exception:
            logger.exception("data retention run failed")
        await asyncio.sleep(interval_seconds)


def start_retention(store: DataStore, settings: Settings) -> asyncio.Task[None] | None:
    """The periodic retention task when `data_retention` is set (the caller cancels it at shutdown)."""
    if settings.data_retention is None:
        return None
    return asyncio.create_task(
        retention_loop(store, settings.data_retention, settings.data_retention_check_interval_seconds)
    )
