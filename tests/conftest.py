"""Shared fixtures: a real SQLite file per test (migrated once per session, then copied),
a client, a CLI runner, and factories for accounts, campaigns and categories."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from app import create_app
from app.config import PROJECT_ROOT
from app.database import WRITE_LOCK_KEY, dispose_engines, utcnow
from app.extensions import db
from app.mail import wait_for_deliveries
from app.models import Agency, Campaign, Category, Criterion, Role, User, UserStatus
from benchmarks.harness import free_port

PASSWORD = "correct horse battery"
DEMO_FILE = PROJECT_ROOT / "demo" / "gz-2020-social-work-week.yaml"


#: The suite runs on SQLite by default, and again on PostgreSQL + Redis with TEST_BACKEND=postgresql
#: (`make test` does both; scripts/services starts the servers and sets TEST_DATABASE_URL and
#: TEST_REDIS_URL).
BACKEND = os.environ.get("TEST_BACKEND", "sqlite")
ON_POSTGRESQL = BACKEND == "postgresql"


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: checks something only SQLite has")
    if ON_POSTGRESQL and not os.environ.get("TEST_DATABASE_URL"):
        raise pytest.UsageError("TEST_BACKEND=postgresql needs TEST_DATABASE_URL "
                                "(eval \"$(scripts/services start)\")")


def pytest_report_header(config):
    return f"database: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRESQL:
        skip = pytest.mark.skip(reason="SQLite only (this run is on PostgreSQL)")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


def base_config(instance, database_uri=None):
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "VOTER_HMAC_KEY": "test-voter-key",
        "SQLALCHEMY_DATABASE_URI": database_uri or f"sqlite:///{instance / 'platform.db'}",
        "RATELIMIT_STORAGE_URI": os.environ["TEST_REDIS_URL"] if ON_POSTGRESQL else "memory://",
        "MAIL_BACKEND": "console",
        "SERVER_NAME": None,
        "PUBLIC_CACHE_SECONDS": 0,  # tests/app/test_cache.py turns it on
    }


class PostgresDatabases:
    """A migrated template database, and a fresh copy of it for each test (CREATE DATABASE ...
    TEMPLATE is a file copy on the server: fast)."""

    def __init__(self, url):
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"award_test_{os.getpid()}"
        self.count = 0

    def _run(self, sql):
        with self.admin.connect() as connection:
            connection.exec_driver_sql(sql)

    def url_of(self, name):
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template=None):
        self.count += 1
        name = f"{self.prefix}_{self.count}"
        self._run(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop(self, name):
        self._run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres():
    if not ON_POSTGRESQL:
        yield None
        return
    databases = PostgresDatabases(os.environ["TEST_DATABASE_URL"])
    yield databases
    databases.admin.dispose()


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory, postgres):
    """A database made by the real migrations, copied for each test: an SQLite file, or the
    name of a PostgreSQL template database."""
    instance = tmp_path_factory.mktemp("template")
    if postgres:
        name = postgres.create()
        app = create_app(base_config(instance, postgres.url_of(name)))
    else:
        app = create_app(base_config(instance))
    with app.app_context():
        upgrade()
        dispose_engines()
    if postgres:
        yield name
        postgres.drop(name)
    else:
        yield instance / "platform.db"


@pytest.fixture
def make_app(tmp_path, migrated_db, postgres):
    """Build an app on a fresh copy of the migrated database, with config overrides."""
    made = {"apps": []}

    def build(**overrides):
        instance = tmp_path / "instance"
        instance.mkdir(exist_ok=True)
        if postgres:
            if "database" not in made:
                made["database"] = postgres.create(template=migrated_db)
                redis_client(os.environ["TEST_REDIS_URL"]).flushdb()
            config = base_config(instance, postgres.url_of(made["database"]))
        else:
            target = instance / "platform.db"
            if not target.exists():
                shutil.copy(migrated_db, target)
            config = base_config(instance)
        config.update(overrides)
        application = create_app(config)
        made["apps"].append(application)
        return application

    yield build
    # A mail thread still delivering would write to a database about to go.
    assert wait_for_deliveries(), "a mail delivery did not end"
    for application in made["apps"]:
        with application.app_context():
            dispose_engines()  # before the database goes
    if "database" in made:
        postgres.drop(made["database"])


def redis_client(url):
    import redis

    return redis.Redis.from_url(url)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production, even while the test holds one.

    Flask reuses an app context that is already pushed; then ``g`` (Flask-Login's user,
    Flask-WTF's token) and the database session would leak from one request into the next.
    The test's own session commits first, as set-up code would, so that it holds no lock.
    """

    def open(self, *args, **kwargs):
        if _cv_app.get(None) is not None:
            # The test's own session must not hold SQLite's write lock during the request.
            db.session.commit()
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture
def app(make_app):
    """The app on its own SQLite file; an app context is pushed for the test's own queries,
    and every request made with ``client`` runs in a context of its own."""
    application = make_app()
    application.test_client_class = IsolatedClient
    with application.app_context():
        yield application
        db.session.remove()
        dispose_engines()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url="/auth/login"):
    """The CSRF token of ``client``'s session, read from a page with a form."""
    html = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = TOKEN_RE.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def script_votes(app, entry, start, count, gap, ip, prefix="bot"):
    """``count`` votes for ``entry`` as a brushing script casts them, one new voter each, one
    every ``gap`` seconds from ``start``, from the addresses ``ip.format(i)``."""
    from voting import services
    from voting.models import Voter

    with app.test_request_context("/", method="POST"):
        for i in range(count):
            voter = Voter(phone_hmac=f"{prefix}-{i:04d}".ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            services.cast_vote(voter.id, entry.id, start + timedelta(seconds=gap * i),
                               ip=ip.format(i), user_agent="bot")
        db.session.commit()


@pytest.fixture
def post(client):
    """POST a form with the session's CSRF token, as a browser would."""

    def send(url, data=None, client_=None, **kwargs):
        who = client_ or client
        payload = dict(data or {})
        payload.setdefault("csrf_token", csrf_token(who))
        return who.post(url, data=payload, **kwargs)

    return send


@pytest.fixture
def make_user(app):
    """Create an account: make_user(Role.AGENCY, email=..., status=...)."""
    counter = iter(range(1, 10_000))

    def create(role=Role.ORGANISER, email=None, password=PASSWORD, status=UserStatus.ACTIVE,
               agency=None, name=None):
        number = next(counter)
        role = Role(role)
        if role == Role.AGENCY and agency is None:
            agency = Agency(name=f"测试机构{number}")
        user = User(email=email or f"{role.value}{number}@example.test", name=name or f"用户{number}",
                    role=role, status=status, agency=agency)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return create


@pytest.fixture
def login(post):
    """Sign ``user`` in on a client (the default client unless another is given)."""

    def sign_in(user, password=PASSWORD, client_=None):
        response = post("/auth/login", {"email": user.email, "password": password},
                        client_=client_)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return sign_in


@pytest.fixture
def make_campaign(app):
    """Create a public campaign whose windows are all open now."""
    counter = iter(range(1, 10_000))

    def create(slug=None, **fields):
        now = utcnow()
        values = dict(
            slug=slug or f"campaign-{next(counter)}", title="测试评选", is_public=True,
            nomination_opens=now - timedelta(days=1), nomination_closes=now + timedelta(days=7),
            review_opens=now - timedelta(days=1), review_closes=now + timedelta(days=14),
            voting_opens=now - timedelta(days=1), voting_closes=now + timedelta(days=14),
        )
        values.update(fields)
        campaign = Campaign(**values)
        db.session.add(campaign)
        db.session.commit()
        return campaign

    return create


@pytest.fixture
def make_category(app):
    """Create a category with a two-line rubric: make_category(campaign, kind=..., ...)."""
    counter = iter(range(1, 10_000))

    def create(campaign, **fields):
        number = next(counter)
        prefix = "C" + "".join(chr(65 + int(digit)) for digit in str(number))
        values = dict(key=f"cat{number}", name=f"类别{number}", kind="project",
                      number_prefix=prefix, winners=3, expert_weight=1.0, public_weight=0.0)
        values.update(fields)
        category = Category(campaign=campaign, **values)
        category.criteria = [Criterion(name="专业性", max_points=60, position=0),
                             Criterion(name="成效", max_points=40, position=1)]
        db.session.add(category)
        db.session.commit()
        return category

    return create


@pytest.fixture
def demo(app):
    """The demo campaign imported through the real importer; returns the ImportResult."""
    from app.campaign_io import import_campaign

    result = import_campaign(Path(DEMO_FILE).read_text(encoding="utf-8"))
    db.session.commit()
    return result


def require(tool, reason):
    """The path of an outside program a test needs. Without it the test is skipped on a laptop,
    and fails where ``CI`` is set: there the project's set-up must have installed it."""
    import os

    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI: {reason}")
        pytest.skip(f"{tool} is not installed: {reason}")
    return path


@pytest.fixture
def live_server(app):
    """The app served over HTTP on loopback (a real server, threads as under gunicorn): its base
    URL. The test's own session commits first, so that the server's requests see its data."""
    import threading

    from werkzeug.serving import make_server

    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def chromium(*args, timeout=60):
    """Run Debian's headless Chromium once (no network but loopback, an empty profile)."""
    import subprocess
    import tempfile

    binary = require("chromium", "printing and browser checks use Debian's Chromium")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", *args],
            capture_output=True, timeout=timeout, check=False)


