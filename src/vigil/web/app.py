"""The application factory: wires settings, storage, middleware, error handling and routes."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from vigil import __version__
from vigil.anonymization.fields.routes import router as anonymization_fields_router
from vigil.audit.events import AuditLog
from vigil.auth.bootstrap import ensure_first_superuser
from vigil.auth.passwords import VerifiedCredentialCache
from vigil.auth.routes import router as security_router
from vigil.auth.service import Authenticator
from vigil.charts.routes import router as charts_router
from vigil.chat.routes import router as chat_router
from vigil.chat.wiring import build_chat_engine, llm_settings
from vigil.connectors.routes import router as connectors_router
from vigil.connectors.service import check_preconfigured
from vigil.conversations.routes import router as conversations_router
from vigil.crypto import load_secret_box
from vigil.dataplane.retention import start_retention
from vigil.dataplane.routes import router as dataplane_router
from vigil.datasource import EmbeddedDataSource, open_data_source
from vigil.datasource.routes import router as datasource_router
from vigil.datasource.routes import store_routes_gate
from vigil.db.engine import Database
from vigil.db.migrate import upgrade
from vigil.esql.routes import router as esql_router
from vigil.knowledge_base.routes import router as knowledge_base_router
from vigil.knowledge_base.runtime import KnowledgeBase
from vigil.llm.cache import ModelCache
from vigil.llm.executor import LlmConnectorExecutor
from vigil.prompts.routes import router as prompts_router
from vigil.settings import Settings
from vigil.web.errors import install_error_handlers
from vigil.web.middleware import KibanaProtocolMiddleware, SpaceMiddleware
from vigil.web.openapi import install_openapi
from vigil.web.status import router as status_router

logger = logging.getLogger("vigil")

OPENAPI_URL = "/api/vigil/openapi.json"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Connector secrets: refuse to start without a usable key (see vigil.crypto).
        app.state.secret_box = load_secret_box(settings)
        check_preconfigured(settings)
        database = Database(settings)
        app.state.database = database
        if settings.auto_migrate:
            upgrade(database)
        # Built-in reference content loaded (or updated) now; embeddings computed in the background.
        app.state.knowledge_base = KnowledgeBase(database, settings)
        app.state.knowledge_base.start()
        # Where data is read (docs/datasource.md). The embedded store's DuckDB file allows one
        # writer process, so it is opened once here; with a cluster as the source there is none.
        app.state.data_source = open_data_source(settings)
        embedded = isinstance(app.state.data_source, EmbeddedDataSource)
        app.state.data_store = app.state.data_source.store if embedded else None
        app.state.chat_engine = build_chat_engine(
            database,
            settings,
            app.state.secret_box,
            app.state.model_cache,
            app.state.data_source,
            knowledge_base=app.state.knowledge_base,
        )
        created = ensure_first_superuser(database, settings)
        if created is not None:
            _announce_first_superuser(created.username, created.generated_password)
        retention = start_retention(app.state.data_store, settings) if embedded else None
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            if retention is not None:
                retention.cancel()
            await app.state.chat_engine.drain()
            app.state.knowledge_base.stop()
            app.state.data_source.close()
            database.dispose()

    app = FastAPI(
        title="Vigil",
        version=__version__,
        description="Kibana-compatible Security AI Assistant API, served by Vigil.",
        openapi_url=OPENAPI_URL,
        docs_url="/api/vigil/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.ready = False
    app.state.instance_uuid = str(uuid.uuid4())
    app.state.authenticator = Authenticator(
        VerifiedCredentialCache(settings.auth_cache_ttl_seconds), settings.auth_principal_cache_seconds
    )
    app.state.audit = AuditLog(settings.resolved_audit_log if settings.audit_enabled else None)
    # Built models are shared by chat turns and `_execute` runs of the same connector.
    app.state.model_cache = ModelCache(llm_settings(settings))
    app.state.connector_executor = LlmConnectorExecutor(app.state.model_cache)

    install_error_handlers(app)
    install_openapi(app)
    # Routes are tried in order, router by router: the busiest one first (its path is literal
    # and unique, so the order changes nothing else).
    app.include_router(chat_router)
    app.include_router(status_router)
    app.include_router(security_router)
    app.include_router(conversations_router)
    app.include_router(connectors_router)
    app.include_router(prompts_router)
    app.include_router(knowledge_base_router)
    app.include_router(anonymization_fields_router)
    app.include_router(charts_router)
    app.include_router(esql_router)
    # The store's routes answer a clear error when the data source is a cluster (no store).
    store_routes = [Depends(store_routes_gate)] if settings.data_source == "elasticsearch" else []
    app.include_router(datasource_router, dependencies=store_routes)
    # Last: its `/{index}` routes must not shadow any other route.
    app.include_router(dataplane_router, dependencies=store_routes)
    # Added last runs first: the space prefix is stripped before the Kibana rules see the path.
    app.add_middleware(KibanaProtocolMiddleware, settings=settings)
    app.add_middleware(SpaceMiddleware)
    return app


def _announce_first_superuser(username: str, generated_password: str | None) -> None:
    if generated_password is None:
        logger.warning("Created the first superuser [%s] from VIGIL_ADMIN_USERNAME/PASSWORD.", username)
        return
    # Printed once, never logged again: the operator must keep it now.
    banner = (
        "\n"
        "  Vigil created the first superuser. Keep this password: it is not shown again.\n"
        f"    username: {username}\n"
        f"    password: {generated_password}\n"
        "  Change it with: vigil user passwd " + username + "\n"
    )
    print(banner, flush=True)
