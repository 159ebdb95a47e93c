"""The rate limits of a vote (per address, per /24 network, per voter) taken in one step.

Flask-Limiter checks stacked limits one after the other: a vote cost three round trips to Redis
(and a fourth for the rate-limit headers), and a vote refused by the third limit had already been
counted by the first two. Here the moving windows of all the limits are tested and, only when
every one has room, counted together:

- on Redis, in one Lua script: one round trip, atomic across every worker and machine (one
  Redis server, as the production profile has; a Redis Cluster would need the keys in one slot),
  sent on a connection each thread holds (``_connection``);
- on any other storage (memory:// of one process, for development and the tests), with the
  `limits` library's moving-window strategy under a lock.

The storage is Flask-Limiter's own (``RATELIMIT_STORAGE_URI``), so a Redis outage is the same
``StorageError`` and the same 503 as for every other limit (app/errors.py).
"""
import hashlib
import math
import os
import threading
import time
from collections import namedtuple
from functools import lru_cache

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import TooManyRequests

from app.extensions import limiter
from app.security import network_key

#: KEYS[i] is the moving window of limit i: a list of the times of its hits, newest first.
#: ARGV[1] is now; ARGV[2i] and ARGV[2i+1] are the amount and the period (s) of limit i.
#: Returns 0 when every window had room and all were counted, else the seconds to wait.
ACQUIRE_ALL = """
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
  local amount = tonumber(ARGV[2 * i])
  local period = tonumber(ARGV[2 * i + 1])
  if amount < 1 then
    return period
  end
  local oldest = redis.call('lindex', KEYS[i], amount - 1)
  if oldest and tonumber(oldest) > now - period then
    return math.max(1, math.ceil(tonumber(oldest) + period - now))
  end
end
for i = 1, #KEYS do
  redis.call('lpush', KEYS[i], ARGV[1])
  redis.call('ltrim', KEYS[i], 0, tonumber(ARGV[2 * i]) - 1)
  redis.call('expire', KEYS[i], tonumber(ARGV[2 * i + 1]))
end
return 0
"""

#: The name Redis knows the script by (EVALSHA): its SHA-1, a name, not a safeguard.
SCRIPT_SHA = hashlib.sha1(ACQUIRE_ALL.encode(), usedforsecurity=False).hexdigest()

_lock = threading.Lock()


@lru_cache(maxsize=64)
def _parsed(text):
    return tuple(parse_many(text))


def vote_limits(voter_id, address):
    """The (limit, key) pairs of one vote from ``address``: the settings are read on every call,
    so that a change of the configuration applies at once. Without a verified voter, the
    per-voter limit counts the address instead."""
    config = current_app.config
    pairs = []
    for setting, key in (("VOTE_LIMITS_PER_IP", f"ip:{address}"),
                         ("VOTE_LIMITS_PER_NETWORK", network_key(address)),
                         ("VOTE_LIMITS_PER_VOTER", f"voter:{voter_id}" if voter_id
                          else f"ip:{address}")):
        pairs += [(item, item.key_for("vote", key)) for item in _parsed(config[setting])]
    return pairs


def take_vote_limits(voter_id, address):
    """Count a vote of ``voter_id`` (None when not verified) from ``address`` against its limits:
    0 when counted (or when limits are off), else the seconds to wait, nothing counted."""
    if not limiter.enabled:
        return 0
    return acquire_all(limiter.storage, vote_limits(voter_id, address))


def enforce_vote_limits(voter_id):
    """As ``take_vote_limits`` for the current request, raising 429 with the seconds to wait."""
    wait = take_vote_limits(voter_id, get_remote_address())
    if wait:
        raise TooManyRequests(retry_after=wait)


def acquire_all(storage, pairs, now=None):
    """Count one hit in every (limit, key) window if all have room: 0; else the seconds until the
    fullest window has room again, and nothing is counted."""
    now = time.time() if now is None else now
    if isinstance(storage, RedisStorage):
        return _acquire_on_redis(storage, pairs, now)
    strategy = MovingWindowRateLimiter(storage)
    with _lock:
        for item, key in pairs:
            if not strategy.test(item, key):
                reset, _remaining = strategy.get_window_stats(item, key)
                return max(1, math.ceil(reset - now))
        for item, key in pairs:
            strategy.hit(item, key)
    return 0


#: Each thread's own connection to the limits' Redis (``_connection``).
_held = threading.local()
_Held = namedtuple("_Held", "pool pid connection")


def _acquire_on_redis(storage, pairs, now):
    keys = [storage.prefixed_key(key) for _item, key in pairs]
    args = [repr(now)]
    for item, _key in pairs:
        args += [item.amount, item.get_expiry()]
    connection = _connection(storage)
    try:
        return int(_run_script(connection, keys, args))
    except storage.base_exceptions as error:
        connection.disconnect()  # whatever it was in the middle of: the next vote starts afresh
        raise StorageError(error) from error


def _run_script(connection, keys, args):
    try:
        connection.send_command("EVALSHA", SCRIPT_SHA, len(keys), *keys, *args)
        return connection.read_response()
    except NoScriptError:  # a Redis restarted or flushed since: the script is sent whole once
        connection.send_command("EVAL", ACQUIRE_ALL, len(keys), *keys, *args)
        return connection.read_response()


def _connection(storage):
    """This thread's own connection to the storage's Redis, made by its redis-py pool (same
    address, database, timeouts and parser), but held, not taken from the pool and given back
    for each vote: the pool's checkout, retry and metrics layers cost more CPU than the round
    trip itself (docs/PERFORMANCE.md). A new one is made in a new process (never a socket shared
    across a fork) and for a new storage. As the pool does on checkout, a connection the server
    has closed (a restart) or that holds an unread reply is dropped before it is used."""
    pool = storage.get_connection().connection_pool
    held = getattr(_held, "connection", None)
    if held is None or held.pool is not pool or held.pid != os.getpid():
        held = _held.connection = _Held(pool, os.getpid(), pool.make_connection())
    connection = held.connection
    try:
        stale = connection.can_read()  # connects first if not connected
    except (RedisConnectionError, RedisTimeoutError, OSError):  # closed by the server
        stale = True
    if stale:
        connection.disconnect()  # send_command connects again (or meets the outage)
    return connection

