"""The migrations build exactly the schema the models describe, and the newest one undoes."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.extensions import db


def schema_differences():
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_the_migrations_make_the_schema_the_models_describe(app):
    """A model changed without its migration (a column, an index, a constraint) is found here,
    before a production database upgraded by the migrations lacks it."""
    assert schema_differences() == []


def test_the_newest_migration_undoes_and_redoes(app):
    """A release can be rolled back: the newest migration's downgrade runs, and the upgrade
    after it gives the schema again."""
    db.session.remove()
    downgrade(revision="-1")
    assert schema_differences() != []  # what it added is gone
    upgrade()
    assert schema_differences() == []
