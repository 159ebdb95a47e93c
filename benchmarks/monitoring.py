"""The organiser's vote monitoring at a city's size: a day of 100,000 votes, a fifth of them a
brushing script's, looked at and voided through the pages.

    python -m benchmarks.monitoring [--votes N] [--brushed N] [--database-url URL] [--repeat N]

Seeds the last 24 hours of a category: people's votes from many networks, and ``--brushed``
votes of a script for one entry, one new voter each, from one network at a fixed interval (every
signal of the monitoring fires on it). Signs an organiser in, then prints, beside the baseline
measured in the same run (one indexed count of the category's votes), the monitoring page's time
and size, and the time of its button that voids the largest signal, with how many votes it voided
and the audit rows it wrote, and the longest another writer waited for the app's write lock
while the button ran (the time the void held it). The page's form is read from the page itself,
as a browser sends it.
"""
import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from contextlib import closing
from datetime import timedelta
from html import unescape
from pathlib import Path

INPUT_RE = re.compile(r'<input\b[^>]*>')
ATTR_RE = re.compile(r'(\w+)="([^"]*)"')
FORM_RE = re.compile(r'<form method="post" action="([^"]*/void[^"]*)"[^>]*>(.*?)</form>', re.S)


def seed_day(category_id, entry_ids, votes, brushed, seed=11):
    """``votes`` valid votes over the last 23 hours, ``brushed`` of them a script's: one new
    voter per vote for the first entry, from one network, every few seconds up to now."""
    from sqlalchemy import insert

    from app.database import utcnow
    from app.extensions import db
    from voting.models import EntryTally, Vote, Voter, VoteStatus

    rng = random.Random(seed)
    now = utcnow()
    people = votes - brushed
    per_voter = 4
    voters = people // per_voter + brushed + 1
    connection = db.session.connection()
    connection.execute(insert(Voter.__table__), [
        {"id": i, "phone_hmac": f"day-{i:09d}-".ljust(64, "x"), "first_seen": now,
         "last_seen": now} for i in range(1, voters + 1)])
    rows, counts = [], {}

    def add(voter_id, entry_id, at, net):
        rows.append({"voter_id": voter_id, "entry_id": entry_id, "category_id": category_id,
                     "vote_day": at.date(), "created_at": at, "status": VoteStatus.VALID,
                     "net_hmac": net, "agent_hmac": "agent"})
        counts[entry_id] = counts.get(entry_id, 0) + 1

    voter = 0
    while sum(counts.values()) < people:
        voter += 1
        at = now - timedelta(seconds=rng.uniform(60, 23 * 3600))
        for entry_id in rng.sample(entry_ids[1:], min(per_voter, people - sum(counts.values()))):
            add(voter, entry_id, at + timedelta(seconds=rng.uniform(0, 30)),
                f"net-{rng.randrange(5_000):05d}")
    gap = min(4.0, 22 * 3600 / max(1, brushed))
    for i in range(brushed):
        add(voter + 1 + i, entry_ids[0], now - timedelta(seconds=gap * (brushed - i) + 30),
            "net-script")
    rows.sort(key=lambda row: row["created_at"])  # ids in the order of the votes, as cast
    for start in range(0, len(rows), 50_000):
        connection.execute(insert(Vote.__table__), rows[start:start + 50_000])
    connection.execute(insert(EntryTally.__table__), [
        {"entry_id": e, "category_id": category_id, "valid_votes": n} for e, n in counts.items()])
    db.session.commit()


def void_form(html):
    """(action, fields) of the page's first void button's form, with its hidden inputs."""
    action, body = FORM_RE.search(html).groups()
    fields = {}
    for tag in INPUT_RE.findall(body):
        attrs = dict(ATTR_RE.findall(tag))
        if attrs.get("type") == "hidden":
            fields[attrs["name"]] = unescape(attrs.get("value", ""))
    return unescape(action), fields


