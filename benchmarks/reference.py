"""The reference vote: the API's vote reduced to its two round trips, with no framework around
them, served by the same gunicorn under the same load (``python -m benchmarks.cpu --reference``).

It answers: how far can a vote of this weight go on this machine at all? The app's vote is
measured beside it, in turns, so that the share of the framework (Flask, SQLAlchemy's pool,
redis-py's command packing, the answer's headers and log line, the checks of the body) and the
share of the two round trips (the limits' Lua script on Redis, the vote's statement on
PostgreSQL) can be told apart. A bound, not a rival: it leaves out everything the app must do
besides (no check of the body, no HMAC of the address or the agent: constant values of their size
are written; no refusal worded for the voter), so nothing of it is for serving.

Two kinds, each a gunicorn app of this module (``REFERENCE_CONFIG`` names the file that
``prepare`` writes):

- ``statement``: the vote's own statement (``voting.services``' one-statement vote, as the app
  compiles it) in autocommit, after the limits' script with the app's keys and amounts: the
  app's two round trips, nothing else;
- ``insert``: the same limits, then a one-row INSERT into a table with no index, key or
  constraint: the least a durable vote can cost here.

The bearer tokens are looked up in a table made in advance (the app checks a token's signature
once per process and caches it), with each voter's three rate-limit keys.
"""
import json
import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

KINDS = ("statement", "insert")

#: The table of the ``insert`` kind: a vote's columns, no index, key or constraint.
BARE_TABLE = "reference_vote"

_held = {}


def prepare(app, voters, folder):
    """Write the configuration of each kind into ``folder`` for ``voters`` [(id, token)] of the
    app's database (PostgreSQL) and rate-limit storage (Redis); make the ``insert`` kind's table.
    Returns {kind: the environment of its gunicorn}. Runs outside any request."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from app.extensions import db, limiter
    from voting import services
    from voting.limits import ACQUIRE_ALL, SCRIPT_SHA, vote_limits

    with app.test_request_context("/", method="POST", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        if db.engine.dialect.name != "postgresql":
            raise SystemExit("the reference vote is measured on PostgreSQL and Redis only")
        storage = limiter.storage
        redis = storage.get_connection().connection_pool.connection_kwargs
        names = ("voter_id", "entry_id", "created_at", "status", "void_reason", "net_hmac",
                 "agent_hmac", "vote_day", "timezone")
        compiled = services._vote_statements("postgresql").together.compile(
            dialect=db.engine.dialect, column_keys=list(names))
        fixed = {name: value for name, value in compiled.construct_params(
            dict.fromkeys(names)).items() if name not in names}
        tokens = {}
        for voter_id, token in voters:
            pairs = vote_limits(voter_id, "127.0.0.1")
            tokens[token] = {
                "voter": voter_id, "keys": [storage.prefixed_key(key) for _item, key in pairs],
                "amounts": [value for item, _key in pairs
                            for value in (item.amount, item.get_expiry())]}
        with db.engine.begin() as connection:
            connection.execute(text(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial, voter_id integer, "
                "entry_id integer, vote_day date, created_at timestamp)"))
        url = make_url(db.engine.url).set(drivername="postgresql")
        common = {
            "database": url.render_as_string(hide_password=False),
            "redis": {"host": redis.get("host", "127.0.0.1"), "port": redis.get("port", 6379),
                      "db": redis.get("db", 0)},
            "script": ACQUIRE_ALL, "script_sha": SCRIPT_SHA, "tokens": tokens,
            "timezone": app.config["BABEL_DEFAULT_TIMEZONE"], "fixed": fixed,
            "statement": compiled.string}
    environments = {}
    for kind in KINDS:
        path = folder / f"reference-{kind}.json"
        path.write_text(json.dumps({**common, "kind": kind}))
        environments[kind] = {"REFERENCE_CONFIG": str(path)}
    return environments


def _connections():
    """This process's configuration, PostgreSQL connection (autocommit) and Redis connection,
    made at its first vote (gunicorn forks its workers before any)."""
    if _held.get("pid") != os.getpid():
        import psycopg
        from redis.connection import Connection

        with open(os.environ["REFERENCE_CONFIG"]) as file:
            config = json.load(file)
        database = psycopg.connect(config["database"], autocommit=True)
        _held.update(pid=os.getpid(), config=config, zone=ZoneInfo(config["timezone"]),
                     cursor=database.cursor(), redis=Connection(**config["redis"]))
    return _held


def _limits(redis, config, voter, now):
    from redis.exceptions import NoScriptError

    arguments = [len(voter["keys"]), *voter["keys"], repr(now.timestamp()), *voter["amounts"]]
    try:
        redis.send_command("EVALSHA", config["script_sha"], *arguments)
        return int(redis.read_response())
    except NoScriptError:  # a Redis that has not seen the script yet
        redis.send_command("EVAL", config["script"], *arguments)
        return int(redis.read_response())


def app(environ, start_response):
    """The WSGI app: GET answers "ok" (gunicorn's start probe); POST is a vote."""
    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    held = _connections()
    config = held["config"]
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    entry_id = json.loads(body)["entry_id"]
    voter = config["tokens"].get(environ.get("HTTP_AUTHORIZATION", "")[7:])
    if voter is None:
        return _answer(start_response, "401 UNAUTHORIZED", {})
    now = datetime.now(UTC)
    if _limits(held["redis"], config, voter, now):
        return _answer(start_response, "429 TOO MANY REQUESTS", {})
    created_at, day = now.replace(tzinfo=None), now.astimezone(held["zone"]).date()
    cursor = held["cursor"]
    try:
        if config["kind"] == "insert":
            cursor.execute(f"INSERT INTO {BARE_TABLE} (voter_id, entry_id, vote_day, created_at) "
                           "VALUES (%s, %s, %s, %s) RETURNING id",
                           (voter["voter"], entry_id, day, created_at))
            vote_id = cursor.fetchone()[0]
        else:
            cursor.execute(config["statement"], {
                **config["fixed"], "voter_id": voter["voter"], "entry_id": entry_id,
                "created_at": created_at, "status": "valid", "void_reason": "",
                "net_hmac": "n" * 64, "agent_hmac": "a" * 64, "vote_day": day,
                "timezone": config["timezone"]})
            vote_id = cursor.fetchone()[3]
    except cursor.connection.IntegrityError:  # the voter's vote for the entry today: counted
        return _answer(start_response, "409 CONFLICT", {})
    if vote_id is None:
        return _answer(start_response, "429 TOO MANY REQUESTS", {})
    return _answer(start_response, "201 CREATED", {"vote_id": vote_id})


def _answer(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]
