"""Test and benchmark helpers that ship with Vigil (fakes of external services)."""
