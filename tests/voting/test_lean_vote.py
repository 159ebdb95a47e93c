"""The API vote's lean route (app/lean.py, voting.api.cast_lean): the common vote is answered
before Flask's request machinery, and every answer is the one the view gives."""
import logging
from contextlib import nullcontext

import pytest
from flask import request
from limits.errors import StorageError
from psycopg.pq import TransactionStatus

from app.database import AUTOCOMMIT_BIND, utcnow
from app.extensions import db
from voting import limits, services
from voting.models import DailyQuota, EntryTally, Vote, Voter

from .test_api import voter_token

VOTES = "/api/v1/votes"


@pytest.fixture
def hooked(app):
    """The paths of the requests that ran the before-request hooks (the full path)."""
    paths = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: paths.append(request.path))
    return paths


def test_a_plain_vote_takes_the_lean_path_and_a_refusal_the_full_one(app, client, spec, voted,
                                                                     hooked):
    entries = voted[1]
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}"}
    hooked.clear()
    first = client.post(VOTES, json={"entry_id": entries[0].id}, headers=auth)
    assert first.status_code == 201 and hooked == []
    with_charset = client.post(VOTES, data=f'{{"entry_id": {entries[1].id}}}', headers={
        **auth, "Content-Type": "application/json; charset=utf-8"})
    assert with_charset.status_code == 201 and hooked == []
    again = client.post(VOTES, json={"entry_id": entries[0].id}, headers=auth)
    assert again.status_code == 409 and hooked == [VOTES]
    assert again.json["error"]["message"] == "您今天已为该作品投过票。"


#: Flask-Login reads the session after every full request, and Flask then adds "Vary: Cookie";
#: an answer to a POST is never cached, and the lean route reads no cookie.
NOT_COMPARED = {"Vary"}


def _vote_answers(client, auth, entries, category):
    """Status, header names and the body without its times and ids, for one voter's day."""
    answers = []
    for entry in (entries[0], entries[0], entries[1], entries[2], entries[3]):
        response = client.post(VOTES, json={"entry_id": entry.id}, headers=auth)
        body = dict(response.json)
        if response.status_code == 201:
            assert body.pop("vote_id") > 0 and body.pop("cast_at")
        answers.append((response.status_code, _names(response), body))
    category.voting_closes = category.campaign.voting_opens  # the vote closes
    db.session.commit()
    closed = client.post(VOTES, json={"entry_id": entries[4].id}, headers=auth)
    category.voting_closes = None
    db.session.commit()
    answers.append((closed.status_code, _names(closed), closed.json))
    return answers


def _names(response):
    return sorted(set(response.headers.keys()) - NOT_COMPARED)


def test_the_lean_path_answers_as_the_full_view(app, client, spec, voted, monkeypatch):
    category, entries = voted
    lean_auth = {"Authorization": f"Bearer {voter_token(app, client, spec, '13812345678')}"}
    full_auth = {"Authorization": f"Bearer {voter_token(app, client, spec, '13912345678')}"}
    lean_answers = _vote_answers(client, lean_auth, entries, category)
    monkeypatch.delitem(app.lean_routes, ("POST", VOTES))
    full_answers = _vote_answers(client, full_auth, entries, category)
    assert [status for status, _headers, _body in lean_answers] == [201, 409, 201, 201, 429, 403]
    assert lean_answers == full_answers
    assert "Retry-After" in lean_answers[4][1]
    assert {"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
            "Referrer-Policy", "X-Request-ID"} <= set(lean_answers[0][1])


def test_refusals_are_in_the_voters_language(app, client, spec, voted):
    entries = voted[1]
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}"}
    for entry in entries[:3]:
        assert client.post(VOTES, json={"entry_id": entry.id}, headers=auth).status_code == 201
    chinese = client.post(VOTES, json={"entry_id": entries[3].id}, headers=auth)
    assert chinese.json["error"]["message"] == "您今天在本类别的 3 票已用完，请明天再来。"
    client.get("/lang/en")
    english = client.post(VOTES, json={"entry_id": entries[3].id}, headers=auth)
    assert english.json["error"]["message"] == (
        "You have used your 3 votes in this category today. Come back tomorrow.")


