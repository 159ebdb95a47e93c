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
    """Before a request: its clock, and its id (the client's X-Request-ID when it is a short
    alphanumeric one). Kept when already set (a lean twin started it: app/lean.py)."""
    if "request_started" in g:
        return
    g.request_started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if 0 < len(incoming) <= 64 and incoming.isalnum() else uuid.uuid4().hex


def finish(response):
    """After a request: its id on the answer, and its log line."""
    started = g.pop("request_started", None)
    if started is None:
        return response
    request_id = g.get("request_id", "")
    response.headers.setdefault("X-Request-ID", request_id)
    if not requests_log.isEnabledFor(logging.INFO):
        return response
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    requests_log.info("%s %s %d", request.method, rule, response.status_code, extra={
        "request_id": request_id, "method": request.method, "route": rule,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "remote_addr": request.remote_addr})
    return response


def register(app):
    app.before_request(start)
    app.after_request(finish)
