"""What the benchmarks say of the database they measure (a vote's figure counts only where a
commit is durable: benchmarks/harness.py ``durability``), and the databases they leave."""
import json
import logging
import os
import re
import subprocess

import pytest
from sqlalchemy.engine import make_url

from app.extensions import db
from benchmarks import cpu, http, monitoring, pages
from benchmarks.harness import durability, own_database
from tests.conftest import ON_POSTGRESQL, require


def test_the_benchmarks_say_whether_the_database_commits_durably(app):
    text, durable = durability(app)
    if db.engine.dialect.name == "sqlite":
        assert (text, durable) == ("SQLite WAL, synchronous=FULL", True)
        assert durability(app, {"SQLITE_SYNCHRONOUS": "normal"}) == (
            "SQLite WAL, synchronous=NORMAL", False)
        return
    with db.engine.connect() as connection:
        fsync, commit = (connection.exec_driver_sql(f"SHOW {name}").scalar()
                         for name in ("fsync", "synchronous_commit"))
    assert text == f"PostgreSQL, fsync={fsync}, synchronous_commit={commit}"
    assert durable is (fsync == "on" and commit != "off")
    # whatever the server, a database that acknowledges commits before their flush is not durable
    with db.engine.begin() as connection:
        name = connection.exec_driver_sql("SELECT current_database()").scalar()
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    db.engine.dispose()
    assert durability(app) == (f"PostgreSQL, fsync={fsync}, synchronous_commit=off", False)


