"""The Alembic revisions build exactly the schema the models describe, on a fresh database."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import upgrade
from storage.models import Base


async def test_migrations_match_models(db_url):
    url = db_url  # a copy of the template the migrations built on an empty database
    await upgrade(url)
    await upgrade(url)  # a second run is a no-op
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    await engine.dispose()
    assert diff == []
