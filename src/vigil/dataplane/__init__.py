"""The data plane: Elasticsearch-style ingest and the embedded DuckDB store (docs/dataplane.md)."""
