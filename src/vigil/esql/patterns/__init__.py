"""DISSECT and GROK patterns translated to RE2 regular expressions DuckDB evaluates natively."""
