"""Engine set-up: SQLite tuned for concurrent writers, and a UTC datetime column type.

SQLite: WAL so readers never block the writer, a busy timeout, foreign keys on, and write
transactions that start with ``BEGIN IMMEDIATE``. A deferred transaction that reads and then
writes must upgrade its lock, and SQLite then fails at once with "database is locked" instead of
waiting for the busy timeout (RELIABILITY.md §8). Requests with a safe method (GET, HEAD, OPTIONS)
only read, so they begin deferred and never wait on a writer.
"""
from datetime import UTC, datetime

from flask import has_request_context, request
from sqlalchemy import DateTime, Enum, event
from sqlalchemy.types import TypeDecorator

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in Python; naive UTC in the database (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow():
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def _begin_statement():
    if has_request_context() and request.method in SAFE_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def configure_sqlite(engine, synchronous="FULL", busy_timeout_ms=5000):
    """Attach the pragmas and the IMMEDIATE begin to an SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself instead of pysqlite's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(_begin_statement())


def enum_type(cls):
    """A portable (VARCHAR + CHECK) column type storing an enum's values, not its names."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
