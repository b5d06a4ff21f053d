"""`vigil kb ...` as operators run it: a subprocess on a real data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.knowledge_base.fake_embeddings import FakeEmbeddings
from tests.test_cli import run_vigil

pytestmark = pytest.mark.backend_independent


def test_setup_status_search_and_reindex_after_a_model_change(tmp_path: Path) -> None:
    with FakeEmbeddings() as fake:
        models = {"team": {"provider": "openai", "model": "fake-embed", "url": fake.base_url, "api_key": fake.api_key}}
        env = {"VIGIL_KNOWLEDGE_BASE_AUTO_SETUP": "false", "VIGIL_KNOWLEDGE_BASE_EMBEDDING_MODELS": json.dumps(models)}

        setup = run_vigil(tmp_path, "kb", "setup", env=env)
        assert setup.returncode == 0, setup.stdout + setup.stderr
        assert "mitre-attack" in setup.stdout and "esql-reference" in setup.stdout

        status = run_vigil(tmp_path, "kb", "status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "vigil-minilm" in status.stdout and "MITRE ATT&CK Enterprise v18.1" in status.stdout

        found = run_vigil(tmp_path, "kb", "search", "T1003.001 LSASS", "--mode", "lexical", env=env)
        assert found.returncode == 0, found.stdout + found.stderr
        first_row = next(line for line in found.stdout.splitlines() if line.strip().startswith("│ 1"))
        assert "attack-T1003.001" in first_row

        # The space moves to another embedding model: reindex embeds everything with it, with progress.
        moved = run_vigil(tmp_path, "kb", "setup", "--model", "team", env=env)
        assert moved.returncode == 0, moved.stdout + moved.stderr
        reindexed = run_vigil(tmp_path, "kb", "reindex", env=env)
        assert reindexed.returncode == 0, reindexed.stdout + reindexed.stderr
        embedded = int(reindexed.stdout.split("embedded ")[-1].split()[0])
        # Every built-in passage by the new model (and, by the embedded model, the few not shipped).
        by_new_model = sum(len(r["body"]["input"]) for r in fake.requests)
        assert 2000 < by_new_model <= embedded
        after = run_vigil(tmp_path, "kb", "status", env=env)
        assert "team" in after.stdout and ", 0 passages waiting" in after.stdout

        dense = run_vigil(tmp_path, "kb", "search", "dumping credentials from lsass memory", "--mode", "dense", env=env)
        assert dense.returncode == 0 and "attack-" in dense.stdout

    unknown = run_vigil(tmp_path, "kb", "search", "x", "--user", "nobody", env=env)
    assert unknown.returncode == 1 and "not found" in unknown.stdout
