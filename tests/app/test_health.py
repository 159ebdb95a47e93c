"""/healthz says whether the database and the rate-limit storage answer; logs are structured
and name routes, never paths that can carry secrets."""
import json
import logging
import socket

from app.logs import JSONFormatter


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert (response.json["database"], response.json["ratelimit"]) == ("ok", "ok")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_rate_limit_storage_down_is_reported(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed_port()}/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert (response.json["database"], response.json["ratelimit"]) == ("ok", "unavailable")


def test_the_database_down_is_reported(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unavailable"


def test_each_request_is_logged_with_its_route_not_its_path(client, caplog):
    caplog.set_level(logging.INFO, logger="app.requests")
    token = "s3cr3t-reset-token"
    response = client.get(f"/auth/reset/{token}?phone=13812345678",
                          headers={"X-Request-ID": "abc123"})
    record = next(r for r in caplog.records if r.name == "app.requests")
    assert (record.route, record.method, record.status) == (
        "/auth/reset/<token>", "GET", response.status_code)
    assert record.request_id == "abc123" and response.headers["X-Request-ID"] == "abc123"
    line = JSONFormatter().format(record)
    data = json.loads(line)
    assert data["route"] == "/auth/reset/<token>" and data["duration_ms"] >= 0
    assert token not in line and "13812345678" not in line
