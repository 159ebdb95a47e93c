"""gunicorn settings of the production profile: `gunicorn -c gunicorn.conf.py wsgi:app`.

Each can be changed from the environment (GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_TIMEOUT).
Sync workers: each request holds one worker, so the count follows the cores; the reverse proxy
in front buffers slow phone connections (README, "Behind a reverse proxy").
"""
import multiprocessing
import os

from gunicorn import glogging

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# gunicorn 25.1+ opens a control socket (runtime reload, worker count) at one path per user,
# which every gunicorn on the host shares (the benchmarks run three at once): not used here.
control_socket_disable = True
# A worker is replaced after this many requests, so that no slow growth of memory lasts.
max_requests = 20_000
max_requests_jitter = 2_000
# Each worker builds the app itself: no database connection is shared across a fork.
preload_app = False
# The app logs one structured line per request (app/logs.py); gunicorn's own access log would
# repeat it with the full path, which can carry tokens.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# gunicorn updates its own defaults with this, key by key: the handlers "console" and
# "error_console" are redefined to write JSON lines like the app (app/logs.py), and its loggers
# no longer pass their records on to the root's handler too (each of gunicorn's lines was written
# twice: tests/production/test_logs.py).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.logs.JSONFormatter"}},
    "handlers": {
        name: {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        for name in ("console", "error_console")},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        name: {"level": "INFO", "handlers": [handler], "propagate": False, "qualname": name}
        for name, handler in (("gunicorn.error", "error_console"), ("gunicorn.access", "console"))},
}


class _NoAccessLog(glogging.Logger):
    """gunicorn writes its access log whenever a logging configuration is given (as above), with
    the full path and query of every request, where reset tokens travel: never write it."""

    access_log_enabled = False

    def access(self, resp, req, environ, request_time):
        return None


logger_class = _NoAccessLog


def post_worker_init(worker):
    """A line when a worker has built the app and takes requests: gunicorn's own "Booting worker"
    comes at the fork, before the app is loaded (benchmarks/harness.py waits for these lines)."""
    worker.log.info("Worker ready (pid: %s)", worker.pid)
