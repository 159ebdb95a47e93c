"""The recount reads its covering indexes; `votes recount` finds and fixes counters that drifted;
a list is not published while they disagree."""
import pytest
from sqlalchemy import update

from app.database import utcnow
from app.extensions import db
from app.models import Role
from results import services as results
from voting import services
from voting.models import EntryTally, Voter

from ..conftest import ON_POSTGRESQL


def _plan(query):
    """The database's plan of ``query`` as one text."""
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    connection = db.session.connection()
    if ON_POSTGRESQL:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny test table
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}").all()
    else:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return " ".join(str(part) for row in rows for part in row)


@pytest.mark.parametrize("by_day, index", [(False, "ix_vote_recount"),
                                           (True, "ix_vote_recount_day")])
def test_the_recount_reads_only_its_covering_index(app, voted, by_day, index):
    category, _entries = voted
    day = utcnow().date() if by_day else None
    plan = _plan(services.recount_query(category, day))
    assert f"{index} " in plan + " " or f"{index}\n" in plan, plan
    if ON_POSTGRESQL:
        assert "Index Only Scan" in plan, plan
    else:
        assert "COVERING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_votes_recount_finds_and_fixes_drifted_counters(app, voted, runner, make_user):
    category, entries = voted
    with app.test_request_context("/", method="POST"):
        for i in range(3):
            voter = Voter(phone_hmac=f"rc-{i}-".ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            services.cast_vote(voter.id, entries[0].id, utcnow())
        db.session.commit()
    agree = runner.invoke(args=["votes", "recount", "week"])
    assert agree.exit_code == 0 and "workers: 3 valid votes; counters agree" in agree.output

    db.session.execute(update(EntryTally).where(EntryTally.entry_id == entries[0].id)
                       .values(valid_votes=5))
    db.session.commit()
    drifted = runner.invoke(args=["votes", "recount", "week"])
    assert drifted.exit_code == 1
    assert f"entry {entries[0].id}: counter 5, vote table 3" in drifted.output
    organiser = make_user(Role.ORGANISER)
    with app.test_request_context("/", method="POST"), pytest.raises(results.ResultsError):
        results.publish(category, "provisional", organiser, utcnow())
    db.session.rollback()

    fixed = runner.invoke(args=["votes", "recount", "week", "--fix"])
    assert fixed.exit_code == 0 and "fixed 1 counters" in fixed.output
    assert services.tallies(category)[entries[0].id] == 3
    assert runner.invoke(args=["votes", "recount", "week"]).exit_code == 0
