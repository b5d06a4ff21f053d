"""IP functions in plain SQL over the dotted text: IPv4 addresses become 32-bit integers, so
CIDR_MATCH is an integer range test DuckDB vectorises (no per-row Python)."""

from __future__ import annotations

import ipaddress

from vigil.esql import types as t
from vigil.esql.functions.registry import STRING, Emit, Function, const_value, fixed, p, register, sql_string
from vigil.esql.ir import Call

_IP = frozenset({t.IP})


def ipv4_number(sql: str) -> str:
    """The IPv4 address in ``sql`` as a BIGINT (NULL for anything else)."""
    parts = f"string_split({sql}, '.')"
    return (
        f"(CASE WHEN regexp_matches({sql}, '^\\d+\\.\\d+\\.\\d+\\.\\d+$') THEN "
        f"TRY_CAST({parts}[1] AS BIGINT) * 16777216 + TRY_CAST({parts}[2] AS BIGINT) * 65536 + "
        f"TRY_CAST({parts}[3] AS BIGINT) * 256 + TRY_CAST({parts}[4] AS BIGINT) END)"
    )


def _block_test(address: str, number: str, block: str) -> str:
    try:
        network = ipaddress.ip_network(block, strict=False)
    except ValueError:
        return "false"
    if isinstance(network, ipaddress.IPv4Network):
        low, high = int(network.network_address), int(network.broadcast_address)
        return f"({number} BETWEEN {low} AND {high})"
    # IPv6 blocks: compare the expanded text prefix of the address bits (rare in practice).
    prefix = network.network_address.exploded.replace(":", "")[: network.prefixlen // 4]
    return (
        f"(contains({address}, ':') AND starts_with(replace({_expanded_v6(address)}, ':', ''), {sql_string(prefix)}))"
    )


def _expanded_v6(sql: str) -> str:
    return sql  # IPv6 is stored as Python's compressed text; exact prefix tests need expansion


def _emit_cidr_match(e: Emit, call: Call) -> str:
    address = e.arg(call, 0)
    number = ipv4_number(address)
    tests = []
    for index in range(1, len(call.args)):
        block = const_value(call.args[index])
        if isinstance(block, str):
            tests.append(_block_test(address, number, block))
        else:
            tests.append("false")
    return "(" + " OR ".join(tests) + ")" if tests else "false"


register(
    Function(
        "cidr_match",
        (p("ip", _IP, "ip"), p("blockX", STRING, "string", constant=True)),
        fixed(t.BOOLEAN),
        _emit_cidr_match,
        variadic=True,
    )
)


def _emit_ip_prefix(e: Emit, call: Call) -> str:
    address = e.arg(call, 0)
    length = const_value(call.args[1])
    if not isinstance(length, int):
        return "NULL"
    if not 0 <= length <= 32:
        warn = e.warn(
            call, f"java.lang.IllegalArgumentException: Prefix length v4 must be in range [0, 32], found {length}"
        )
        return f"(CASE WHEN {address} IS NOT NULL THEN {warn} END)"
    mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF if length > 0 else 0
    number = f"({ipv4_number(address)} & {mask})"
    octets = " || '.' || ".join(f"CAST(({number} >> {shift}) & 255 AS VARCHAR)" for shift in (24, 16, 8, 0))
    return f"(CASE WHEN {ipv4_number(address)} IS NULL THEN NULL ELSE {octets} END)"


register(
    Function(
        "ip_prefix",
        (
            p("ip", _IP, "ip"),
            p("prefixLengthV4", frozenset(t.INTEGRAL_TYPES), "integer", constant=True),
            p("prefixLengthV6", frozenset(t.INTEGRAL_TYPES), "integer", constant=True),
        ),
        fixed(t.IP),
        _emit_ip_prefix,
    )
)
