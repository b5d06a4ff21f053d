"""Alembic environment: runs on the connection Vigil hands it (see vigil.db.migrate)."""

from alembic import context

from vigil.db.models import Base, include_name

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds for ALTER
    compare_type=True,
    include_name=include_name,  # full-text index tables are made by migrations, not models
)
with context.begin_transaction():
    context.run_migrations()
