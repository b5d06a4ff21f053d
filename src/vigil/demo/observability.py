"""Observability data: the shop's service logs, host metrics, and the alerts of the
observability rules (APM error count and latency, host CPU).

The story: from 9 to 6 hours ago the payment gateway timed out, so `checkout` answered most of
its requests with errors, `payment` slowed down and `k8s-node-2` ran hot; three days ago
`checkout` ran out of database connections for an hour. The ransomware on `srv-file-01`
(see `security.py`) also shows as a CPU spike.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigil.demo import world
from vigil.demo.documents import DocumentSink, iso

# Log lines per hour per service at the daily peak.
_PEAK_RATE = {"frontend": 40, "checkout": 20, "cart": 18, "payment": 10, "inventory": 9, "shipping": 6}
# During an incident clients retry, so a failing service logs more requests than usual.
_RETRY_FACTOR = 1.5
_BASE_LATENCY_MS = {"frontend": 45, "checkout": 180, "cart": 35, "payment": 240, "inventory": 30, "shipping": 90}
_EVERYDAY_ERRORS = (
    ("NullPointerException", "unexpected null in request context", 500),
    ("ValidationError", "invalid request payload", 400),
    ("TimeoutError", "downstream call timed out after 2000ms", 504),
)


@dataclass(frozen=True)
class Incident:
    service: str
    start: timedelta  # before the end of the data set
    end: timedelta
    error_rate: float
    error_type: str
    error_message: str
    status_code: int
    latency_factor: float = 1.0


def incidents() -> tuple[Incident, ...]:
    return (
        Incident(
            "checkout",
            timedelta(hours=9),
            timedelta(hours=6),
            0.6,
            "GatewayTimeoutError",
            "payment gateway timeout after 5000ms",
            504,
            3.0,
        ),
        Incident(
            "payment",
            timedelta(hours=9),
            timedelta(hours=6),
            0.25,
            "UpstreamError",
            "upstream connect error or disconnect/reset before headers",
            503,
            5.0,
        ),
        Incident(
            "checkout",
            timedelta(hours=72),
            timedelta(hours=71),
            0.3,
            "PoolExhaustedError",
            "database connection pool exhausted",
            500,
            2.0,
        ),
    )


def _daily_factor(when: datetime) -> float:
    """Traffic follows the day: lowest at 04:00 UTC, highest at 16:00 UTC."""
    return 0.55 + 0.45 * math.sin((when.hour + when.minute / 60 - 10) / 24 * 2 * math.pi)


class ObservabilityGenerator:
    def __init__(self, sink: DocumentSink, rng: random.Random, end: datetime, days: int, space: str) -> None:
        self.sink = sink
        self.rng = rng
        self.end = end
        self.start = end - timedelta(days=days)
        self.space = space
        self.incidents = incidents()

    def _incident(self, service: str, when: datetime) -> Incident | None:
        for incident in self.incidents:
            if incident.service == service and self.end - incident.start <= when < self.end - incident.end:
                return incident
        return None

    def service_logs(self) -> None:
        rng = self.rng
        hour = self.start
        while hour < self.end:
            for service in world.SERVICES:
                expected = _PEAK_RATE[service] * _daily_factor(hour)
                if self._incident(service, hour + timedelta(minutes=30)):
                    expected = _PEAK_RATE[service] * _RETRY_FACTOR  # clients retry failed requests
                count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
                for _ in range(count):
                    when = hour + timedelta(seconds=rng.uniform(0, 3600))
                    if when < self.end:
                        self.log_line(service, when)
            hour += timedelta(hours=1)

    def log_line(self, service: str, when: datetime) -> None:
        rng = self.rng
        incident = self._incident(service, when)
        method = "POST" if service in ("checkout", "payment", "cart") else "GET"
        path = rng.choice(world.SERVICE_PATHS[service]).replace("{id}", str(rng.randint(1000, 9999)))
        latency_ms = rng.lognormvariate(math.log(_BASE_LATENCY_MS[service]), 0.4)
        level, status, error = "info", 200, None
        if incident and rng.random() < incident.error_rate:
            level, status = "error", incident.status_code
            error = (incident.error_type, incident.error_message)
            latency_ms *= incident.latency_factor
        elif rng.random() < 0.012:
            error_type, message, status = rng.choice(_EVERYDAY_ERRORS)
            level, error = "error", (error_type, message)
        elif rng.random() < 0.05:
            level = "warn"
            latency_ms *= 2.5
        elif incident:
            latency_ms *= incident.latency_factor
        duration_ms = round(latency_ms, 1)
        if error:
            message = f"{method} {path} failed: {error[1]}"
        elif level == "warn":
            message = f"{method} {path} {status} slow response {duration_ms}ms"
        else:
            message = f"{method} {path} {status} {duration_ms}ms"
        source: dict[str, Any] = {
            "@timestamp": iso(when),
            "service": {
                "name": service,
                "version": world.SERVICE_VERSIONS[service],
                "environment": "production",
            },
            "host": {"name": world.SERVICE_NODES[service]},
            "log": {"level": level, "logger": f"{service}.http"},
            "message": message,
            "http": {"request": {"method": method}, "response": {"status_code": status}},
            "url": {"path": path},
            "client": {"ip": rng.choice(world.EXTERNAL_CLIENT_IPS)},
            "event": {
                "dataset": "services.log",
                "duration": int(duration_ms * 1_000_000),
                "outcome": "failure" if status >= 500 else "success",
            },
            "trace": {"id": f"{rng.getrandbits(128):032x}"},
            "cloud": {"region": world.REGION},
            "data_stream": {"type": "logs", "dataset": "services", "namespace": "default"},
        }
        if error:
            source["error"] = {"type": error[0], "message": error[1]}
        self.sink.add(world.SERVICE_LOGS_INDEX, source)

    def host_metrics(self) -> None:
        rng = self.rng
        busy_until = {
            "k8s-node-2": (self.end - timedelta(hours=8, minutes=40), self.end - timedelta(hours=6, minutes=10)),
            "srv-file-01": (self.end - timedelta(hours=3, minutes=50), self.end),
        }
        base = {"workstation": 0.18, "server": 0.3, "node": 0.45}
        when = self.start
        while when < self.end:
            for host in world.ALL_HOSTS:
                cpu = base[host.role] * (0.6 + 0.8 * _daily_factor(when)) + rng.gauss(0, 0.04)
                window = busy_until.get(host.name)
                if window and window[0] <= when < window[1]:
                    cpu = rng.uniform(0.92, 0.99)
                memory = 0.45 + (0.2 if host.role == "node" else 0.0) + rng.gauss(0, 0.03)
                self.sink.add(
                    world.METRICS_INDEX,
                    {
                        "@timestamp": iso(when),
                        "host": {"name": host.name, "os": {"family": host.os_family}},
                        "metricset": {"name": "cpu"},
                        "event": {"dataset": "system.cpu", "module": "system"},
                        "system": {
                            "cpu": {"total": {"norm": {"pct": round(min(max(cpu, 0.01), 1.0), 3)}}},
                            "memory": {"actual": {"used": {"pct": round(min(max(memory, 0.05), 0.98), 3)}}},
                        },
                        "data_stream": {"type": "metrics", "dataset": "system", "namespace": "default"},
                    },
                )
            when += timedelta(minutes=10)

    def alerts(self) -> None:
        apm_index = f".alerts-observability.apm.alerts-{self.space}"
        metrics_index = f".alerts-observability.metrics.alerts-{self.space}"
        hours = timedelta(hours=1)
        self._alert(
            apm_index,
            "Checkout error count",
            "apm.error_rate",
            "Error count threshold",
            self.end - 8.75 * hours,
            self.end - 6 * hours,
            {"service": {"name": "checkout", "environment": "production"}},
            87,
            25,
            "Error count is 87 in the last 1 hr for service: checkout, env: production. Alert when > 25.",
        )
        self._alert(
            apm_index,
            "Checkout error count",
            "apm.error_rate",
            "Error count threshold",
            self.end - 71.75 * hours,
            self.end - 71 * hours,
            {"service": {"name": "checkout", "environment": "production"}},
            41,
            25,
            "Error count is 41 in the last 1 hr for service: checkout, env: production. Alert when > 25.",
        )
        self._alert(
            apm_index,
            "Payment latency",
            "apm.transaction_duration",
            "Latency threshold",
            self.end - 8.5 * hours,
            self.end - 6.25 * hours,
            {"service": {"name": "payment", "environment": "production"}},
            1240,
            800,
            "Avg. latency is 1,240 ms in the last 5 mins for service: payment, env: production. Alert when > 800 ms.",
        )
        for host, started, ended, value in (
            ("k8s-node-2", self.end - 8.6 * hours, self.end - 6.15 * hours, 97.0),
            ("srv-file-01", self.end - 3.75 * hours, None, 98.0),
        ):
            self._alert(
                metrics_index,
                "Host CPU above 90%",
                "metrics.alert.threshold",
                "Metric threshold",
                started,
                ended,
                {"host": {"name": host}},
                value,
                90,
                f"system.cpu.total.norm.pct is {value:.0f}% in the last 5 mins for {host}. Alert when > 90%.",
            )

    def _alert(
        self,
        index: str,
        name: str,
        rule_type: str,
        category: str,
        started: datetime,
        ended: datetime | None,
        entity: dict[str, Any],
        value: float,
        threshold: float,
        reason: str,
    ) -> None:
        alert_id = self.sink.new_id(index)
        source: dict[str, Any] = {
            "@timestamp": iso(ended or started),
            **entity,
            "event": {"kind": "signal", "action": "close" if ended else "open"},
            "kibana.alert.uuid": alert_id,
            "kibana.alert.start": iso(started),
            "kibana.alert.status": "recovered" if ended else "active",
            "kibana.alert.workflow_status": "open",
            "kibana.alert.reason": reason,
            "kibana.alert.evaluation.value": float(value),
            "kibana.alert.evaluation.threshold": float(threshold),
            "kibana.alert.rule.name": name,
            "kibana.alert.rule.category": category,
            "kibana.alert.rule.rule_type_id": rule_type,
            "kibana.alert.rule.producer": "apm" if rule_type.startswith("apm") else "infrastructure",
            "kibana.space_ids": [self.space],
            "kibana.version": "8.15.0",
        }
        if ended:
            source["kibana.alert.end"] = iso(ended)
            source["kibana.alert.duration.us"] = int((ended - started).total_seconds() * 1_000_000)
        self.sink.add(index, source, alert_id)


def generate_observability(sink: DocumentSink, rng: random.Random, end: datetime, days: int, space: str) -> None:
    generator = ObservabilityGenerator(sink, rng, end, days, space)
    generator.service_logs()
    generator.host_metrics()
    generator.alerts()
