"""What the benchmarks say of the database they measure: a vote's figure counts only where a
commit is durable (benchmarks/harness.py ``durability``)."""
from app.extensions import db
from benchmarks.harness import durability


def test_the_benchmarks_say_whether_the_database_commits_durably(app):
    text, durable = durability(app)
    if db.engine.dialect.name == "sqlite":
        assert (text, durable) == ("SQLite WAL, synchronous=FULL", True)
        assert durability(app, {"SQLITE_SYNCHRONOUS": "normal"}) == (
            "SQLite WAL, synchronous=NORMAL", False)
        return
    with db.engine.connect() as connection:
        fsync, commit = (connection.exec_driver_sql(f"SHOW {name}").scalar()
                         for name in ("fsync", "synchronous_commit"))
    assert text == f"PostgreSQL, fsync={fsync}, synchronous_commit={commit}"
    assert durable is (fsync == "on" and commit != "off")
    # whatever the server, a database that acknowledges commits before their flush is not durable
    with db.engine.begin() as connection:
        name = connection.exec_driver_sql("SELECT current_database()").scalar()
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    db.engine.dispose()
    assert durability(app) == (f"PostgreSQL, fsync={fsync}, synchronous_commit=off", False)
