"""Embedding models chosen per knowledge base: an OpenAI-compatible one over real HTTP, its vectors
stored under its own fingerprint, dense retrieval with it, and the fallback to full-text search
when it fails. On the suite's real database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.knowledge_base.fake_embeddings import DIMENSIONS, FakeEmbeddings
from vigil.auth.principal import Principal
from vigil.db.engine import Database
from vigil.db.migrate import upgrade
from vigil.errors import UpstreamError
from vigil.knowledge_base import schemas, service
from vigil.knowledge_base.embeddings.bedrock import BedrockEmbeddings
from vigil.knowledge_base.embeddings.openai import OpenAICompatibleEmbeddings
from vigil.knowledge_base.runtime import KnowledgeBase
from vigil.settings import EmbeddingModelConfig, Settings

USER = Principal(user_id="u-embed", username="embed", roles=("editor",))


@pytest.fixture
def fake() -> Iterator[FakeEmbeddings]:
    with FakeEmbeddings() as server:
        yield server


def knowledge_base(tmp_path_factory: pytest.TempPathFactory, fake: FakeEmbeddings) -> KnowledgeBase:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("embed"),
        database_url=os.environ.get("VIGIL_TEST_DATABASE_URL") or None,
        knowledge_base_auto_setup=False,
        knowledge_base_embedding_models={
            "team-embedder": EmbeddingModelConfig(
                provider="openai", model="fake-embed-small", url=fake.base_url, api_key=fake.api_key, batch_size=2
            )
        },
    )
    database = Database(settings)
    upgrade(database)
    return KnowledgeBase(database, settings)


def remember(kb: KnowledgeBase, space: str, name: str, text: str) -> str:
    props = schemas.DocumentEntryCreateFields(type="document", name=name, kbResource="user", source="t", text=text)
    with kb.database.session() as session:
        entry = service.create(session, USER, space, props, kb.default_model)
    kb.after_write(space)
    return entry.id


def test_openai_compatible_provider_batches_orders_and_normalises(fake: FakeEmbeddings) -> None:
    config = EmbeddingModelConfig(provider="openai", model="m", url=fake.base_url, api_key=fake.api_key, batch_size=2)
    vectors = OpenAICompatibleEmbeddings(config, timeout=5).embed(["alpha beta", "gamma", "alpha beta gamma"])
    assert vectors.shape == (3, DIMENSIONS)
    assert [len(r["body"]["input"]) for r in fake.requests] == [2, 1]  # batches of 2
    assert fake.requests[0]["body"]["model"] == "m"
    # The fake answers in reverse order; rows follow the inputs (by `index`), unit length.
    assert float(vectors[0] @ vectors[2]) > float(vectors[0] @ vectors[1])
    assert abs(float((vectors**2).sum(axis=1).max()) - 1.0) < 1e-5
    bad = EmbeddingModelConfig(provider="openai", model="m", url=fake.base_url, api_key="wrong")
    with pytest.raises(UpstreamError) as failure:
        OpenAICompatibleEmbeddings(bad, timeout=5).embed(["x"])
    assert "401" in failure.value.message and "wrong" not in failure.value.message


@pytest.mark.parametrize("model", ["amazon.titan-embed-text-v2:0", "cohere.embed-english-v3"])
def test_bedrock_provider_signs_and_reads_titan_and_cohere(fake: FakeEmbeddings, model: str) -> None:
    config = EmbeddingModelConfig(
        provider="bedrock",
        model=model,
        url=f"http://127.0.0.1:{fake.port}",
        region="us-east-1",
        access_key="AKIAFAKEFAKEFAKEFAKE",
        secret_key="fake-secret",
        dimensions=256 if model.startswith("amazon.") else None,
    )
    embedder = BedrockEmbeddings(config, timeout=5)
    vectors = embedder.embed(["alpha beta", "gamma"])
    assert vectors.shape == (2, DIMENSIONS)
    assert embedder.fingerprint.startswith(f"bedrock:{model}:")
    assert all(r["model"] == model for r in fake.requests)
    assert all(r["headers"]["authorization"].startswith("AWS4-HMAC-SHA256") for r in fake.requests)
    if model.startswith("amazon."):
        assert [r["body"] for r in fake.requests] == [
            {"inputText": "alpha beta", "dimensions": 256},
            {"inputText": "gamma", "dimensions": 256},
        ]
    else:
        assert [r["body"] for r in fake.requests] == [
            {"texts": ["alpha beta", "gamma"], "input_type": "search_document"}
        ]


def test_a_space_on_another_model_embeds_and_searches_with_it(
    tmp_path_factory: pytest.TempPathFactory, fake: FakeEmbeddings
) -> None:
    kb = knowledge_base(tmp_path_factory, fake)
    space = f"emb-{uuid.uuid4().hex[:8]}"
    kb.setup(space, "team-embedder", ignore_builtin=True)
    entry_id = remember(kb, space, "firewall owner", "the edge firewall belongs to the network team")
    remember(kb, space, "lunch", "pizza on fridays")
    # Each write is embedded before it returns, under the space's model.
    assert [r["body"]["input"] for r in fake.requests] == [
        ["firewall owner\nthe edge firewall belongs to the network team"],
        ["lunch\npizza on fridays"],
    ]
    status = kb.status(USER, space)
    assert status["embedding_model_id"] == "team-embedder" and status["pending_embeddings"] == 0

    found = kb.retrieve(USER, space, "which team owns the edge firewall", mode="dense")
    assert found.dense_used and found.passages[0].entry_id == entry_id
    embedded_query = fake.requests[-1]["body"]["input"]
    assert embedded_query == ["which team owns the edge firewall"]

    # The provider goes down: retrieval still answers, from full-text search.
    fake.fail_with = 503
    fallback = kb.retrieve(USER, space, "edge firewall network team")
    assert not fallback.dense_used and "full-text" in (fallback.note or "")
    assert fallback.passages[0].entry_id == entry_id
    kb.database.dispose()


def test_setup_refuses_an_unknown_model(tmp_path_factory: pytest.TempPathFactory, fake: FakeEmbeddings) -> None:
    kb = knowledge_base(tmp_path_factory, fake)
    with pytest.raises(Exception) as refused:
        kb.setup("default", "nope", ignore_builtin=False)
    assert "team-embedder" in str(refused.value) and "vigil-minilm" in str(refused.value)
    kb.database.dispose()