def test_a_lean_answer_has_its_log_line_and_the_callers_request_id(app, client, spec, voted,
                                                                  caplog):
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}",
            "X-Request-ID": "abc123"}
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.requests"):
        response = client.post(VOTES, json={"entry_id": voted[1][0].id}, headers=auth)
    assert response.status_code == 201 and response.headers["X-Request-ID"] == "abc123"
    lines = [r for r in caplog.records if r.name == "app.requests"]
    assert [(r.route, r.status, r.request_id) for r in lines] == [(VOTES, 201, "abc123")]
    assert lines[0].duration_ms > 0


@pytest.mark.parametrize("query, body, status", [
    ("?x=%00", '{"entry_id": %d}', 400),
    ("", '{"entry_id": %d, "note": "\\u0000"}', 400),
    ("", '{"entry_id": %d.0}', 422),
    ("", '{"entry_id": %d, "entry_id": true}', 422),
    ("", '[%d]', 422),
    ("", '{"entry_id": %d' + ' ' * 300 + '}', 201),  # longer than the lean route reads: the view
])
def test_requests_the_lean_path_leaves_get_the_full_views_answer(app, client, spec, voted, hooked,
                                                                  query, body, status):
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}",
            "Content-Type": "application/json"}
    hooked.clear()
    response = client.post(VOTES + query, data=body % voted[1][0].id, headers=auth)
    assert response.status_code == status and hooked == [VOTES]
    stored = db.session.query(Vote).count()
    assert stored == (1 if status == 201 else 0)


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "PUT"])
def test_only_a_post_casts_a_vote(app, client, spec, voted, method):
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}"}
    response = client.open(VOTES, method=method, json={"entry_id": voted[1][0].id}, headers=auth)
    assert response.status_code in (200, 405) and db.session.query(Vote).count() == 0


@pytest.fixture
def broken_tally(app):
    """The vote's last write (the tally) fails in the database, as a full disk or a bug would:
    a trigger refuses it. Yields a function that mends it."""
    sqlite = db.engine.dialect.name == "sqlite"
    create = (["CREATE TRIGGER refuse_tally BEFORE INSERT ON entry_tally "
               "BEGIN SELECT RAISE(ABORT, 'the tally is broken'); END"] if sqlite else
              ["CREATE FUNCTION refuse_tally() RETURNS trigger LANGUAGE plpgsql AS "
               "$$ BEGIN RAISE EXCEPTION 'the tally is broken'; END $$",
               "CREATE TRIGGER refuse_tally BEFORE INSERT OR UPDATE ON entry_tally "
               "FOR EACH ROW EXECUTE FUNCTION refuse_tally()"])
    drop = (["DROP TRIGGER IF EXISTS refuse_tally"] if sqlite else
            ["DROP TRIGGER IF EXISTS refuse_tally ON entry_tally",
             "DROP FUNCTION IF EXISTS refuse_tally()"])

    def run(statements):
        db.session.rollback()
        for statement in statements:
            db.session.execute(db.text(statement))
        db.session.commit()

    run(create)
    yield lambda: run(drop)
    run(drop)


def test_a_vote_whose_last_write_fails_leaves_nothing_written(app, client, spec, voted,
                                                              broken_tally, monkeypatch):
    entries = voted[1]
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}"}
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # answered as in production
    failed = client.post(VOTES, json={"entry_id": entries[0].id}, headers=auth)
    assert failed.status_code == 500 and failed.json["error"]["code"] == 500
    db.session.expire_all()
    assert db.session.query(Vote).count() == 0
    assert db.session.query(DailyQuota).count() == db.session.query(EntryTally).count() == 0
    broken_tally()
    retried = client.post(VOTES, json={"entry_id": entries[0].id}, headers=auth)
    assert retried.status_code == 201 and retried.json["votes_left"] == 2


