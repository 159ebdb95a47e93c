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
    """The shape of the plan: the covering index alone, in entry order (no sort, no table)."""
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


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL's planner (SQLite's is checked above)")
@pytest.mark.parametrize("by_day, index", [(False, "ix_vote_recount"),
                                           (True, "ix_vote_recount_day")])
def test_the_recount_reads_its_index_when_a_scan_of_the_table_looks_cheaper(app, voted, by_day,
                                                                            index):
    """Where a category holds nearly every vote (the benchmark's, a small table), PostgreSQL's
    planner costs a scan of the whole table below the index and chooses it: twice as slow at a
    million votes (docs/PERFORMANCE.md). The plan the recount really runs, as PostgreSQL's
    auto_explain reports it, reads the covering index."""
    category, entries = voted
    now = utcnow()
    for i in range(40):
        voter = Voter(phone_hmac=f"recount-{i:04d}".ljust(64, "x"))
        db.session.add(voter)
        db.session.flush()
        services.cast_vote(voter.id, entries[i % len(entries)].id, now)
    db.session.commit()
    connection = db.session.connection()
    connection.exec_driver_sql("ANALYZE vote")
    plans = []

    def keep(notice):
        plans.append(notice.message_primary)

    driver = connection.connection.dbapi_connection
    driver.add_notice_handler(keep)
    try:
        for setting in ("LOAD 'auto_explain'", "SET LOCAL auto_explain.log_min_duration = 0",
                        "SET LOCAL auto_explain.log_level = notice"):
            connection.exec_driver_sql(setting)
        day = services.vote_day(now, category.campaign.timezone) if by_day else None
        assert sum(services.recount(category, day).values()) == 40
    finally:  # the connection goes back to the pool
        driver.remove_notice_handler(keep)
    plan = "\n".join(text for text in plans if "GROUP BY" in text)
    assert f"Index Only Scan using {index} on vote" in plan, plan
    assert "Seq Scan" not in plan, plan
    # the setting that brings it about holds for the recount alone
    assert connection.exec_driver_sql("SHOW enable_seqscan").scalar() == "on"


@pytest.mark.skipif(not ON_POSTGRESQL, reason="a PostgreSQL storage parameter")
def test_autovacuum_keeps_up_with_the_votes_for_the_recount(app):
    """The visibility map the recount's index-only scans rely on is refreshed after 1% new votes,
    not autovacuum's default 20% (migration 9e41c7b2d305)."""
    options = db.session.connection().exec_driver_sql(
        "SELECT reloptions FROM pg_class WHERE relname = 'vote'").scalar()
    assert "autovacuum_vacuum_insert_scale_factor=0.01" in options
