"""What the load test, the crash test and the benchmarks share: gunicorn started on loopback with
the production profile, a campaign made for load, and voters with their bearer tokens.

Used by the commands in this folder and by tests/production (the same code at a smaller scale).
"""
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url, method="GET", body=None, headers=None, timeout=10):
    """(status, body bytes) of one request on a new connection."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    """gunicorn -c gunicorn.conf.py on a free loopback port, in a process group of its own."""

    def __init__(self, env, log, workers=4, app="wsgi:app", settings=None, log_level="WARNING",
                 root=PROJECT_ROOT):
        # Another checkout of the project serves its own code, under this one's server settings
        # (gunicorn.conf.py: the same workers, logs and ready lines for every checkout compared).
        self.root = Path(root)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(log)
        self.app = app
        self.env = {
            **os.environ, **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_LOGLEVEL": "info",  # the workers' ready lines (``start``)
            "LOG_FORMAT": "json",
            "LOG_LEVEL": log_level,  # WARNING: a line per request would cost the load its speed
            **{f"FLASK_{name}": str(value) for name, value in (settings or {}).items()},
        }
        self.process = None

    #: What gunicorn.conf.py's post_worker_init writes once a worker has built the app.
    READY = b"Worker ready (pid: "

    def start(self, probe="/healthz"):
        """Start gunicorn and return once every worker has built the app and ``probe`` answers
        200: a burst sent earlier would all go to the first worker up."""
        self.log.touch()
        logged = self.log.stat().st_size  # the log of an earlier start (a restart) is kept
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
                 self.app], cwd=self.root, env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            try:
                if self.ready_workers(logged) >= self.workers and fetch(
                        self.url + probe, timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer: {self.log.read_text()[-3000:]}")

    @property
    def workers(self):
        return int(self.env["GUNICORN_WORKERS"])

    def ready_workers(self, since=0):
        """How many workers have said they are ready in the log since byte ``since``."""
        with self.log.open("rb") as log:
            log.seek(since)
            return log.read().count(self.READY)

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                             text=True, check=False).stdout
        return [int(pid) for pid in out.split()]

    def kill(self):
        """SIGKILL the master and its workers at once: no clean-up, no graceful shutdown."""
        os.killpg(self.process.pid, 9)
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


#: The databases of benchmark runs are named this prefix and the pid of the run's process.
BENCH_DATABASE_PREFIX = "award_bench_"


def _running(pid):
    """Whether a process of this pid runs on this machine (whoever owns it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def own_database(server_url):
    """A new database on the PostgreSQL server of ``server_url`` for one run, dropped after it,
    so that a run never meets the rows of another (None when no URL: SQLite in the instance)."""
    if not server_url:
        yield None
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    url = make_url(server_url)
    name = f"{BENCH_DATABASE_PREFIX}{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def run(sql):
        with admin.connect() as connection:
            result = connection.exec_driver_sql(sql)
            return result.scalars().all() if result.returns_rows else None

    # A run stopped by a signal (SIGTERM, SIGKILL) never reaches the ``finally`` below: its
    # database would stay on the server for good. Drop those of runs no longer running here.
    for stale in run("SELECT datname FROM pg_database"):
        pid = stale.removeprefix(BENCH_DATABASE_PREFIX)
        if stale.startswith(BENCH_DATABASE_PREFIX) and pid.isdigit() and not _running(int(pid)):
            run(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def close_connections(app):
    """Close the pooled connections of the app's engines once this process is done with the
    database (the servers have their own): own_database's DROP ... WITH (FORCE) would otherwise
    cut them, and they would die later with a ResourceWarning."""
    from app.database import dispose_engines

    with app.app_context():
        dispose_engines()


def durability(app, settings=None):
    """(how the database writes a commit, whether that is durable): a benchmark of writes counts
    only on a server that keeps a commit through a crash. PostgreSQL: fsync and
    synchronous_commit on (``scripts/services bench`` starts such a cluster; the test cluster has
    them off). SQLite: WAL with synchronous FULL, or NORMAL (which survives a killed process but
    not a power cut, said as such)."""
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            level = ((settings or {}).get("SQLITE_SYNCHRONOUS")
                     or app.config["SQLITE_SYNCHRONOUS"]).upper()
            return f"SQLite WAL, synchronous={level}", level in ("FULL", "EXTRA")
        with db.engine.connect() as connection:
            found = {name: connection.exec_driver_sql(f"SHOW {name}").scalar()
                     for name in ("fsync", "synchronous_commit")}
    text = "PostgreSQL, " + ", ".join(f"{name}={value}" for name, value in found.items())
    # "off" acknowledges a commit before its flush; every other level waits for it here
    return text, found["fsync"] == "on" and found["synchronous_commit"] != "off"


def app_env(app):
    """The environment that makes gunicorn's app use ``app``'s instance and database."""
    return {
        "INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "VOTER_HMAC_KEY": app.config["VOTER_HMAC_KEY"],
        "RATELIMIT_STORAGE_URI": app.config["RATELIMIT_STORAGE_URI"],
    }


#: Limits stay on in the load runs, set high: every request comes from 127.0.0.1.
LOAD_LIMITS = {"VOTE_LIMITS_PER_IP": "1000000/minute", "VOTE_LIMITS_PER_NETWORK": "1000000/minute",
               "VOTE_LIMITS_PER_VOTER": "100000/minute"}


def make_load_campaign(entries, quota, slug="load"):
    """A public campaign, voting open, one category (public vote only, ``quota`` votes a day) with
    ``entries`` approved entries. Runs inside an app context; returns (category id, entry ids)."""
    from app.database import utcnow
    from app.extensions import db
    from app.models import Agency, Campaign, Category, Criterion
    from nominations.models import Entry, EntryStatus

    now = utcnow()
    campaign = Campaign(slug=slug, title="压力测试", is_public=True,
                        nomination_opens=now - timedelta(days=2),
                        nomination_closes=now - timedelta(days=1),
                        review_opens=now - timedelta(days=1), review_closes=now + timedelta(days=9),
                        voting_opens=now - timedelta(days=1), voting_closes=now + timedelta(days=9))
    category = Category(campaign=campaign, key="hotlines", name="热线", kind="hotline",
                        number_prefix="HL", winners=10, expert_weight=0.0, public_weight=1.0,
                        votes_per_day=quota, last_number=entries)
    category.criteria = [Criterion(name="服务", max_points=100, position=0)]
    agency = Agency(name="压力测试机构")
    db.session.add_all([campaign, category, agency])
    db.session.flush()
    db.session.execute(db.insert(Entry), [
        {"category_id": category.id, "agency_id": agency.id, "number": f"HL-{i:04d}",
         "title": f"热线{i}", "summary": "", "details": {}, "status": EntryStatus.APPROVED,
         "rejection_reason": "", "created_at": now, "updated_at": now}
        for i in range(1, entries + 1)])
    db.session.commit()
    ids = db.session.scalars(db.select(Entry.id).where(Entry.category_id == category.id)
                             .order_by(Entry.id)).all()
    return category.id, ids


def make_voters(count, prefix="load"):
    """``count`` verified voters and their bearer tokens: [(voter id, token)]."""
    from app.extensions import db
    from voting.api import voter_token
    from voting.models import Voter

    voters = [Voter(phone_hmac=f"{prefix}-{i:09d}-".ljust(64, "x")) for i in range(count)]
    db.session.add_all(voters)
    db.session.commit()
    return [(voter.id, voter_token(voter.id)) for voter in voters]


def voter_plan(entry_ids, voters, tries, seed=1):
    """Each voter's own random order of ``tries`` distinct entries."""
    rng = random.Random(seed)
    return {voter: rng.sample(entry_ids, tries) for voter, _token in voters}
