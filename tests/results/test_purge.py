"""`votes purge` removes the voters' raw metadata once the final lists are out and the retention
period has passed; the counts, the voids and their reasons stay."""
from datetime import timedelta

from sqlalchemy import func, select

from app.database import utcnow
from app.extensions import db
from results import services
from voting import services as voting
from voting.models import VerificationCode, Vote, Voter, VoteStatus


def test_purge_waits_for_the_final_list_and_the_retention_period(app, contest, runner):
    category, entries, organiser = contest
    with app.test_request_context("/", method="POST"):
        voter = Voter(phone_hmac="purge-".ljust(64, "x"))
        db.session.add(voter)
        db.session.flush()
        voting.request_code("13812345678", "1.2.3.4", utcnow() - timedelta(days=35))
        voting.cast_vote(voter.id, entries[0].id, utcnow(), "1.2.3.4", "Mozilla")
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Vote).where(
        Vote.net_hmac.is_not(None))) > 0

    before_final = runner.invoke(args=["votes", "purge", "week"])
    assert before_final.exit_code == 1 and "最终名单" in before_final.output

    with app.test_request_context("/", method="POST"):
        services.publish(category, "final", organiser, utcnow() - timedelta(days=10))
        db.session.commit()
    too_early = runner.invoke(args=["votes", "purge", "week"])
    assert too_early.exit_code == 1 and "尚未到期" in too_early.output

    with app.test_request_context("/", method="POST"):
        final_at = utcnow() - timedelta(days=31)
        db.session.execute(db.update(services.Publication).values(published_at=final_at))
        # a code asked for after the final list (another campaign, say) is not this one's to purge
        voting.request_code("13912345678", "1.2.3.5", utcnow() - timedelta(days=1))
        db.session.commit()
    with_metadata = db.session.scalar(select(func.count()).select_from(Vote).where(
        Vote.net_hmac.is_not(None) | Vote.agent_hmac.is_not(None)))
    valid_before = sorted(v.entry_id for v in db.session.scalars(
        select(Vote).where(Vote.status == VoteStatus.VALID)))
    result = runner.invoke(args=["votes", "purge", "week"])
    assert result.exit_code == 0, result.output
    votes = db.session.scalars(select(Vote).order_by(Vote.id)).all()
    assert result.output.strip() == (
        f"purged metadata of {with_metadata} votes and 1 verification codes")
    assert {(v.net_hmac, v.agent_hmac) for v in votes} == {(None, None)}
    assert sorted(v.entry_id for v in votes if v.status == VoteStatus.VALID) == valid_before
    voided = [v for v in votes if v.status == VoteStatus.VOIDED]
    assert len(voided) == 1 and voided[0].void_reason == "测试"
    assert db.session.scalar(select(func.count()).select_from(VerificationCode)) == 1