def test_the_limits_refusal_and_a_storage_outage_are_answered_by_the_view(app, client, spec,
                                                                          voted, monkeypatch):
    entries = voted[1]
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}"}
    monkeypatch.setitem(app.config, "VOTE_LIMITS_PER_VOTER", "2/minute")
    assert client.post(VOTES, json={"entry_id": entries[0].id}, headers=auth).status_code == 201
    # refused by the rules after the lean route counted it: the view must not count it again
    again = client.post(VOTES, json={"entry_id": entries[0].id}, headers=auth)
    assert again.status_code == 409
    over = client.post(VOTES, json={"entry_id": entries[1].id}, headers=auth)
    assert over.status_code == 429 and 0 < int(over.headers["Retry-After"]) <= 60
    assert over.json["error"]["code"] == 429

    def down(*args, **kwargs):
        raise StorageError(ConnectionError("Redis is down"))

    monkeypatch.setattr(limits, "acquire_all", down)
    outage = client.post(VOTES, json={"entry_id": entries[2].id}, headers=auth)
    assert outage.status_code == 503 and outage.headers["Retry-After"] == "60"
    assert db.session.query(Vote).count() == 1


def _autocommit_engine():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the autocommit engine is the PostgreSQL vote's (SQLite begins IMMEDIATE)")
    db.session.commit()
    return db.engines[AUTOCOMMIT_BIND]


def test_the_vote_runs_in_autocommit_and_never_on_the_sessions_connections(app):
    """The vote's statement is its own transaction; the ORM session's pool never gets a
    connection in autocommit, whether the vote went through or the worker failed in it."""
    engine = _autocommit_engine()
    session_connections = db.engine.pool.checkedout()
    for failing in (False, True):
        with pytest.raises(RuntimeError) if failing else nullcontext():
            with services.vote_transaction() as cursor:
                assert cursor.connection.autocommit is True
                assert db.engine.pool.checkedout() == session_connections
                assert engine.pool.checkedout() == 1
                if failing:
                    raise RuntimeError("the worker failed")
        assert engine.pool.checkedout() == 0
    with db.engine.connect() as connection:  # the session's engine: transactions as ever
        assert connection.connection.driver_connection.autocommit is False


@pytest.mark.parametrize("how", ["closed", "in the middle of a statement"])
def test_a_connection_left_broken_by_the_vote_is_dropped_not_reused(app, how):
    """The autocommit pool does not reset a connection on return: one closed under the vote (a
    restart) or left in the middle of a statement (a worker's timeout) is dropped instead."""
    engine = _autocommit_engine()
    with pytest.raises(RuntimeError) if how != "closed" else nullcontext():
        with services.vote_transaction() as cursor:
            left = cursor.connection
            if how == "closed":
                left.close()
            else:
                left.pgconn.send_query(b"SELECT pg_sleep(0.5)")
                raise RuntimeError("the worker timed out")
    assert engine.pool.checkedout() == 0
    with services.vote_transaction() as cursor:
        assert cursor.connection is not left
        cursor.execute("SELECT 1")
        assert cursor.fetchall() == [(1,)]


def test_a_refused_vote_leaves_its_connection_ready_for_the_next(app, voted):
    """A statement that fails (a second vote for the entry today) leaves no transaction open."""
    _category, entries = voted
    _autocommit_engine()
    voter = Voter(phone_hmac="r".ljust(64, "x"))
    db.session.add(voter)
    db.session.commit()
    with services.vote_transaction() as cursor:
        services.cast_vote(voter.id, entries[0].id, utcnow(), cursor=cursor)
    with pytest.raises(services.AlreadyVoted), services.vote_transaction() as cursor:
        services.cast_vote(voter.id, entries[0].id, utcnow(), cursor=cursor)
    with services.vote_transaction() as cursor:
        assert cursor.connection.info.transaction_status == TransactionStatus.IDLE
        services.cast_vote(voter.id, entries[1].id, utcnow(), cursor=cursor)
    assert db.session.query(Vote).filter_by(voter_id=voter.id).count() == 2
