"""Structured logs: one JSON object per line on stderr (``LOG_FORMAT=json``, the production
default) or plain text, and one line per request with its route, status and duration.

A request line names the route's pattern (``/auth/reset/<token>``), never the path or query
itself: tokens, phone numbers and codes travel in those and must not reach a log.
"""
import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import g, request

REQUEST_FIELDS = ("request_id", "method", "route", "status", "duration_ms", "remote_addr")
requests_log = logging.getLogger("app.requests")


class JSONFormatter(logging.Formatter):
    def format(self, record):
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                data[field] = getattr(record, field)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def formatter(kind):
    if kind == "json":
        return JSONFormatter()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure(app):
    """Send every logger's records to stderr in the configured format (not under tests, where
    pytest collects them)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(app.config["LOG_FORMAT"]))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(app.config["LOG_LEVEL"])


def start():
    """Before a request: its clock and its id."""
    g.request_started = time.perf_counter()
    g.request_id = request_id(request.headers.get("X-Request-ID", ""))


def request_id(incoming):
    """The caller's X-Request-ID when it is a short alphanumeric one, else a new id."""
    return incoming if 0 < len(incoming) <= 64 and incoming.isalnum() else uuid.uuid4().hex


def finish(response):
    """After a request: its id on the answer, and its log line."""
    started = g.pop("request_started", None)
    if started is None:
        return response
    response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    request_line(request.method, rule, response.status_code, started, g.get("request_id", ""),
                 request.remote_addr)
    return response


def request_line(method, route, status, started, request_id, remote_addr):
    """The log line of a request (no work below INFO)."""
    if not requests_log.isEnabledFor(logging.INFO):
        return
    requests_log.info("%s %s %d", method, route, status, extra={
        "request_id": request_id, "method": method, "route": route, "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "remote_addr": remote_addr})


def register(app):
    app.before_request(start)
    app.after_request(finish)
