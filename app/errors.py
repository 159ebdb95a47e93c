"""Friendly error pages in the visitor's language, and JSON for the API."""
import logging

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please check what you sent.")),
    403: (_l("Not allowed"), _l("Your account may not open this page.")),
    404: (_l("Page not found"), _l("This page does not exist, or it is not public.")),
    405: (_l("Method not allowed"), _l("This page cannot be used that way.")),
    409: (_l("Conflict"), _l("This was changed by someone else or already done.")),
    413: (_l("Too large"), _l("What you sent is larger than the site accepts.")),
    429: (
        _l("Too many requests"),
        _l("You have tried too often. Please wait a moment and try again."),
    ),
    500: (_l("Something went wrong"), _l("The error has been logged. Please try again later.")),
    503: (
        _l("Temporarily unavailable"),
        _l("This service is briefly unavailable. Please try again in a minute."),
    ),
}

#: The answer to a write that waited too long for the database.
BUSY = _l("The site is very busy at this moment. Please try again in a few seconds.")

#: PostgreSQL's SQLSTATEs of a database that is busy or briefly away, not of a mistake in a
#: query: lock_not_available (lock_timeout), query_canceled (a timeout), deadlock_detected,
#: too_many_connections, the server shutting down or in recovery.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "53300", "57P01", "57P02", "57P03"})


def wants_json():
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )


def render_error(code, detail=None, headers=None):
    title, message = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    if wants_json():
        body = {"error": {"code": code, "title": str(title), "message": str(detail or message)}}
        response = jsonify(body)
    else:
        response = render_template(
            "errors/error.html", code=code, title=title, message=detail or message
        )
    return response, code, headers or {}


def _http_error(error: HTTPException):
    headers = {}
    if error.code == 429:
        retry = getattr(error, "retry_after", None)
        if retry is not None:
            headers["Retry-After"] = str(int(retry))
    detail = error.description if getattr(error, "show_description", False) else None
    return render_error(error.code or 500, detail, headers)


def _csrf_error(error: CSRFError):
    log.warning("CSRF refused on %s %s: %s", request.method, request.path, error.description)
    return render_error(
        400, _l("This form has expired or was not sent from this site. Please reload and try again.")
    )


def _server_error(error):
    db.session.rollback()
    original = getattr(error, "original_exception", None) or error
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return render_error(500)


def _limiter_down(error):
    """The rate-limit storage failed: refuse the limited action rather than let it through."""
    db.session.rollback()
    log.error("rate-limit storage failed on %s %s: %r", request.method, request.path,
              getattr(error, "storage_error", error))
    return render_error(503, headers={"Retry-After": "60"})


def _database_busy(error):
    """The database did not answer in time (a lock held by a long write, every connection in
    use) or is briefly away: 503 with a short Retry-After, not a 500. Any other error of the
    database's (a missing table, say) is a mistake of ours, and answered as such."""
    original = getattr(error, "orig", None)
    if isinstance(error, SQLAlchemyTimeoutError):  # every connection of the pool in use
        busy = True
    elif hasattr(original, "sqlite_errorname"):
        busy = original.sqlite_errorname.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    elif hasattr(original, "sqlstate"):  # psycopg: without a SQLSTATE, the connection failed
        state = original.sqlstate
        busy = state is None or state in BUSY_SQLSTATES or state.startswith("08")
    else:
        busy = error.connection_invalidated
    if not busy:
        return _server_error(error)
    db.session.rollback()
    log.warning("database busy on %s %s: %s", request.method, request.path,
                str(original or error).strip())
    return render_error(503, BUSY, {"Retry-After": "5"})


def _holds_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def refuse_nul_bytes():
    """A NUL byte has no use in any text here, and PostgreSQL refuses it in a query or a row (an
    error, not an answer): a request that carries one in its query, form or JSON is a 400.

    Looked for in the raw request where that is exact: a query decodes a NUL only from ``%00``,
    and JSON text can only write it ``\\u0000`` (a raw one is not JSON), so a JSON body is parsed
    here only when that escape is in it."""
    query = request.query_string
    if "\x00" in request.path or b"%00" in query or b"\x00" in query:
        return render_error(400)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if request.is_json:
        holds = b"\\u0000" in request.get_data(cache=True) and _holds_nul(
            request.get_json(silent=True))
    else:
        holds = any(_holds_nul(value) for value in (*request.form.values(), *request.form.keys()))
    return render_error(400) if holds else None


def register(app):
    app.before_request(refuse_nul_bytes)
    app.register_error_handler(StorageError, _limiter_down)
    app.register_error_handler(OperationalError, _database_busy)
    app.register_error_handler(SQLAlchemyTimeoutError, _database_busy)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
