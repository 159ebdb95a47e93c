"""Rate limits hold across gunicorn workers with Redis storage (and, as the control, do not with
memory storage); a Redis outage makes voting answer 503 while pages stay up, and the limits come
back with Redis."""
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
