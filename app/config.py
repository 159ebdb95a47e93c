"""Configuration: defaults, then ``instance/config.py``, then the environment, then a test dict.

Every variable a deployment may set is listed in ``ENVIRONMENT_VARIABLES`` and documented in the
README. Secrets come only from ``instance/`` or the environment, never from this file.
"""
import os
import secrets
from pathlib import Path

#: The project's root folder (templates/, translations/ and demo/ live here).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("award-platform")
    except PackageNotFoundError:
        return "unknown"


#: The value no deployment may keep: create_app() refuses to run with it outside testing.
INSECURE_SECRET = "insecure-dev-secret"  # nosec B105: the value refused, not a secret in use


class DefaultConfig:
    """Values for the embedded profile (SQLite, in-memory rate limits, mail on the console)."""

    APP_ENV = "development"  # or "production": then insecure settings are refused
    VERSION = _version()
    LOG_FORMAT = "text"  # or "json" (one object per line); json by default in production
    LOG_LEVEL = "INFO"
    SECRET_KEY = None  # read from the environment or instance/secret_key
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite:///<instance>/platform.db
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: SQLite only: PRAGMA synchronous. FULL survives a power cut, not only a killed process.
    SQLITE_SYNCHRONOUS = "FULL"
    #: How long a request's write waits for the write lock before it is answered 503 (try again):
    #: SQLite's busy timeout, and PostgreSQL's lock timeout in requests (commands wait without
    #: end). Well under gunicorn's timeout, so that a long write (an import, a mass void) never
    #: holds every worker until they are killed.
    SQLITE_BUSY_TIMEOUT_MS = 5000
    POSTGRES_LOCK_TIMEOUT_MS = 10000
    POSTGRES_CONNECT_TIMEOUT = 5  #: seconds to make a connection to PostgreSQL

    # Sessions and cookies (RELIABILITY.md §6): staff sessions are short and never remembered.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (see validate())
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    REMEMBER_COOKIE_HTTPONLY = True

    WTF_CSRF_TIME_LIMIT = 3600
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024

    # Rate limits (Flask-Limiter): moving windows, so no double burst at a window's edge.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_HEADERS_ENABLED = True
    #: Storage failures arrive as limits.errors.StorageError: the routes that need the limits
    #: (sign-in, codes, votes) answer 503 then, fail closed; pages carry no limits. A Redis that
    #: does not answer within a second is a failure too (Redis answers in well under a
    #: millisecond): a request never waits on a stuck Redis for long.
    RATELIMIT_STORAGE_OPTIONS = {"wrap_exceptions": True, "socket_timeout": 1,
                                 "socket_connect_timeout": 1}
    #: Per client IP, on every sign-in attempt.
    LOGIN_LIMIT_PER_IP = "30/minute;300/hour"
    #: Per /24 network: rotating addresses inside one network gains nothing.
    LOGIN_LIMIT_PER_NETWORK = "120/minute;1200/hour"
    #: Failed sign-ins per account before it is refused for a while (ASVS V2.2.1: <= 100/hour).
    LOGIN_FAILURES_PER_ACCOUNT = "10/hour"
    #: Registrations and password-reset requests per client IP.
    ACCOUNT_REQUEST_LIMIT_PER_IP = "10/hour"
    #: Number of reverse proxies in front of the app whose X-Forwarded-For may be trusted.
    TRUSTED_PROXIES = 0

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}

    # Mail: "console" logs each message; "smtp" sends it.
    MAIL_BACKEND = "console"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10
    MAIL_DEFAULT_SENDER = "noreply@localhost"
    #: Mails leave from threads of each process after their change commits (app/mail.py): a slow
    #: mail server holds a thread, not a request.
    MAIL_THREADS = 2
    #: Deliveries one process may have under way or queued; past it a change's mails wait for
    #: the next delivery (they are in the outbox either way).
    MAIL_PENDING = 64
    #: Mails one delivery takes at most besides those of its own change (the backlog).
    MAIL_BATCH = 50
    #: After a failed try a mail waits this many seconds, twice as long after each further one,
    #: at most an hour; it is given up once it has not left for MAIL_GIVE_UP_HOURS.
    MAIL_RETRY_SECONDS = 60
    MAIL_GIVE_UP_HOURS = 48
    #: Days a sent or given-up mail stays in the outbox (who was sent what, and when); `mail
    #: send` removes older ones (an address is personal data: kept no longer than useful).
    MAIL_KEEP_DAYS = 90
    #: Absolute URL of the site, used in links inside mails (password reset, approval).
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    PASSWORD_RESET_MAX_AGE = 3600

    # Public voting (DESIGN §4).
    VOTER_HMAC_KEY = None  #: keys the HMAC of phone numbers; from the environment or instance/
    CODE_SENDER = "console"  #: "console", "file" or "webhook"
    CODE_SENDER_FILE = None  #: file sender: path of the JSON-lines file (default instance/codes.jsonl)
    CODE_SENDER_URL = None  #: webhook sender: the SMS gateway's URL
    #: webhook sender: the secret shared with the gateway, which signs each message (required in
    #: production); from the environment or instance/config.py
    CODE_SENDER_SECRET = None
    CODE_SENDER_TIMEOUT = 10  #: webhook sender: seconds a sender thread waits for the gateway
    #: Seconds a request waits for the sender's answer; after that the voter is told the code
    #: may come later, and the sender thread goes on waiting (a worker is not held meanwhile).
    CODE_SENDER_WAIT = 0.5
    CODE_SENDER_THREADS = 4  #: sender threads per process
    #: Codes one process may have on their way at once (under way or queued); more are refused
    #: (503, "try again in a minute") rather than piled up behind a hung gateway.
    CODE_SENDER_PENDING = 32
    CODE_TTL_SECONDS = 300
    CODE_MAX_ATTEMPTS = 5
    CODE_RESEND_SECONDS = 60
    CODES_PER_PHONE_PER_DAY = 5
    CODES_PER_IP_PER_DAY = 10
    #: How long a verified voter stays signed in on a device.
    VOTER_SESSION_DAYS = 30
    VOTE_LIMITS_PER_IP = "60/minute"
    VOTE_LIMITS_PER_NETWORK = "600/minute"
    VOTE_LIMITS_PER_VOTER = "30/minute"
    CODE_LIMITS_PER_IP = "5/minute;30/hour"
    CODE_LIMITS_PER_NETWORK = "30/minute;300/hour"
    #: Days after a campaign's last vote closes (until results publication exists) after which
    #: `votes purge` removes the voters' raw metadata.
    VOTE_METADATA_RETENTION_DAYS = 30
    #: Objections to a provisional list, per client IP.
    OBJECTION_LIMIT_PER_IP = "3/hour;10/day"

    # Attachments of entries (checked by content; stored under instance/uploads).
    UPLOAD_FOLDER = None  # default: <instance>/uploads
    UPLOAD_PHOTO_MAX_BYTES = 10 * 1024 * 1024
    UPLOAD_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
    UPLOAD_PHOTOS_PER_ENTRY = 9
    UPLOAD_DOCUMENTS_PER_ENTRY = 5
    UPLOAD_BYTES_PER_ENTRY = 60 * 1024 * 1024
    #: Public pages and tallies asked for without any cookie are rendered once per worker this
    #: often (app/cache.py); 0 turns the cache off.
    PUBLIC_CACHE_SECONDS = 5
    ADMIN_PAGE_SIZE = 25
    PUBLIC_PAGE_SIZE = 24


