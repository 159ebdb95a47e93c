"""The production profile for real: gunicorn with several workers on loopback (benchmarks/
harness.py), over the test's own database, with the rate-limit storage the test chooses."""
import subprocess
import time

import pytest

from benchmarks.harness import Server, app_env, free_port


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


class RedisServer:
    """A Redis of the test's own on a free loopback port, to stop and start at will."""

    def __init__(self, binary, tmp_path):
        self.binary, self.port = binary, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    from ..conftest import require

    server = RedisServer(require("redis-server", "rate limits across workers use Redis"),
                         tmp_path).start()
    yield server
    server.stop()
