"""The load test and the crash test of benchmarks/load.py, at a size the suite can afford: many
voters at once over four gunicorn workers; then the same with gunicorn killed (-9) midway."""
from argparse import Namespace

from benchmarks.load import run


def arguments(**values):
    return Namespace(**{"voters": 16, "votes": 1600, "workers": 4, "crash_after": 0,
                        "time_limit": 240, "setting": [], **values})


def test_concurrent_voters_tallies_equal_accepted_votes_and_quotas_hold(app):
    problems, figures = run(arguments(), app, log=lambda _message: None)
    assert problems == []
    # 16 voters x 100 votes, and each voter met the quota once
    assert figures["accepted"] == figures["stored"] == 1600
    assert figures["statuses"] == {"201": 1600, "429": 16}


def test_every_acknowledged_vote_survives_a_killed_server(app):
    messages = []
    problems, figures = run(arguments(crash_after=600), app, log=messages.append)
    assert problems == []  # stored = acknowledged (+ lost-then-confirmed), once, tallies agree
    assert figures["crashed"] and any("killed gunicorn" in m for m in messages)
    assert figures["stored"] == 1600  # the voters carried on after the restart
    assert "lost" in figures["statuses"]  # requests did die with the server