#: Variables read from the environment without a prefix, with the type each is parsed as.
#: Any other setting can be given as FLASK_<NAME> (Flask's from_prefixed_env()).
ENVIRONMENT_VARIABLES = {
    "APP_ENV": str,
    "LOG_FORMAT": str,
    "LOG_LEVEL": str,
    "SECRET_KEY": str,
    "VOTER_HMAC_KEY": str,
    "DATABASE_URL": str,
    "RATELIMIT_STORAGE_URI": str,
    "TRUSTED_PROXIES": int,
    "MAIL_BACKEND": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "CODE_SENDER_SECRET": str,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_DEFAULT_SENDER": str,
    "PUBLIC_BASE_URL": str,
}


def _parse(kind, raw):
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    return kind(raw)


def load_environment(config, environ=os.environ):
    """Copy the documented unprefixed variables from ``environ`` into ``config``."""
    for name, kind in ENVIRONMENT_VARIABLES.items():
        if name in environ and environ[name] != "":
            key = "SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name
            config[key] = _parse(kind, environ[name])


#: Secrets read from the config or environment, else from a file in instance/.
SECRET_FILES = {"SECRET_KEY": "secret_key", "VOTER_HMAC_KEY": "voter_hmac_key"}  # nosec B105: file names


def ensure_secret(config, instance_path):
    """Give the app its secrets: from config, else from files in ``instance/``.

    Outside production a missing file is created with a fresh random key (mode 0600), so that a
    newcomer's ``make run`` needs no set-up; in production the keys must be given explicitly.
    """
    for name, filename in SECRET_FILES.items():
        if config.get(name):
            continue
        path = Path(instance_path) / filename
        if not path.exists():
            if config.get("APP_ENV") == "production":
                continue  # validate() refuses to start
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        config[name] = path.read_text().strip()


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def validate(config):
    """Refuse settings that must never reach production."""
    if config.get("TESTING"):
        return
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == INSECURE_SECRET:
        raise ConfigError("SECRET_KEY is missing or the insecure default; set it in the environment")
    if not config.get("VOTER_HMAC_KEY"):
        raise ConfigError("VOTER_HMAC_KEY is missing; set it in the environment")
    if config.get("APP_ENV") == "production":
        if config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
            raise ConfigError(
                "RATELIMIT_STORAGE_URI is memory:// in production: each worker would count alone; "
                "use redis://"
            )
        if not config.get("SESSION_COOKIE_SECURE"):
            raise ConfigError("SESSION_COOKIE_SECURE must be true in production (HTTPS)")
        if config.get("CODE_SENDER") == "console":
            raise ConfigError("CODE_SENDER is console in production: codes must reach phones "
                              "(webhook)")
        if config.get("MAIL_BACKEND") == "console":
            raise ConfigError("MAIL_BACKEND is console in production: mails, and the password "
                              "reset links in them, would go to the log instead of to people "
                              "(smtp)")
        if config.get("CODE_SENDER") == "webhook" and not config.get("CODE_SENDER_SECRET"):
            raise ConfigError("CODE_SENDER_SECRET is missing: the SMS gateway could not tell the "
                              "platform's messages from anyone else's")
