"""Rate limits hold across gunicorn workers with Redis storage (and, as the control, do not with
memory storage); a Redis outage makes voting answer 503 while pages stay up, and the limits come
back with Redis."""
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.harness import fetch

LIMITS = {"VOTE_LIMITS_PER_IP": "20/minute", "VOTE_LIMITS_PER_NETWORK": "10000/minute",
          "VOTE_LIMITS_PER_VOTER": "10000/minute"}


def vote_attempts(server, count, threads=8):
    """``count`` vote requests (without a voter token, so nothing is written), each on a new
    connection, several at a time: the statuses."""
    def attempt(_):
        return fetch(server.url + "/api/v1/votes", "POST", b'{"entry_id": 1}',
                     {"Content-Type": "application/json"})[0]

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(attempt, range(count)))


@pytest.mark.parametrize("storage", ["redis", "memory"])
def test_the_limit_holds_across_four_workers_only_with_shared_storage(gunicorn, own_redis,
                                                                      storage):
    server = gunicorn(workers=4, storage=own_redis.url if storage == "redis" else "memory://",
                      **LIMITS)
    # Many at once, so that every worker takes some: one idle worker can otherwise serve a short
    # burst alone, and memory storage would then count it once, like Redis.
    statuses = vote_attempts(server, 200, threads=32)
    assert set(statuses) <= {401, 429}
    let_through = statuses.count(401)
    if storage == "redis":
        assert let_through == 20  # one count for the four workers
    else:
        assert let_through > 20  # each worker counts alone: the reason production needs Redis


def test_a_redis_outage_closes_voting_not_the_pages_and_the_limits_come_back(gunicorn,
                                                                              own_redis):
    server = gunicorn(workers=4, storage=own_redis.url, **LIMITS)
    assert vote_attempts(server, 5) == [401] * 5
    own_redis.stop()
    down = vote_attempts(server, 8)
    assert down == [503] * 8  # fail closed: no vote without its limits
    assert fetch(server.url + "/")[0] == 200
    assert fetch(server.url + "/c/nowhere")[0] == 404
    status, body = fetch(server.url + "/healthz")
    assert status == 503 and b'"ratelimit": "unavailable"' in body.replace(b'":"', b'": "')
    own_redis.start()
    back = vote_attempts(server, 30)
    assert back.count(401) == 20 and back.count(429) == 10  # a new Redis: counting starts again
    assert fetch(server.url + "/healthz")[0] == 200


class HungRedis:
    """A server on loopback that takes connections and never answers: Redis stuck (a fork for a
    snapshot of a large dataset, a network that drops packets), not down."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                return

    def close(self):
        self.listener.close()
        for connection in self.accepted:
            connection.close()


def test_a_hung_redis_closes_voting_in_seconds_and_leaves_the_pages(make_app):
    """The limits' Redis takes connections and never answers: a code request is refused with a
    503 within seconds (fail closed), as the health check says, and pages answer. Before, with
    no socket timeout, the request waited without end: every voter's request took a worker
    until gunicorn killed it."""
    hung = HungRedis()
    try:
        app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{hung.port}/0")
        answers = {}

        def ask():
            client = app.test_client()
            answers["code"] = client.post("/api/v1/codes", json={"phone": "13812345678"})
            answers["health"] = client.get("/healthz")

        started = time.monotonic()
        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        asking.join(15)
        assert not asking.is_alive(), "the request still waits on Redis"
        assert time.monotonic() - started < 5  # one second a Redis call at most
        assert answers["code"].status_code == 503 and answers["health"].status_code == 503
        assert app.test_client().get("/").status_code == 200
    finally:
        hung.close()