class LockWatch(threading.Thread):
    """Another writer beside the app: takes the app's write lock (SQLite's BEGIN IMMEDIATE,
    PostgreSQL's advisory lock), gives it back and takes it again, every 5 ms until stopped;
    ``longest`` is its longest wait in ms."""

    def __init__(self, url):
        super().__init__(daemon=True)
        self.url, self.longest, self.done = url, 0.0, threading.Event()

    def run(self):
        if self.url.get_backend_name() == "sqlite":
            import sqlite3

            other = sqlite3.connect(self.url.database, timeout=60, isolation_level=None)
            take, give = "BEGIN IMMEDIATE", "ROLLBACK"
        else:
            import psycopg

            from app.database import WRITE_LOCK_KEY

            other = psycopg.connect(self.url.set(drivername="postgresql")
                                    .render_as_string(hide_password=False), autocommit=True)
            take = f"SELECT pg_advisory_lock({WRITE_LOCK_KEY})"
            give = f"SELECT pg_advisory_unlock({WRITE_LOCK_KEY})"
        with closing(other):
            while not self.done.is_set():
                begun = time.perf_counter()
                other.execute(take)
                self.longest = max(self.longest, 1000 * (time.perf_counter() - begun))
                other.execute(give)
                time.sleep(0.005)

    def stop(self):
        self.done.set()
        self.join()
        return round(self.longest, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--brushed", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)

    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditLog, Role, User
    from voting.models import Vote, VoteStatus

    from .harness import close_connections, make_load_campaign, own_database
    from .load import make_app
    from .ranking import timed

    with (tempfile.TemporaryDirectory(prefix="award-monitor-") as instance,
          own_database(args.database_url) as database_url):
        app = make_app(Path(instance), database_url)
        with app.app_context():
            started = time.perf_counter()
            category_id, entry_ids = make_load_campaign(args.entries, 10)
            seed_day(category_id, entry_ids, args.votes, args.brushed)
            organiser = User(email="organiser@example.test", name="组织者", role=Role.ORGANISER)
            organiser.set_password("monitoring benchmark")
            db.session.add(organiser)
            db.session.commit()
            seeded = time.perf_counter() - started
            baseline = timed(lambda: db.session.scalar(select(func.count()).select_from(Vote).where(
                Vote.category_id == category_id)), args.repeat)
            url = db.engine.url
            db.session.remove()

        client = app.test_client()
        login = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        assert client.post("/auth/login", data={
            "email": "organiser@example.test", "password": "monitoring benchmark",
            "csrf_token": token}).status_code == 302
        page_url = "/vote/manage/load/hotlines/fraud"
        times, html = [], ""
        for _ in range(args.repeat):
            begun = time.perf_counter()
            response = client.get(page_url)
            times.append(1000 * (time.perf_counter() - begun))
            assert response.status_code == 200, response.status_code
            html = response.get_data(as_text=True)
        action, fields = void_form(html)
        fields["reason"] = "脚本刷票（基准测试）"
        watch = LockWatch(url)
        watch.start()
        begun = time.perf_counter()
        voided = client.post(action, data=fields)
        void_ms = 1000 * (time.perf_counter() - begun)
        lock_wait = watch.stop()
        assert voided.status_code == 302, voided.get_data(as_text=True)[:300]
        with app.app_context():
            figures = {
                "database": db.engine.dialect.name, "votes": args.votes,
                "brushed": args.brushed, "seed_seconds": round(seeded, 1),
                "baseline_count_ms": baseline,
                "page_ms": round(statistics.median(times), 1),
                "page_kb": round(len(html.encode()) / 1024, 1),
                "void_form_kb": round(sum(len(k) + len(v) for k, v in fields.items()) / 1024, 1),
                "void_ms": round(void_ms, 1), "void_lock_wait_ms": lock_wait,
                "voided": db.session.scalar(select(func.count()).select_from(Vote).where(
                    Vote.status == VoteStatus.VOIDED)),
                "audit_rows": db.session.scalar(select(func.count()).select_from(AuditLog).where(
                    AuditLog.action.like("vote.void%")))}
            db.session.remove()
        close_connections(app)
    print(json.dumps(figures, ensure_ascii=False))
    for name in ("page_ms", "void_ms"):
        print(f"{name:10} {figures[name]:9.1f} ms  ({figures[name] / baseline:.0f}x the baseline "
              f"count, {baseline} ms)")
    print(f"another writer waited at most {lock_wait} ms for the write lock during the void")
    print(f"page {figures['page_kb']} KB, of which the void form {figures['void_form_kb']} KB; "
          f"{figures['voided']} votes voided, {figures['audit_rows']} audit rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
