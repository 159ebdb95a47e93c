"""`flask backup` copies the SQLite database consistently while votes keep arriving."""
import sqlite3
import threading

import pytest

from app.backup import backup_sqlite, sqlite_path
from app.database import utcnow
from app.extensions import db
from voting import services
from voting.models import Voter

from ..conftest import ON_POSTGRESQL


def _vote_until(app, entry_ids, stop, counter):
    """Keep casting votes, each by a new voter, until ``stop`` is set."""
    index = 0
    while not stop.is_set():
        with app.test_request_context("/", method="POST"):
            voter = Voter(phone_hmac=f"backup-{index}".ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            services.cast_vote(voter.id, entry_ids[index % len(entry_ids)], utcnow())
            db.session.commit()
            db.session.remove()
        index += 1
        counter.append(index)


def _consistent(path):
    """Every entry's counter equals its valid votes in the copy: one committed state."""
    with sqlite3.connect(path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counted = dict(copy.execute("SELECT entry_id, count(*) FROM vote WHERE status = 'valid' "
                                    "GROUP BY entry_id").fetchall())
        tallies = dict(copy.execute("SELECT entry_id, valid_votes FROM entry_tally "
                                    "WHERE valid_votes > 0").fetchall())
        return counted, tallies, sum(counted.values())


@pytest.mark.sqlite_only
def test_a_backup_taken_during_voting_is_one_committed_state(app, voted, runner, tmp_path):
    _category, entries = voted
    entry_ids = [e.id for e in entries]
    db.session.commit()
    stop, counter = threading.Event(), []
    writer = threading.Thread(target=_vote_until, args=(app, entry_ids, stop, counter))
    writer.start()
    try:
        while len(counter) < 20:
            stop.wait(0.01)
        # small steps, so that votes land between them and the copy has to follow
        summary = backup_sqlite(sqlite_path(db.engine), tmp_path / "step.db", pages=1)
        result = runner.invoke(args=["backup", "-o", str(tmp_path / "cli.db")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output and "vote " in result.output
    for path in (tmp_path / "step.db", tmp_path / "cli.db"):
        counted, tallies, total = _consistent(path)
        assert counted == tallies and 20 <= total <= len(counter)
    assert summary["tables"]["vote"] >= 20
    again = runner.invoke(args=["backup", "-o", str(tmp_path / "cli.db")])
    assert again.exit_code == 1 and "exists already" in again.output


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the PostgreSQL run checks this")
def test_postgresql_is_backed_up_with_its_own_tools(runner):
    result = runner.invoke(args=["backup"])
    assert result.exit_code == 1 and "pg_dump" in result.output
