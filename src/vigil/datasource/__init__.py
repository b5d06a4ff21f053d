"""Where Vigil reads data: its embedded store or an Elasticsearch cluster, behind one interface
(docs/datasource.md). `open_data_source(settings)` gives the one the settings choose."""

from vigil.datasource.base import DataField, DataIndex, DataSource, EsqlParams
from vigil.datasource.embedded import EmbeddedDataSource
from vigil.datasource.factory import DataSourceSettingsError, open_data_source

__all__ = [
    "DataField",
    "DataIndex",
    "DataSource",
    "DataSourceSettingsError",
    "EmbeddedDataSource",
    "EsqlParams",
    "open_data_source",
]
