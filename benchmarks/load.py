"""Load test and crash test of the vote path, on loopback only, bounded in time.

    python -m benchmarks.load                     64 voters cast 50,000 votes over 4 workers
    python -m benchmarks.load --crash-after 20000 the same, with gunicorn killed (-9) midway and
                                                  restarted; the voters carry on
    options: --voters N --votes N --workers N --database-url URL --redis-url URL --time-limit S

Each voter has a bearer token and goes through its own random order of distinct entries, a few
more than its daily quota, so that every voter also meets the quota. Afterwards it checks, in the
database: the tallies equal the accepted votes exactly, per entry; no voter exceeds the quota;
every vote answered 201 is stored, once; and there was no 5xx. Prints figures and exits 1 if a
check fails.
"""
import argparse
import http.client
import json
import math
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from .harness import (
    LOAD_LIMITS,
    Server,
    app_env,
    close_connections,
    durability,
    make_load_campaign,
    make_voters,
    own_database,
    voter_plan,
)


class Outcome:
    """What the voters saw: per (voter, entry), the statuses in order; latencies; errors."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}
        self.latencies = []
        self.statuses = Counter()
        self.accepted = 0
        self.vote_ids = []

    def record(self, voter, entry, status, latency, vote_id=None):
        with self.lock:
            self.seen.setdefault((voter, entry), []).append(status)
            self.statuses[status] += 1
            if latency is not None:
                self.latencies.append(latency)
            if status == 201:
                self.accepted += 1
                self.vote_ids.append(vote_id)


def _cast(port, token, entry_id):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/api/v1/votes", json.dumps({"entry_id": entry_id}),
                           {"Content-Type": "application/json",
                            "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def run_voters(server, voters, plan, outcome, deadline, pause=None):
    """One thread per voter through its plan. A request that gets no answer (the server is
    down) is 'lost' and retried after the server is back: the retry says 201, or 409 when the
    lost one was stored."""
    def voter_loop(voter, token):
        for entry in plan[voter]:
            while time.monotonic() < deadline:
                if pause is not None:
                    pause.wait()
                started = time.perf_counter()
                try:
                    status, body = _cast(server.port, token, entry)
                except (OSError, http.client.HTTPException):  # refused, reset, cut off midway
                    outcome.record(voter, entry, "lost", None)
                    time.sleep(0.2)
                    continue
                latency = time.perf_counter() - started
                vote_id = json.loads(body).get("vote_id") if status == 201 else None
                outcome.record(voter, entry, status, latency, vote_id)
                if status == 429 and b"quota_used" in body:
                    return  # this voter's votes for today are used up
                break
            else:
                return

    threads = [threading.Thread(target=voter_loop, args=voter) for voter in voters]
    for thread in threads:
        thread.start()
    return threads


def check(outcome, quota, category_id):
    """The database agrees with what the voters were told. Returns a list of problems."""
    from sqlalchemy import func, select

    from app.extensions import db
    from voting.models import EntryTally, Vote, VoteStatus

    problems = []
    stored = set(db.session.execute(select(Vote.voter_id, Vote.entry_id).where(
        Vote.category_id == category_id, Vote.status == VoteStatus.VALID)).all())
    acknowledged = {pair for pair, statuses in outcome.seen.items() if 201 in statuses}
    confirmed_lost = {pair for pair, statuses in outcome.seen.items()
                      if 409 in statuses and "lost" in statuses[:statuses.index(409)]}
    if missing := acknowledged - stored:
        problems.append(f"{len(missing)} votes answered 201 are not stored")
    if unknown := stored - acknowledged - confirmed_lost:
        problems.append(f"{len(unknown)} stored votes were never acknowledged")
    if len(outcome.vote_ids) != len(set(outcome.vote_ids)):
        problems.append("a vote id was given twice")
    plain_409 = [pair for pair, statuses in outcome.seen.items()
                 if 409 in statuses and pair not in confirmed_lost]
    if plain_409:
        problems.append(f"{len(plain_409)} first attempts refused as already voted")
    tallies = dict(db.session.execute(select(EntryTally.entry_id, EntryTally.valid_votes).where(
        EntryTally.category_id == category_id, EntryTally.valid_votes > 0)).all())
    counted = dict(db.session.execute(select(Vote.entry_id, func.count()).where(
        Vote.category_id == category_id, Vote.status == VoteStatus.VALID)
        .group_by(Vote.entry_id)).all())
    if tallies != counted:
        differing = {e for e in set(tallies) | set(counted) if tallies.get(e) != counted.get(e)}
        problems.append(f"tallies differ from the vote table for {len(differing)} entries")
    per_voter = Counter(voter for voter, _entry in stored)
    if over := [v for v, n in per_voter.items() if n > quota]:
        problems.append(f"{len(over)} voters exceed the quota of {quota}")
    if errors := {s: n for s, n in outcome.statuses.items() if isinstance(s, int) and s >= 500}:
        problems.append(f"server errors: {errors}")
    return problems, len(stored)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)] if ordered else 0


def run(args, app, log=print):
    """Prepare, serve, load (and crash), check. Returns (problems, figures)."""
    from app.extensions import db

    quota = math.ceil(args.votes / args.voters)
    tries = quota + max(2, quota // 40)
    with app.app_context():
        category_id, entry_ids = make_load_campaign(tries, quota)
        voters = make_voters(args.voters)
        db.session.remove()
    plan = voter_plan(entry_ids, voters, tries)
    log(f"{args.voters} voters, quota {quota} a day, {tries} entries each: up to "
        f"{args.voters * quota} votes; {args.workers} gunicorn workers")
    settings = {**LOAD_LIMITS, **dict(item.split("=", 1) for item in args.setting)}
    database, _durable = durability(app, settings)
    server = Server(app_env(app), Path(app.instance_path) / "gunicorn.log", args.workers,
                    settings=settings).start()
    outcome, pause = Outcome(), threading.Event()
    pause.set()
    deadline = time.monotonic() + args.time_limit
    started = time.perf_counter()
    threads = run_voters(server, voters, plan, outcome, deadline, pause)
    crashed = False
    try:
        while any(t.is_alive() for t in threads):
            time.sleep(0.05)
            if args.crash_after and not crashed and outcome.accepted >= args.crash_after:
                server.kill()
                crashed = True
                log(f"killed gunicorn (-9) after {outcome.accepted} accepted votes")
                time.sleep(0.5)
                server.start()
                log("restarted; the voters carry on")
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    elapsed = time.perf_counter() - started
    with app.app_context():
        problems, stored = check(outcome, quota, category_id)
        db.session.remove()
    if time.monotonic() >= deadline:
        problems.append(f"the time limit of {args.time_limit} s ran out")
    latencies = outcome.latencies
    figures = {
        "database": database, "accepted": outcome.accepted, "stored": stored, "seconds": round(elapsed, 1),
        "votes_per_second": round(outcome.accepted / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else 0,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "statuses": {str(k): v for k, v in sorted(outcome.statuses.items(), key=str)},
        "crashed": crashed,
    }
    return problems, figures


def make_app(instance, database_url=None, redis_url=None):
    """A fresh instance with a migrated database (SQLite in ``instance`` unless a URL is given)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    config = {"SECRET_KEY": "load-test-secret-key-" + "x" * 20,
              "VOTER_HMAC_KEY": "load-test-voter-key", "INSTANCE_PATH": str(instance),
              "RATELIMIT_STORAGE_URI": redis_url or "memory://"}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    app = create_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=64)
    parser.add_argument("--votes", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--crash-after", type=int, default=0)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--redis-url", default=None, help="default: memory storage")
    parser.add_argument("--time-limit", type=float, default=900)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="an app setting for the server, e.g. SQLITE_SYNCHRONOUS=NORMAL")
    args = parser.parse_args(argv)
    with (tempfile.TemporaryDirectory(prefix="award-load-") as instance,
          own_database(args.database_url) as database_url):
        app = make_app(Path(instance), database_url, args.redis_url)
        problems, figures = run(args, app)
        close_connections(app)
    print(json.dumps(figures, ensure_ascii=False))
    for problem in problems:
        print(f"FAILED: {problem}")
    print("all checks passed" if not problems else f"{len(problems)} checks failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
