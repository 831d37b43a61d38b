"""The one Alembic history goes up, down to nothing and up again on both backends."""

import pytest
import sqlalchemy as sa

from scishare.core.database import make_engine
from scishare.core.migrations import downgrade, upgrade
from scishare.tables import metadata
from tests.conftest import database_url, drop_postgres_database


@pytest.mark.parametrize("target", ["sqlite", "postgres"])
def test_upgrade_downgrade_upgrade(target: str, tmp_path: pytest.TempPathFactory) -> None:
    url = database_url(target, tmp_path, name="migrations")  # type: ignore[arg-type]
    engine = make_engine(url)
    try:
        upgrade(url)
        assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())

        downgrade(url, "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}

        upgrade(url)
        assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
        if target == "postgres":
            drop_postgres_database(sa.make_url(url).database or "")


def test_models_and_migrations_agree(tmp_path: pytest.TempPathFactory) -> None:
    """Autogenerate finds nothing to do: no model change is missing its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = database_url("sqlite", tmp_path, name="drift")  # type: ignore[arg-type]
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert diff == []