@pytest.mark.skipif(not ON_POSTGRESQL, reason="a benchmark's own database is a PostgreSQL one")
def test_a_benchmark_drops_the_databases_that_killed_runs_left_behind(postgres):
    admin = postgres.admin

    def databases():
        with admin.connect() as connection:
            return set(connection.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE datname LIKE 'award_bench_%%'").scalars())

    finished = subprocess.Popen(["true"])
    finished.wait()
    running = subprocess.Popen(["sleep", "60"])
    killed, other = f"award_bench_{finished.pid}", f"award_bench_{running.pid}"
    try:
        with admin.connect() as connection:
            for name in (killed, other):
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        with own_database(os.environ["TEST_DATABASE_URL"]) as url:
            own = make_url(url).database
            assert own == f"award_bench_{os.getpid()}"
            # the killed run's database is gone; a run still going keeps its own
            assert {own, other} <= databases() and killed not in databases()
        assert own not in databases()
    finally:
        running.kill()
        running.wait()
        with admin.connect() as connection:
            for name in (killed, other):
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def own_logging():
    """The benchmark's app is not a testing one: it points the root logger at the stderr of the
    moment (here capsys's, closed after the test). Put pytest's logging back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_http_benchmark_measures_every_path_beside_the_floor(capsys, own_logging):
    """benchmarks.http end to end at a size the suite affords (runs of 1 s, 2 workers): every
    figure is there, and every vote it sent was accepted (a vote refused would be counted as a
    vote measured; the vote button answers a refusal with a redirect too, counted apart)."""
    require("wrk", "the HTTP benchmark's load")
    server = [] if not ON_POSTGRESQL else [
        "--database-url", os.environ["TEST_DATABASE_URL"],
        "--redis-url", os.environ["TEST_REDIS_URL"]]
    http.main(["--votes", "2000", "--voters", "40", "--workers", "2", "--seconds", "1", *server])
    out = capsys.readouterr().out.splitlines()
    figures = json.loads(out[0])
    assert figures["workers"] == 2
    for name in ("vote", "tally", "entry", "gallery", "voter_entry", "page_vote", "receipt"):
        run = figures[name]
        assert len(run["runs_rps"]) == len(run["floor_runs_rps"]) == 3
        assert min(run["floor_runs_rps"]) > 0 and run["rps"] > 0 and run["p99_ms"] > 0
        assert 0 < run["ratio"] < 2 and run["non_2xx"] == 0 and run["refused"] == 0, name
        assert any(line.startswith(name) and f"{run['ratio']:.1%}" in line for line in out)
    assert 0 < figures["peak_worker_mb"] < 1000 and 0 < figures["peak_worker_mb_after_all"] < 1000
    assert out[1].startswith(f"database: {figures['database']}")
    assert out[-1].startswith(("all goals met", "missed: "))


def test_the_cpu_benchmark_gives_each_round_and_the_ratios(capsys, own_logging):
    """benchmarks.cpu end to end, two rounds of 1 s: the floor and the vote take turns (on
    PostgreSQL and Redis with the two reference votes of benchmarks/reference.py), every vote run
    is accepted whole, and the summary's ratios are those of the rounds."""
    require("wrk", "the CPU benchmark's load")
    server = [] if not ON_POSTGRESQL else [
        "--database-url", os.environ["TEST_DATABASE_URL"],
        "--redis-url", os.environ["TEST_REDIS_URL"], "--reference"]
    names = ["floor", "vote", *(["statement", "insert"] if ON_POSTGRESQL else [])]
    assert cpu.main(["--rounds", "2", "--seconds", "1", "--workers", "2", *server]) == 0
    out = capsys.readouterr().out.splitlines()
    rounds = [re.match(r"round (\d) (\w+) +(\d+) req/s  CPU ([\d.]+) ms/req  \(PostgreSQL "
                       r"([\d.]+), Redis ([\d.]+)\)$", line) for line in out[:2 * len(names)]]
    assert all(rounds), out  # a line with "non-2xx" at its end would not match
    assert [(m[1], m[2]) for m in rounds] == [(str(n), name) for n in (1, 2) for name in names]
    assert all(int(m[3]) > 0 and float(m[4]) > 0 for m in rounds)
    runs = {name: [m for m in rounds if m[2] == name] for name in names}
    if ON_POSTGRESQL:  # each vote's statement and limits are counted to their servers
        assert all(float(m[5]) > 0 and float(m[6]) > 0
                   for name in names[1:] for m in runs[name])
    for name in names[1:]:
        summary = re.match(rf"{name}: requests/s ([\d.]+)% .*; CPU per request ([\d.]+)% .*; "
                           r"CPU per request without PostgreSQL's and Redis's ([\d.]+)% ",
                           next(line for line in out if line.startswith(f"{name}: ")))
        by_rate = [int(vote[3]) / int(floor[3])
                   for vote, floor in zip(runs[name], runs["floor"], strict=True)]
        assert float(summary[1]) == pytest.approx(100 * sum(by_rate) / 2, abs=0.2)
        if ON_POSTGRESQL:
            assert float(summary[3]) > float(summary[2])  # the database's share taken out


def test_a_server_process_that_ends_during_a_run_is_not_subtracted_from_its_share():
    """An autovacuum worker that ends between the two readings of a run took its CPU with it:
    the PostgreSQL share of that run was negative (seen: -1.162 ms a request)."""
    before = {("postgres", "10"): 50.0, ("postgres", "11"): 80.0, ("redis", "12"): 3.0}
    after = {("postgres", "10"): 52.5, ("postgres", "13"): 0.5, ("redis", "12"): 3.25}
    assert cpu.group_delta(before, after) == {"postgres": 3.0, "redis": 0.25}


def test_the_monitoring_benchmark_voids_the_script_through_its_page(capsys, own_logging):
    """benchmarks.monitoring at a small size: the page is read, its first button (the script's
    fixed interval) voids exactly the script's votes, told in one audit row."""
    server = [] if not ON_POSTGRESQL else ["--database-url", os.environ["TEST_DATABASE_URL"]]
    assert monitoring.main(["--votes", "3000", "--brushed", "600", "--entries", "50",
                            "--repeat", "1", *server]) == 0
    out = capsys.readouterr().out.splitlines()
    figures = json.loads(out[0])
    assert figures["voided"] == 600 and figures["audit_rows"] == 1
    assert figures["page_ms"] > 0 and figures["void_ms"] > 0 and figures["baseline_count_ms"] > 0
    assert figures["void_form_kb"] < 1  # the button names its signal, not its 600 votes
    assert out[1].startswith("page_ms") and out[2].startswith("void_ms")
    assert figures["void_lock_wait_ms"] >= 0 and out[3].startswith("another writer waited")


def test_the_pages_benchmark_reads_every_page_it_names(capsys, own_logging):
    """benchmarks.pages at a small size: every organiser and public page answers, each with its
    time, size and statements, beside the baseline; the campaign page counts the seeded votes."""
    server = [] if not ON_POSTGRESQL else ["--database-url", os.environ["TEST_DATABASE_URL"]]
    assert pages.main(["--votes", "2000", "--entries", "40", "--reviews", "120", "--repeat", "1",
                       *server]) == 0
    out = capsys.readouterr().out.splitlines()
    figures = json.loads(out[0])
    assert set(figures["pages"]) == set(pages.ORGANISER_PAGES) | set(pages.PUBLIC_PAGES)
    assert all(p["ms"] > 0 and p["kb"] > 0 and p["statements"] > 0
               for p in figures["pages"].values())
    assert figures["baseline_ms"] > 0
    assert len(out) == 2 + len(figures["pages"]) and out[-1].startswith("baseline")
