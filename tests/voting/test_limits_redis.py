"""The vote's limits on a Redis of the test's own, which the test restarts: each thread (and each
process) sends the limits' script on a connection of its own (voting/limits.py), and that
connection survives the server going away and coming back without costing a vote."""
import os
import threading

import pytest

from app.extensions import db
from voting.api import voter_token
from voting.limits import take_vote_limits
from voting.models import Voter


@pytest.fixture
def app_settings(own_redis):
    return {"RATELIMIT_STORAGE_URI": own_redis.url}


@pytest.fixture
def token(app):
    voter = Voter(phone_hmac="redis-limits".ljust(64, "x"))
    db.session.add(voter)
    db.session.commit()
    return voter_token(voter.id)


def vote(client, token, entry):
    return client.post("/api/v1/votes", json={"entry_id": entry.id},
                       headers={"Authorization": f"Bearer {token}"},
                       environ_base={"REMOTE_ADDR": "203.0.113.9"})


def test_a_redis_restart_between_votes_costs_no_vote(app, client, voted, token, own_redis):
    _category, entries = voted
    app.config.update(VOTE_LIMITS_PER_VOTER="1/hour")
    assert vote(client, token, entries[0]).status_code == 201
    # The connection this thread holds was closed by the old server; the new one has neither
    # the counts nor the script.
    own_redis.stop()
    own_redis.start()
    assert vote(client, token, entries[1]).status_code == 201
    refused = vote(client, token, entries[2])  # the new server counted the vote above
    assert refused.status_code == 429 and refused.json["error"]["code"] == 429


def test_a_vote_during_the_outage_is_refused_and_the_next_one_after_it_counts(app, client,
                                                                              voted, token,
                                                                              own_redis):
    _category, entries = voted
    own_redis.stop()
    assert vote(client, token, entries[0]).status_code == 503
    own_redis.start()
    assert vote(client, token, entries[0]).status_code == 201


def test_threads_voting_at_once_are_counted_exactly(app):
    app.config.update(VOTE_LIMITS_PER_IP="50/minute", VOTE_LIMITS_PER_VOTER="100000/minute",
                      VOTE_LIMITS_PER_NETWORK="100000/minute")
    results = []

    def take(count):
        with app.app_context():
            results.extend(take_vote_limits(None, "198.51.100.20") for _ in range(count))

    threads = [threading.Thread(target=take, args=(10,)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A connection shared by threads would hand one thread's reply to another, or fail.
    assert sorted(results).count(0) == 50
    assert len(results) == 120 and all(0 < wait <= 60 for wait in results if wait)


def test_a_forked_process_does_not_share_the_parents_connection(app):
    """gunicorn forks its workers: one socket written by two processes at once would mix their
    replies. Parent and child take limits at the same time: every answer is their own, and
    every take is counted once."""
    app.config.update(VOTE_LIMITS_PER_IP="100000/minute", VOTE_LIMITS_PER_VOTER="100000/minute",
                      VOTE_LIMITS_PER_NETWORK="601/minute")
    assert take_vote_limits(None, "198.51.100.30") == 0  # the parent now holds a connection
    child = os.fork()
    if child == 0:  # the child reports through its exit status
        try:
            with app.app_context():
                ok = all(take_vote_limits(None, "198.51.100.31") == 0 for _ in range(300))
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    answers = [take_vote_limits(None, "198.51.100.30") for _ in range(300)]
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert answers == [0] * 300
    assert take_vote_limits(None, "198.51.100.30") > 0  # the network's 601 are all counted
