"""Engine set-up: SQLite tuned for concurrent writers, PostgreSQL given the same write order,
and a UTC datetime column type.

SQLite: WAL so readers never block the writer, a busy timeout, foreign keys on, and write
transactions that start with ``BEGIN IMMEDIATE``. A deferred transaction that reads and then
writes must upgrade its lock, and SQLite then fails at once with "database is locked" instead of
waiting for the busy timeout (RELIABILITY.md §8). Requests with a safe method (GET, HEAD, OPTIONS)
only read, so they begin deferred and never wait on a writer.

PostgreSQL: the code was written for one writer at a time, so a write transaction takes one
transaction-level advisory lock first: read-then-write code keeps its meaning (no lost update,
no racy check-then-insert) while reads never wait. The vote path is written to be safe with
concurrent writers (a conditional UPDATE and unique constraints) and is marked ``lock_free``: it
skips the lock, which is where the traffic is. Its statement stands alone and runs on a second
engine to the same database whose connections stay in autocommit (``AUTOCOMMIT_BIND``).
"""
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import DateTime, Enum, Float, event, make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
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


class epoch_seconds(FunctionElement):  # noqa: N801 (a SQL function, named as one)
    """A UTCDateTime column as seconds since the epoch (a float), computed by the database: a
    read of many rows that only needs their times (the fraud signals read 100,000) skips making
    an aware datetime for each row in Python, the third of such a read's time."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    # julianday() keeps the fraction of the second: a double's precision is about 10 microseconds
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    # the column is a timestamp without time zone holding UTC: its epoch is UTC's
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


#: The largest id a table holds (a 32-bit INTEGER on PostgreSQL): a larger number names nothing,
#: and must not reach the database, which would refuse it with an error instead of no row.
MAX_ID = 2**31 - 1


def is_id(value):
    """Whether ``value`` can be the id of a row (an int, not a bool, in 1..MAX_ID)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


#: The key of the advisory lock PostgreSQL write transactions take (any constant of the app's).
WRITE_LOCK_KEY = 7_260_001


def lock_free(view):
    """Mark a view whose writes are safe under concurrent writers (PostgreSQL skips the lock)."""
    view.lock_free = True
    return view


def _may_write():
    """Whether the transaction about to begin may write: commands, scripts, unsafe methods, but
    not a read inside ``reading_first`` (a request's or a command's)."""
    if has_app_context() and g.get("reading_first"):
        return False
    if not has_request_context():
        return True
    return request.method not in SAFE_METHODS


@contextmanager
def reading_first(session):
    """A long read that decides a short write, without holding the write lock through the read:
    inside the block the transaction of the request (or command) only reads (SQLite's deferred
    BEGIN, which never waits on a writer; no advisory lock on PostgreSQL), and it ends with the
    block. What it writes afterwards begins a transaction of its own with the lock, as usual.

    The transaction open when the block begins (the signed-in user's read) is ended first; the
    block must not write, and whatever it read may change before the write: the write must hold
    on its own (a conditional UPDATE, a constraint), as the votes' voiding does."""
    session.rollback()
    g.reading_first = True
    try:
        yield
    finally:
        session.rollback()
        g.reading_first = False


def _needs_write_lock():
    if not _may_write():
        return False
    view = current_app.view_functions.get(request.endpoint) if has_request_context() else None
    return not getattr(view, "lock_free", False)


def _reads_only(connection):
    """Whether ``connection`` was marked as one that only reads, wherever it runs (a streamed
    export reads after its request is gone, where any transaction would count as a write):
    ``connection.execution_options(read_only=True)``. Its transactions take no write lock."""
    return connection.get_execution_options().get("read_only", False)


def _begin_statement(connection):
    # SQLite has one writer whatever we do: every write begins IMMEDIATE, the vote path too.
    return "BEGIN IMMEDIATE" if _may_write() and not _reads_only(connection) else "BEGIN"


#: The bind (``db.engines[AUTOCOMMIT_BIND]``) of an engine to the same PostgreSQL database whose
#: connections stay in autocommit: a statement run there is a transaction of its own, committed
#: by the server in the same round trip. Its pool never holds a transaction, so a connection
#: is given back as it was taken (no reset on return). The vote's statement runs there
#: (``voting.services.vote_transaction``); the ORM session's engine never sees autocommit.
AUTOCOMMIT_BIND = "autocommit"


def add_connect_timeout(config):
    """On PostgreSQL, a connection that is not made within POSTGRES_CONNECT_TIMEOUT seconds
    fails (answered 503), rather than hold its request while the server does not answer."""
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        return
    options = config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    options["connect_args"] = {"connect_timeout": int(config["POSTGRES_CONNECT_TIMEOUT"]),
                               **options.get("connect_args", {})}


def add_autocommit_bind(config):
    """On PostgreSQL, add the autocommit engine to SQLALCHEMY_BINDS: the default engine's URL and
    options, in autocommit. Before Flask-SQLAlchemy reads the configuration."""
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return
    config["SQLALCHEMY_BINDS"] = {**(config.get("SQLALCHEMY_BINDS") or {}), AUTOCOMMIT_BIND: {
        **config["SQLALCHEMY_ENGINE_OPTIONS"], "url": url, "isolation_level": "AUTOCOMMIT",
        "pool_reset_on_return": None}}


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
        connection.exec_driver_sql(_begin_statement(connection))


def configure_postgresql(engine, lock_timeout_ms=10000):
    """Write transactions take the app's advisory lock first (released at commit or rollback).
    In a request, the transaction waits at most ``lock_timeout_ms`` for it, or for any lock:
    then PostgreSQL cancels the statement (lock_not_available), answered 503 (app.errors)."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if not _needs_write_lock() or _reads_only(connection):
            return
        if has_request_context():
            # One round trip: the setting (local to the transaction) is made before the lock.
            connection.exec_driver_sql(
                f"SELECT set_config('lock_timeout', '{int(lock_timeout_ms)}', true), "
                f"pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        else:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def enum_type(cls):
    """A portable (VARCHAR + CHECK) column type storing an enum's values, not its names."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


def dispose_engines():
    """Close every pooled connection of the current app's engines: the default one and, on
    PostgreSQL, the vote's autocommit one (AUTOCOMMIT_BIND). For a process done with the
    database: the tests before a database is dropped, the benchmarks before theirs is."""
    from .extensions import db

    for engine in db.engines.values():
        engine.dispose()
