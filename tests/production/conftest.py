"""The production profile for real: gunicorn with several workers on loopback (benchmarks/
harness.py), over the test's own database, with the rate-limit storage the test chooses (a Redis
of the test's own: ``own_redis`` in tests/conftest.py)."""
import pytest

from benchmarks.harness import Server, app_env


@pytest.fixture
def gunicorn(app, tmp_path):
    """gunicorn(workers=4, storage="memory://", **settings) -> a started Server."""
    from app.extensions import db

    db.session.commit()
    servers = []

    def start(workers=4, storage="memory://", log_level="WARNING", **settings):
        env = {**app_env(app), "RATELIMIT_STORAGE_URI": storage}
        server = Server(env, tmp_path / f"gunicorn-{len(servers)}.log", workers,
                        settings=settings, log_level=log_level).start(probe="/")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
