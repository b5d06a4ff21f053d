"""Picking the relevant indices and fields for a question, over the demo data set."""

from __future__ import annotations

import pytest

from tests.investigation.support import KIBANA_DEFAULT_RULES
from vigil.chat.redaction import policy_from_rules
from vigil.dataplane.store import DataStore, WriteOp
from vigil.datasource import EmbeddedDataSource
from vigil.demo.dataset import generate
from vigil.demo.loader import DEMO_FIELD_RULES
from vigil.investigation.access import readable_indices
from vigil.investigation.data_context import MAX_FIELDS_PER_INDEX, describe_indices, render_context

POLICY = policy_from_rules([*KIBANA_DEFAULT_RULES, *((f, True, anonymized) for f, anonymized in DEMO_FIELD_RULES)])


@pytest.fixture(scope="module")
def demo_store():
    store = DataStore.open(None)
    documents = generate(days=2)
    for start in range(0, len(documents), 5000):
        store.write([WriteOp("create", d.index, d.id, d.source) for d in documents[start : start + 5000]])
    yield store
    store.close()


@pytest.mark.parametrize(
    ("question", "best"),
    [
        ("chart the error count for the checkout service over the last 24 hours", "logs-services-default"),
        ("how many failed ssh logins were there on bastion-01?", "logs-system.auth-default"),
        ("which host had the highest cpu usage?", "metrics-system-default"),
        ("which domains did wks-fin-01 resolve most often?", "logs-network_traffic.dns-default"),
        ("which processes did alice.nguyen start with powershell?", "logs-endpoint.events.process-default"),
        ("how many critical alerts are open?", ".alerts-security.alerts-default"),
    ],
)
def test_the_most_relevant_index_comes_first(demo_store, question: str, best: str) -> None:
    source = EmbeddedDataSource(demo_store)
    described = describe_indices(source, readable_indices(source, "default"), question, POLICY)
    assert described[0].info.name == best
    assert len(described) <= 3 and all(len(item.fields) <= MAX_FIELDS_PER_INDEX for item in described)


def test_the_context_names_fields_types_and_values(demo_store) -> None:
    source = EmbeddedDataSource(demo_store)
    indices = readable_indices(source, "default")
    question = "error count for the checkout service per hour"
    text = render_context(indices, describe_indices(source, indices, question, POLICY))
    assert text.startswith("Indices you may query:\n- .alerts-observability.apm.alerts-default")
    services = text.split("Fields of logs-services-default", 1)[1]
    assert "- @timestamp date" in services
    assert "- service.name keyword values: cart, checkout, frontend, inventory, payment, shipping" in services
    assert "- log.level keyword values: error, info, warn (the question's error is a value of this field)" in services
    assert "- host.name keyword\n" in services  # anonymized by the rules: no values