#: What must never reach a log line: mainland mobile numbers (bare or +86), the test password, and
#: (checked separately) the codes a test had sent.
SECRET_IN_LOG = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)|" + re.escape(PASSWORD))
HEX_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


@pytest.fixture(autouse=True)
def no_secret_in_any_log_line(caplog, tmp_path):
    """Every log record any test produces is checked: no phone number, no password, no code."""
    import logging

    caplog.set_level(logging.DEBUG)
    yield
    # Stored file names are random 32-hex-digit ids: a run of digits inside one can look like a
    # phone number or a code without being either, so they are taken out before the search.
    messages = [HEX_ID.sub("<id>", f"{record.name}: {record.getMessage()}")
                for when in ("setup", "call", "teardown") for record in caplog.get_records(when)]
    leaks = [message for message in messages if SECRET_IN_LOG.search(message)]
    # the codes the test had sent (file sender): none of them in any line either
    codes = {json.loads(line)["code"] for path in tmp_path.glob("**/codes.jsonl")
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    leaks += [message for message in messages for code in codes
              if re.search(rf"(?<!\d){code}(?!\d)", message)]
    assert not leaks, "secrets in the log:\n" + "\n".join(leaks[:10])


class RedisServer:
    """A Redis of the test's own on a free loopback port, to stop and start at will."""

    def __init__(self, binary, tmp_path):
        self.binary, self.port = binary, free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(require("redis-server", "rate limits across workers use Redis"),
                         tmp_path).start()
    yield server
    server.stop()


def write_lock_is_free():
    """Whether another writer would get the app's write lock at once: SQLite's (BEGIN
    IMMEDIATE on a connection of its own, no waiting) or PostgreSQL's advisory lock."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()
    address = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(address) as other:
        return other.execute("SELECT pg_try_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,)).fetchone()[0]


@contextmanager
def write_lock_held():
    """Hold the app's write lock from a connection of its own for the block, as a long write
    (an import, a mass void) would."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.rollback()
            other.close()
        return
    address = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(address, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK_KEY,))
        try:
            yield
        finally:
            other.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK_KEY,))


def add_codes(count, confirmed, at):
    """``count`` verification codes asked for at ``at`` (a minute apart, going back), the first
    ``confirmed`` of them confirmed, from as many phones and addresses: the site's codes."""
    from voting.models import VerificationCode

    db.session.add_all(VerificationCode(
        phone_hmac=f"{at.isoformat()}-{n}", code_hmac="c", ip_hmac=f"i{n}",
        created_at=at - timedelta(minutes=n), expires_at=at + timedelta(minutes=5),
        used_at=at if n < confirmed else None) for n in range(count))
    db.session.commit()
