"""The vote path writes through the driver directly: what it stores reads back through the ORM
exactly as a vote written by the ORM would, on SQLite and on PostgreSQL."""
from datetime import UTC, datetime

from app.extensions import db
from voting import services
from voting.models import DailyQuota, EntryTally, Vote, Voter, VoteStatus


def test_a_vote_reads_back_as_written(app, voted):
    category, entries = voted
    now = datetime(2026, 11, 22, 17, 30, 5, 123456, tzinfo=UTC)  # 01:30 next day in Shanghai
    category.campaign.voting_opens = datetime(2026, 11, 1, tzinfo=UTC)
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        voter = Voter(phone_hmac="path-".ljust(64, "x"))
        db.session.add(voter)
        db.session.flush()
        voter_id = voter.id
        receipt = services.cast_vote(voter_id, entries[1].id, now, "203.0.113.9", "Mozilla/5.0")
        db.session.commit()
    db.session.expire_all()
    vote = db.session.get(Vote, receipt.vote_id)
    assert (vote.voter_id, vote.entry_id, vote.category_id) == (voter_id, entries[1].id,
                                                                 category.id)
    assert vote.created_at == now and vote.created_at.tzinfo is not None
    assert vote.vote_day.isoformat() == "2026-11-23" == receipt.vote_day.isoformat()
    assert vote.status == VoteStatus.VALID and vote.void_reason == ""
    assert len(vote.net_hmac) == len(vote.agent_hmac) == 64
    quota = db.session.get(DailyQuota, (voter_id, category.id, vote.vote_day))
    assert quota.used == 1 and receipt.votes_left == category.votes_per_day - 1
    assert db.session.get(EntryTally, entries[1].id).valid_votes == 1
