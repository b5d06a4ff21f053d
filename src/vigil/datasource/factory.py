"""The data source the settings choose, opened once at start-up (vigil.web.app)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from vigil.datasource.base import DataSource
from vigil.datasource.embedded import EmbeddedDataSource
from vigil.settings import Settings

logger = logging.getLogger("vigil.datasource")


class DataSourceSettingsError(ValueError):
    """The data source settings cannot work; the message names the settings, never their secrets."""


def check_cluster_settings(settings: Settings) -> None:
    """Checked here rather than by pydantic, whose errors repeat the offending input (a URL
    holding a password, or every setting at once)."""
    url = settings.elasticsearch_url
    if not url:
        raise DataSourceSettingsError("VIGIL_DATA_SOURCE=elasticsearch needs VIGIL_ELASTICSEARCH_URL")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise DataSourceSettingsError(
            "VIGIL_ELASTICSEARCH_URL must not hold credentials: set VIGIL_ELASTICSEARCH_USERNAME and "
            "VIGIL_ELASTICSEARCH_PASSWORD (or VIGIL_ELASTICSEARCH_API_KEY) instead"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DataSourceSettingsError(f"VIGIL_ELASTICSEARCH_URL must be an http(s) URL, got [{url}]")
    if settings.elasticsearch_api_key is not None and settings.elasticsearch_username is not None:
        raise DataSourceSettingsError(
            "set VIGIL_ELASTICSEARCH_API_KEY or VIGIL_ELASTICSEARCH_USERNAME/PASSWORD, not both"
        )
    if (settings.elasticsearch_username is None) != (settings.elasticsearch_password is None):
        raise DataSourceSettingsError("VIGIL_ELASTICSEARCH_USERNAME and VIGIL_ELASTICSEARCH_PASSWORD go together")
    ca_certs = settings.elasticsearch_ca_certs
    if ca_certs is not None and not ca_certs.is_file():
        raise DataSourceSettingsError(f"VIGIL_ELASTICSEARCH_CA_CERTS names [{ca_certs}], which is not a readable file")


def open_data_source(settings: Settings) -> DataSource:
    if settings.data_source == "elasticsearch":
        check_cluster_settings(settings)
        # Imported here: the client is only loaded on servers that use a cluster.
        from vigil.datasource.elasticsearch import ElasticsearchDataSource

        # The URL holds no credentials (checked above); which ones are used is worth knowing.
        if settings.elasticsearch_api_key is not None:
            identity = "an API key"
        elif settings.elasticsearch_username is not None:
            identity = f"user [{settings.elasticsearch_username}]"
        else:
            identity = "no credentials"
        logger.info("data source: the Elasticsearch cluster at %s, as %s", settings.elasticsearch_url, identity)
        return ElasticsearchDataSource.from_settings(settings)
    return EmbeddedDataSource.open(
        settings.resolved_data_store_path, query_time_limit_seconds=settings.esql_query_time_limit_seconds
    )
