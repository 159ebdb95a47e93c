"""Writes keep one order on SQLite (BEGIN IMMEDIATE) and PostgreSQL (an advisory lock); the
vote path runs without that lock on PostgreSQL; the audit log is append-only and transactional."""
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from app.extensions import db
from app.models import AuditLog, Campaign

from ..conftest import ON_POSTGRESQL, IsolatedClient, csrf_token, write_lock_held


@pytest.mark.sqlite_only
def test_sqlite_pragmas(app):
    connection = db.session.connection()
    assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def _increment_concurrently(app, campaign_id, method, threads=8, rounds=25):
    """Threads that each read a counter, pause, and write it back plus one."""
    errors = []
    barrier = threading.Barrier(threads)

    def work():
        barrier.wait()
        for _ in range(rounds):
            with app.test_request_context("/", method=method):
                try:
                    campaign = db.session.get(Campaign, campaign_id)
                    value = campaign.objection_days
                    time.sleep(0.001)
                    campaign.objection_days = value + 1
                    db.session.commit()
                except OperationalError as error:
                    db.session.rollback()
                    errors.append(str(error.orig))
                finally:
                    db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_read_then_write_transactions_never_fail_and_never_lose_an_update(app, make_campaign):
    """Writes begin IMMEDIATE (SQLite) or take the write lock (PostgreSQL), so they queue: no
    error and no lost update."""
    campaign_id = make_campaign(objection_days=0).id
    db.session.commit()  # the test itself holds no transaction while the threads run
    errors = _increment_concurrently(app, campaign_id, "POST")
    assert errors == []
    assert db.session.get(Campaign, campaign_id).objection_days == 8 * 25


def test_the_same_load_in_deferred_transactions_does_fail(app, make_campaign):
    """The control: without the write order (as GET requests begin) the same load breaks:
    SQLite fails with "database is locked", PostgreSQL loses updates."""
    campaign_id = make_campaign(objection_days=0).id
    db.session.commit()
    errors = _increment_concurrently(app, campaign_id, "GET")
    if ON_POSTGRESQL:
        assert errors == []
        assert db.session.get(Campaign, campaign_id).objection_days < 8 * 25
    else:
        assert errors and all("locked" in e for e in errors)


def test_the_audit_log_refuses_updates_and_deletes(app, make_campaign):
    make_campaign()
    db.session.commit()
    for statement in ("UPDATE audit_log SET actor_label = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 1


def test_a_rolled_back_change_leaves_no_audit_row(app, make_campaign):
    campaign = make_campaign()
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    campaign.title = "改了又撤销"
    db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_a_write_that_waits_too_long_for_the_lock_is_told_to_try_again(make_app):
    """While a long write holds the lock past the wait a request is given (SQLite's busy
    timeout, PostgreSQL's lock timeout), a write request is answered 503 with Retry-After and
    a message in the visitor's language, as a page or as JSON: not a 500, and the worker is
    free again in time (on PostgreSQL it waited without end, past gunicorn's timeout). Once the
    lock is free, the same request goes through."""
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=200, POSTGRES_LOCK_TIMEOUT_MS=200)
    app.test_client_class = IsolatedClient
    client = app.test_client()
    with app.app_context():
        token = csrf_token(client, "/vote/verify")
        with write_lock_held():
            started = time.monotonic()
            api = client.post("/api/v1/codes", json={"phone": "13812345678"})
            page = client.post("/vote/verify", data={"phone": "13912345678", "csrf_token": token})
            waited = time.monotonic() - started
        # At least 5 s (Flask-Limiter raises it to the end of a limit's window on limited routes).
        assert api.status_code == 503 and int(api.headers["Retry-After"]) >= 5
        assert api.json["error"]["message"] == "网站此刻繁忙，请过几秒再试。"
        assert page.status_code == 503 and int(page.headers["Retry-After"]) >= 5
        assert "网站此刻繁忙，请过几秒再试。" in page.get_data(as_text=True)
        assert waited < 5
        assert client.post("/api/v1/codes", json={"phone": "13812345678"}).status_code == 202


def test_a_mistake_in_a_query_is_still_a_server_error(make_app):
    """Only a busy or absent database is a 503: a query the database refuses (here a table
    that does not exist) is a mistake of ours, logged and answered 500, never hidden as busy."""
    app = make_app(PROPAGATE_EXCEPTIONS=False)  # as in production: the 500 page, not a raise

    def broken():
        db.session.execute(text("SELECT * FROM no_such_table"))

    app.add_url_rule("/broken", view_func=broken)
    answer = app.test_client().get("/broken")
    assert answer.status_code == 500 and "Retry-After" not in answer.headers


def test_a_database_that_is_away_is_a_503_not_a_500(tmp_path):
    """PostgreSQL stopped or out of reach: pages answer 503 with Retry-After in the visitor's
    language (the health check says which part is down), not a 500."""
    from app import create_app
    from benchmarks.harness import free_port

    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://nobody@127.0.0.1:"
                                                 f"{free_port()}/nothing"})
    answer = app.test_client().get("/")
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 5
    assert "网站此刻繁忙，请过几秒再试。" in answer.get_data(as_text=True)


def test_a_database_that_never_answers_is_a_503_within_seconds(tmp_path):
    """PostgreSQL's address takes the connection and never answers (a host stuck, a network
    that drops packets): the page answers 503 within POSTGRES_CONNECT_TIMEOUT, instead of
    holding its worker until gunicorn kills it."""
    import socket
    import threading

    from app import create_app

    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    try:
        app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True,
                          "POSTGRES_CONNECT_TIMEOUT": 2,
                          "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://nobody@127.0.0.1:"
                                                     f"{listener.getsockname()[1]}/nothing"})
        answers = []
        asking = threading.Thread(target=lambda: answers.append(app.test_client().get("/")),
                                  daemon=True)
        started = time.monotonic()
        asking.start()
        asking.join(15)
        assert not asking.is_alive(), "the page still waits on the database"
        assert time.monotonic() - started < 6 and answers[0].status_code == 503
    finally:
        listener.close()
        for connection in held:
            connection.close()
