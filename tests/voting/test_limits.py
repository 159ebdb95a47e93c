"""The vote's three rate limits (address, /24 network, voter) are taken in one step: all of them
count a vote, or none does (voting/limits.py; Redis in the PostgreSQL run, memory otherwise)."""
import pytest

from app.extensions import db
from voting.api import voter_token
from voting.models import Voter


@pytest.fixture
def tokens(app, voted):
    voters = [Voter(phone_hmac=f"limits-{i}".ljust(64, "x")) for i in range(2)]
    db.session.add_all(voters)
    db.session.commit()
    return [voter_token(voter.id) for voter in voters]


def vote(client, token, entry, address="203.0.113.7"):
    return client.post("/api/v1/votes", json={"entry_id": entry.id},
                       headers={"Authorization": f"Bearer {token}"},
                       environ_base={"REMOTE_ADDR": address})


def test_a_vote_refused_by_one_limit_is_not_counted_by_the_others(app, client, voted, tokens):
    _category, entries = voted
    # Flask-Limiter took stacked limits one by one, shortest period first: the address's try was
    # counted before the voter's limit refused it.
    app.config.update(VOTE_LIMITS_PER_VOTER="2/hour", VOTE_LIMITS_PER_IP="3/minute",
                      VOTE_LIMITS_PER_NETWORK="100/minute")
    first, second = tokens
    statuses = [vote(client, first, entry).status_code for entry in entries[:3]]
    assert statuses == [201, 201, 429]  # the voter's own limit
    # The refused try took nothing from the address: it has used two of its three.
    assert vote(client, second, entries[0]).status_code == 201
    refused = vote(client, second, entries[1])
    assert refused.status_code == 429  # now the address's limit
    assert refused.json["error"]["code"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_rotating_addresses_inside_one_network_gains_nothing(app, client, voted, tokens):
    _category, entries = voted
    app.config.update(VOTE_LIMITS_PER_VOTER="100/minute", VOTE_LIMITS_PER_IP="100/minute",
                      VOTE_LIMITS_PER_NETWORK="3/minute")
    token = tokens[0]
    statuses = [vote(client, token, entries[0], f"198.51.100.{10 + i}").status_code
                for i in range(4)]
    assert statuses == [201, 409, 409, 429]  # every try counts, whatever its answer
    assert vote(client, tokens[1], entries[0], "192.0.2.1").status_code == 201  # another network


def test_a_try_without_a_token_is_limited_by_its_address(app, client, voted):
    _category, entries = voted
    app.config.update(VOTE_LIMITS_PER_VOTER="2/minute", VOTE_LIMITS_PER_IP="100/minute")
    statuses = [client.post("/api/v1/votes", json={"entry_id": entries[0].id}).status_code
                for _ in range(3)]
    assert statuses == [401, 401, 429]
