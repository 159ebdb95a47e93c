"""`votes purge` removes raw voter metadata after the retention period, keeping counts and voids."""
from datetime import timedelta

from sqlalchemy import func, select

from app.database import utcnow
from app.extensions import db
from voting import services
from voting.models import VerificationCode, Vote, Voter, VoteStatus


def test_purge_waits_for_the_retention_period_then_keeps_only_what_counts(app, voted, runner):
    category, entries = voted
    with app.test_request_context("/", method="POST"):
        voter = Voter(phone_hmac="purge-".ljust(64, "x"))
        db.session.add(voter)
        db.session.flush()
        services.request_code("13812345678", "1.2.3.4", utcnow() - timedelta(days=35))
        first = services.cast_vote(voter.id, entries[0].id, utcnow(), "1.2.3.4", "Mozilla")
        services.cast_vote(voter.id, entries[1].id, utcnow(), "1.2.3.4", "Mozilla")
        vote = db.session.get(Vote, first.vote_id)
        vote.status, vote.void_reason = VoteStatus.VOIDED, "测试作废"
        db.session.commit()
    early = runner.invoke(args=["votes", "purge", "week"])
    assert early.exit_code == 1 and "尚未到期" in early.output
    category.campaign.voting_closes = utcnow() - timedelta(days=31)
    category.campaign.voting_opens = utcnow() - timedelta(days=40)
    db.session.commit()
    result = runner.invoke(args=["votes", "purge", "week"])
    assert result.exit_code == 0, result.output
    assert "purged metadata of 2 votes and 1 verification codes" in result.output
    votes = db.session.scalars(select(Vote).order_by(Vote.id)).all()
    assert [(v.net_hmac, v.agent_hmac) for v in votes] == [(None, None), (None, None)]
    assert [v.status for v in votes] == [VoteStatus.VOIDED, VoteStatus.VALID]
    assert votes[0].void_reason == "测试作废"
    assert db.session.scalar(select(func.count()).select_from(VerificationCode)) == 0
