"""Casting votes: the window, one vote per entry per day, the daily quota (also under
concurrent requests), days in the campaign's time zone, tallies and what the public sees."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.database import utcnow
from app.extensions import db
from nominations.models import EntryStatus
from voting import services
from voting.models import DailyQuota, EntryTally, Vote, Voter

from ..conftest import csrf_token


def new_voter(phone_hmac="v"):
    voter = Voter(phone_hmac=(phone_hmac + "-").ljust(64, "x"))
    db.session.add(voter)
    db.session.flush()
    voter_id = voter.id
    db.session.commit()
    return voter_id


def vote_around(category, timezone, moment):
    """The category's campaign in ``timezone``, its vote open two days either side of
    ``moment`` (the caller commits)."""
    category.campaign.timezone = timezone
    category.campaign.voting_opens = moment - timedelta(days=2)
    category.campaign.voting_closes = moment + timedelta(days=2)


def vote(client, entry):
    return client.post(f"/vote/entries/{entry.id}",
                       data={"csrf_token": csrf_token(client, "/vote/verify")})


def test_a_citizen_verifies_votes_and_gets_a_receipt(app, voted, verified):
    category, entries = voted
    client = verified()
    response = vote(client, entries[0])
    assert response.status_code == 302 and response.headers["Location"].startswith("/vote/receipts/")
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "投票成功" in receipt and "SW-001" in receipt and "本类别今日剩余票数" in receipt
    assert "<dd>2</dd>" in receipt
    assert app.test_client().get(response.headers["Location"]).status_code == 404  # not yours


def test_voting_needs_a_verified_phone_first(app, voted):
    category, entries = voted
    client = app.test_client()
    response = vote(client, entries[0])
    assert response.status_code == 302 and response.headers["Location"].startswith("/vote/verify")
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_the_devices_voter_cookie_expires_and_an_api_token_is_no_cookie(
        app, voted, verified, monkeypatch):
    import voting.session
    from voting.api import voter_token

    category, entries = voted
    client = verified()
    assert vote(client, entries[0]).headers["Location"].startswith("/vote/receipts/")
    later = voting.session.time() + app.config["VOTER_SESSION_DAYS"] * 86400 + 60
    with monkeypatch.context() as patch:
        patch.setattr(voting.session, "time", lambda: later)
        assert vote(client, entries[1]).headers["Location"].startswith("/vote/verify")
    stranger = app.test_client()
    with app.test_request_context("/"):
        stranger.set_cookie("voter", voter_token(new_voter("app")))  # signed for the API
    assert vote(stranger, entries[1]).headers["Location"].startswith("/vote/verify")
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1


def test_a_vote_without_the_csrf_token_is_refused(app, voted, verified):
    category, entries = voted
    client = verified()
    assert client.post(f"/vote/entries/{entries[0].id}").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_one_vote_per_entry_per_day_and_the_daily_quota(app, voted, verified):
    category, entries = voted
    client = verified()
    vote(client, entries[0])
    again = client.get(vote(client, entries[0]).headers["Location"]).get_data(as_text=True)
    assert "您今天已为该作品投过票" in again
    vote(client, entries[1])
    vote(client, entries[2])
    fourth = client.get(vote(client, entries[3]).headers["Location"]).get_data(as_text=True)
    assert "您今天在本类别的 3 票已用完" in fourth
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 3
    assert db.session.scalar(select(DailyQuota.used)) == 3


def test_the_vote_button_says_before_the_click_what_a_vote_would_meet(app, voted, verified):
    category, entries = voted
    client = verified()

    def page(entry):
        return client.get(f"/c/week/workers/{entry.number}").get_data(as_text=True)

    form = f'action="/vote/entries/{entries[0].id}"'
    first = page(entries[0])
    assert form in first and "为 SW-001 投票" in first and "本类别今日剩余票数：3" in first
    vote(client, entries[0])
    first = page(entries[0])
    assert "今天已为 SW-001 投票" in first and form not in first and "disabled" in first
    assert "本类别今日剩余票数：2" in first
    second = page(entries[1])
    assert f'action="/vote/entries/{entries[1].id}"' in second and "disabled" not in second
    vote(client, entries[1])
    vote(client, entries[2])
    for entry in entries:  # the quota used: no form on any entry of the category
        html = page(entry)
        assert "今日票数已用完" in html and "您今天在本类别的 3 票已用完，请明天再来。" in html
        assert f'action="/vote/entries/{entry.id}"' not in html
    # another voter, on the same page, still has a button
    assert f'action="/vote/entries/{entries[0].id}"' in verified("13912345678").get(
        "/c/week/workers/SW-001").get_data(as_text=True)


def test_a_refused_vote_leaves_the_quota_and_the_tally_untouched(app, voted):
    category, entries = voted
    voter = new_voter()
    now = utcnow()
    with app.test_request_context("/", method="POST"):
        services.cast_vote(voter, entries[0].id, now)
        db.session.commit()
        with pytest.raises(services.AlreadyVoted):
            services.cast_vote(voter, entries[0].id, now)
        db.session.rollback()
    assert db.session.scalar(select(DailyQuota.used)) == 1
    assert services.tallies(category) == {entries[0].id: 1}


def test_a_vote_for_an_entry_that_does_not_exist_is_not_found(app, voted, verified):
    client = verified()
    response = client.post("/vote/entries/999999",
                           data={"csrf_token": csrf_token(client, "/vote/verify")})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
    assert db.session.scalar(select(func.count()).select_from(DailyQuota)) == 0


@pytest.mark.parametrize("change, words", [
    ("closed", "现在不在投票时间内"),
    ("not_approved", "该作品不接受投票"),
    ("no_public_vote", "该类别不设公众投票"),
])
def test_votes_outside_the_rules_are_refused_with_the_reason(app, voted, verified, change, words):
    category, entries = voted
    if change == "closed":
        category.campaign.voting_closes = utcnow() - timedelta(seconds=1)
    elif change == "not_approved":
        entries[0].status = EntryStatus.WITHDRAWN
    else:
        category.expert_weight, category.public_weight = 1.0, 0.0
    db.session.commit()
    client = verified()
    response = vote(client, entries[0])
    page = client.get(response.headers["Location"])
    assert words in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


@pytest.mark.parametrize("timezone, midnight", [
    ("Asia/Shanghai", datetime(2030, 6, 1, 16, 0, tzinfo=UTC)),  # 00:00 on 2 June in Shanghai
    # On PostgreSQL a vote is first tried as one statement for a campaign in the site's zone:
    # one elsewhere must still get its own days (00:00 on 2 June in New York is noon in China).
    ("America/New_York", datetime(2030, 6, 2, 4, 0, tzinfo=UTC)),
])
def test_a_minute_before_and_after_midnight_are_different_days(app, voted, timezone, midnight):
    category, entries = voted
    voter = new_voter()
    vote_around(category, timezone, midnight)
    category.votes_per_day = 1
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        before = services.cast_vote(voter, entries[0].id, midnight - timedelta(minutes=1))
        db.session.commit()
        with pytest.raises(services.QuotaUsed):
            services.cast_vote(voter, entries[1].id, midnight - timedelta(minutes=2))
        db.session.rollback()
        after = services.cast_vote(voter, entries[0].id, midnight + timedelta(minutes=1))
        db.session.commit()
    assert str(before.vote_day) == "2030-06-01" and str(after.vote_day) == "2030-06-02"
    assert after.votes_left == 0 and services.tallies(category)[entries[0].id] == 2


@pytest.mark.parametrize("timezone, moment", [
    ("Asia/Shanghai", datetime(2030, 6, 1, 20, 0, tzinfo=UTC)),  # 04:00 on 2 June in Shanghai
    # 22:00 on 1 June in New York, when it is already 2 June in China: the receipt must count
    # the votes left on the campaign's own day.
    ("America/New_York", datetime(2030, 6, 2, 2, 0, tzinfo=UTC)),
])
def test_the_receipt_counts_the_votes_left_on_the_campaigns_own_day(app, voted, timezone, moment):
    category, entries = voted
    voter = new_voter()
    vote_around(category, timezone, moment)
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        first = services.cast_vote(voter, entries[0].id, moment - timedelta(minutes=5))
        services.cast_vote(voter, entries[1].id, moment - timedelta(minutes=4))
        db.session.commit()
    with app.test_request_context("/"):
        shown = services.receipt_of(first.vote_id, voter, moment)
        assert services.receipt_of(first.vote_id, new_voter("another"), moment) is None
        assert services.receipt_of(first.vote_id, None, moment) is None
        next_day = services.receipt_of(first.vote_id, voter, moment + timedelta(days=1))
    assert (shown.number, shown.title, shown.votes_left) == ("SW-001", "社工1", 1)
    assert shown.cast_at == moment - timedelta(minutes=5) and shown.timezone == timezone
    assert next_day.votes_left == 3  # a new day in the campaign: the whole quota again


def _burst(app, voter_id, entry_ids, threads=20, path="session"):
    """Fire one vote per thread at once; returns the outcomes. ``path``: the ORM session's
    transaction (the pages, the API's view) or ``vote_transaction`` (the API's lean route: in
    autocommit on PostgreSQL)."""
    db.session.commit()  # the test itself must hold no transaction (and no lock) meanwhile
    barrier = threading.Barrier(threads)
    outcomes = []

    def one(entry_id):
        barrier.wait()
        with app.test_request_context("/", method="POST"):
            try:
                if path == "session":
                    services.cast_vote(voter_id, entry_id, utcnow())
                    db.session.commit()
                else:
                    with services.vote_transaction() as cursor:
                        services.cast_vote(voter_id, entry_id, utcnow(), cursor=cursor)
                outcomes.append("ok")
            except services.VotingError as error:
                db.session.rollback()
                outcomes.append(error.code)
            except Exception as error:  # noqa: BLE001 - any other failure is a bug to show
                db.session.rollback()
                outcomes.append(repr(error))
            finally:
                db.session.remove()

    workers = [threading.Thread(target=one, args=(entry_ids[i % len(entry_ids)],))
               for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


@pytest.mark.parametrize("path", ["session", "vote_transaction"])
def test_concurrent_votes_of_one_voter_never_exceed_the_quota(app, voted, path):
    category, entries = voted
    voter = new_voter()
    outcomes = _burst(app, voter, [e.id for e in entries], threads=20, path=path)
    assert outcomes.count("ok") == 3
    assert set(outcomes) <= {"ok", "quota_used", "already_voted"}
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 3
    assert db.session.scalar(select(DailyQuota.used)) == 3


@pytest.mark.parametrize("path", ["session", "vote_transaction"])
def test_concurrent_votes_for_one_entry_count_once(app, voted, path):
    category, entries = voted
    voter = new_voter()
    outcomes = _burst(app, voter, [entries[0].id], threads=12, path=path)
    assert outcomes.count("ok") == 1 and outcomes.count("already_voted") == 11
    assert db.session.scalar(select(DailyQuota.used)) == 1
    assert services.tallies(category) == {entries[0].id: 1}


def test_tallies_always_equal_a_recount(app, voted):
    category, entries = voted
    for n in range(6):
        voter = new_voter(f"voter{n}")
        _burst(app, voter, [e.id for e in entries[: 1 + n % 5]], threads=4)
    counted = services.recount(category)
    assert services.tallies(category) == counted
    assert sum(counted.values()) == db.session.scalar(select(func.count()).select_from(Vote))
    assert db.session.scalar(select(func.sum(EntryTally.valid_votes))) == sum(counted.values())


@pytest.mark.parametrize("visibility, shown, hidden", [
    ("live", "2 票", "当前排名"),
    ("ranking_only", "当前排名第 1", "2 票"),
    ("after_close", None, "2 票"),
])
def test_what_the_public_sees_of_the_votes(app, voted, visibility, shown, hidden):
    category, entries = voted
    category.tally_visibility = visibility
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        for n in range(2):
            services.cast_vote(new_voter(f"p{n}"), entries[0].id, utcnow())
        db.session.commit()
    page = app.test_client().get("/c/week/workers/SW-001").get_data(as_text=True)
    if shown:
        assert shown in page
    assert hidden not in page
    if visibility == "ranking_only":
        other = app.test_client().get("/c/week/workers/SW-002").get_data(as_text=True)
        assert "当前排名第 2" in other  # one entry has more votes than SW-002
    if visibility == "after_close":
        category.campaign.voting_closes = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert "2 票" in app.test_client().get("/c/week/workers/SW-001").get_data(as_text=True)


def test_a_forged_forwarded_for_does_not_escape_the_per_ip_limit(app, voted, verified):
    category, entries = voted
    app.config["VOTE_LIMITS_PER_IP"] = "2/minute"  # read on every request
    client = verified()
    codes = []
    for i, entry in enumerate(entries[:4]):
        response = client.post(f"/vote/entries/{entry.id}", data={
            "csrf_token": csrf_token(client, "/vote/verify")},
            headers={"X-Forwarded-For": f"203.0.113.{i}"})
        codes.append(response.status_code)
    assert codes == [302, 302, 429, 429]
    assert int(response.headers["Retry-After"]) > 0
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 2


def test_code_requests_are_rate_limited_per_ip(app, voted):
    app.config["CODE_LIMITS_PER_IP"] = "2/minute"
    client = app.test_client()
    codes = [client.post("/vote/verify", data={
        "phone": f"1390000000{i}", "csrf_token": csrf_token(client, "/vote/verify")}
    ).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_when_the_rate_limit_storage_fails_voting_answers_503_and_pages_still_work(
        app, voted, verified, monkeypatch, caplog):
    from limits.errors import StorageError
    from redis import Redis

    from app.extensions import limiter
    from benchmarks.harness import free_port

    category, entries = voted
    client = verified()

    def broken(*args, **kwargs):
        raise StorageError(ConnectionError("storage unreachable"))

    for method in ("acquire_entry", "get_moving_window", "incr", "get"):
        monkeypatch.setattr(limiter.storage, method, broken, raising=False)
    # The vote's own limits (voting/limits.py) meet a Redis nobody answers at.
    monkeypatch.setattr(limiter.storage, "get_connection", lambda: Redis(port=free_port()),
                        raising=False)
    refused = vote(client, entries[0])
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
    assert "服务暂时不可用" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
    assert client.post("/vote/verify", data={"phone": "13912345678", "csrf_token": csrf_token(
        client, "/vote/verify")}).status_code == 503
    assert client.get("/c/week/workers/SW-001").status_code == 200
    assert client.get("/c/week/workers/").status_code == 200
    assert "rate-limit storage failed" in caplog.text


def test_rotating_addresses_inside_one_network_gains_nothing(app, voted):
    """Code requests and sign-ins are also limited per /24."""
    app.config["CODE_LIMITS_PER_NETWORK"] = "3/minute"
    app.config["LOGIN_LIMIT_PER_NETWORK"] = "3/minute"
    client = app.test_client()
    codes, logins = [], []
    for i in range(5):
        environ = {"REMOTE_ADDR": f"198.51.100.{10 + i}"}
        codes.append(client.post("/vote/verify", data={
            "phone": f"1390000000{i}", "csrf_token": csrf_token(client, "/vote/verify")},
            environ_base=environ).status_code)
        logins.append(client.post("/auth/login", data={
            "email": f"u{i}@example.com", "password": "wrong password",
            "csrf_token": csrf_token(client)}, environ_base=environ).status_code)
    assert codes == [200, 200, 200, 429, 429]
    assert logins == [200, 200, 200, 429, 429]
    other = client.post("/vote/verify", data={
        "phone": "13700000009", "csrf_token": csrf_token(client, "/vote/verify")},
        environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 200  # another network is not affected
