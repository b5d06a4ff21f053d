"""A small real data store for the engine tests: an in-memory DuckDB store with two indices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vigil.dataplane.store import DataStore
from vigil.esql.executor import EsqlResult, run_esql

EMPLOYEES = {
    "properties": {
        "emp_no": {"type": "integer"},
        "first_name": {"type": "keyword"},
        "last_name": {"type": "keyword"},
        "salary": {"type": "integer"},
        "height": {"type": "double"},
        "still_hired": {"type": "boolean"},
        "hire_date": {"type": "date"},
        "languages": {"type": "long"},
        "job_positions": {"type": "keyword"},
        "salary_change": {"type": "double"},
        "client_ip": {"type": "ip"},
        "version": {"type": "version"},
        "message": {"type": "text"},
    }
}

DOCUMENTS: list[dict[str, Any]] = [
    {
        "emp_no": 10001,
        "first_name": "Georgi",
        "last_name": "Facello",
        "salary": 57305,
        "height": 2.03,
        "still_hired": True,
        "hire_date": "1986-06-26T00:00:00Z",
        "languages": 2,
        "job_positions": ["Senior Python Developer", "Accountant"],
        "salary_change": [1.19],
        "client_ip": "172.21.0.5",
        "version": "1.2.3",
        "message": "Connected to 10.1.0.1 from host-a",
    },
    {
        "emp_no": 10002,
        "first_name": "Bezalel",
        "last_name": "Simmel",
        "salary": 56371,
        "height": 2.08,
        "still_hired": True,
        "hire_date": "1985-11-21T00:00:00Z",
        "languages": 5,
        "job_positions": "Senior Team Lead",
        "salary_change": [-7.23, 11.17],
        "client_ip": "172.21.3.15",
        "version": "1.10.0",
        "message": "Disconnected from 10.1.0.2",
    },
    {
        "emp_no": 10003,
        "first_name": "Parto",
        "last_name": "Bamford",
        "salary": 61805,
        "height": 1.83,
        "still_hired": False,
        "hire_date": "1986-08-28T00:00:00Z",
        "languages": 4,
        "salary_change": [12.82, 14.68],
        "client_ip": "10.0.0.1",
        "version": "2.0",
        "message": "Connection error from host-b",
    },
    {
        "emp_no": 10004,
        "first_name": "Chirstian",
        "last_name": "Koblick",
        "salary": 36174,
        "height": 1.78,
        "still_hired": True,
        "hire_date": "1986-12-01T00:00:00Z",
        "languages": 5,
        "job_positions": ["Reporting Analyst", "Tech Lead", "Head Human Resources", "Support Engineer"],
        "salary_change": [3.65, -0.35, 1.13, 13.48],
        "version": "1.9.9",
    },
    {
        "emp_no": 10005,
        "first_name": "Kyoichi",
        "last_name": "Maliniak",
        "salary": 63528,
        "height": 2.05,
        "still_hired": True,
        "hire_date": "1989-09-12T00:00:00Z",
        "languages": 1,
    },
]

LANGUAGES = {"properties": {"languages": {"type": "long"}, "language_name": {"type": "keyword"}}}


@pytest.fixture(scope="package")
def store() -> Iterator[DataStore]:
    data = DataStore.open(None)
    data.create_index("employees", EMPLOYEES)
    results = data.index_documents("employees", DOCUMENTS)
    assert not any(r.failed for r in results)
    data.create_index("languages_lookup", LANGUAGES)
    data.index_documents(
        "languages_lookup",
        [{"languages": n, "language_name": name} for n, name in ((1, "English"), (2, "French"), (4, "Spanish"))],
    )
    yield data
    data.close()


@pytest.fixture(scope="package")
def esql(store: DataStore):  # type: ignore[no-untyped-def]
    """Runs a query on the test store and returns the result."""

    def run(query: str, params: list[Any] | dict[str, Any] | None = None) -> EsqlResult:
        return run_esql(store, query, params)

    return run


def rows(result: EsqlResult) -> list[list[Any]]:
    return result.values


def names(result: EsqlResult) -> list[str]:
    return [c.name for c in result.columns]


def types(result: EsqlResult) -> list[str]:
    return [c.type for c in result.columns]
