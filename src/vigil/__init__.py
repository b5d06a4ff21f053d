"""Vigil: a self-hosted AI assistant for SOC and SRE teams, wire-compatible with Kibana's."""

__version__ = "0.1.0"
