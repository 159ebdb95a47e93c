"""GET /healthz for the load balancer and the operator: is the database reachable, is the
rate-limit storage? 200 when both answer, 503 naming what does not. Never rate-limited."""
import logging

from flask import Blueprint, current_app
from sqlalchemy import text

from .extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _database():
    db.session.execute(text("SELECT 1"))
    db.session.rollback()
    return True


def _ratelimit():
    return bool(limiter.storage.check())


@bp.get("/healthz")
@limiter.exempt
def health():
    checks = {}
    for name, probe in (("database", _database), ("ratelimit", _ratelimit)):
        try:
            checks[name] = "ok" if probe() else "unavailable"
        except Exception as error:  # noqa: BLE001 - any failure of a dependency is "unavailable"
            log.warning("health check %s failed: %s", name, type(error).__name__)
            checks[name] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", **checks,
            "version": current_app.config["VERSION"]}
    return body, 200 if healthy else 503, {"Cache-Control": "no-store"}
