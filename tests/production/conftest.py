"""The production profile for real: gunicorn with several workers on loopback, over the test's
own database, with the rate-limit storage the test chooses."""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from app.config import PROJECT_ROOT


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url, method="GET", body=None, headers=None, timeout=10):
    """(status, body bytes) of one request on a new connection."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    def __init__(self, app, tmp_path, workers, storage, settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"gunicorn-{self.port}.log"
        self.env = {
            **os.environ,
            "INSTANCE_PATH": app.instance_path,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "VOTER_HMAC_KEY": app.config["VOTER_HMAC_KEY"],
            "RATELIMIT_STORAGE_URI": storage,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "LOG_FORMAT": "json",
            **{f"FLASK_{name}": str(value) for name, value in settings.items()},
        }
        self.process = None

    def start(self):
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
                 "wsgi:app"], cwd=PROJECT_ROOT, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            try:
                if fetch(self.url + "/", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer: {self.log.read_text()[-3000:]}")

    def kill(self):
        """SIGKILL the whole process group: the master and its workers, with no clean-up."""
        os.killpg(self.process.pid, 9)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def gunicorn(app, tmp_path):
    """gunicorn(workers=4, storage="memory://", **settings) -> a started Server."""
    from app.extensions import db

    db.session.commit()
    servers = []

    def start(workers=4, storage="memory://", **settings):
        server = Server(app, tmp_path, workers, storage, settings).start()
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
