"""The append-only audit log, written automatically for every change to an audited model.

Any model that inherits ``Audited`` gets a row per insert, update and delete, with the changed
columns before and after, the actor (``g.audit_actor``: set by each CLI command, and in a request
named at its first change from the signed-in user or the client's address) and the time. Rows are
written in the same transaction as the change, so a rolled-back change leaves no trace and a
committed one always does. Triggers made by the migrations refuse UPDATE and DELETE on the table
itself.
"""
import datetime as dt
import decimal
import enum

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import JSON, Integer, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db


class AuditLog(db.Model):
    """One state change: who, what, when, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: The signed-in user who made the change (no foreign key: the log outlives everything).
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: Readable actor: an email, "cli", "anonymous", "system".
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    #: "<table>.create", "<table>.update" or "<table>.delete".
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


class Audited:
    """Mixin: changes to this model are written to the audit log."""

    #: Columns left out of the log (noise such as last sign-in times).
    __audit_exclude__: frozenset = frozenset()
    #: Columns whose change is logged without the value (password hashes).
    __audit_redact__: frozenset = frozenset()


REDACTED = "[redacted]"


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _columns(obj):
    mapper = inspect(obj).mapper
    for attr in mapper.column_attrs:
        key = attr.key
        if key in obj.__audit_exclude__:
            continue
        yield key


def _snapshot(obj):
    return {
        key: REDACTED if key in obj.__audit_redact__ else _plain(getattr(obj, key))
        for key in _columns(obj)
    }


def _changes(obj):
    state = inspect(obj)
    before, after = {}, {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        redact = key in obj.__audit_redact__
        before[key] = REDACTED if redact else _plain(old)
        after[key] = REDACTED if redact else _plain(new)
    return before, after


def current_actor():
    """(user id or None, label) of whoever is acting now. A request names its actor when it first
    changes something (most requests change nothing, and need not load the user for it)."""
    if not has_app_context():
        return (None, "system")
    actor = g.get("audit_actor")
    if actor is None and has_request_context():
        actor = g.audit_actor = _request_actor()
    return actor or (None, "system")


def _request_actor():
    from flask_login import current_user

    if current_user.is_authenticated:
        return (current_user.id, current_user.email)
    return (None, f"anonymous@{request.remote_addr}")


def set_actor(user_id, label):
    """Name the actor of the changes made in this app context (a request or a CLI command)."""
    g.audit_actor = (user_id, label)


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session, _flush_context):
    rows = []
    now = utcnow()
    actor_id, label = current_actor()

    def row(obj, verb, before, after):
        state = inspect(obj)
        identity = state.mapper.primary_key_from_instance(obj)
        rows.append(
            {
                "at": now,
                "actor_id": actor_id,
                "actor_label": label,
                "action": f"{obj.__tablename__}.{verb}",
                "object_type": obj.__tablename__,
                "object_id": ":".join(str(part) for part in identity if part is not None),
                "before": before,
                "after": after,
            }
        )

    for obj in session.new:
        if isinstance(obj, Audited):
            row(obj, "create", None, _snapshot(obj))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            before, after = _changes(obj)
            if after:
                row(obj, "update", before, after)
    for obj in session.deleted:
        if isinstance(obj, Audited):
            row(obj, "delete", _snapshot(obj), None)
    if rows:
        session.connection().execute(insert(AuditLog.__table__), rows)


def record(session, action, object_type, object_id, before=None, after=None):
    """Write one audit row for a change made outside the ORM's unit of work (bulk updates)."""
    actor_id, label = current_actor()
    session.execute(insert(AuditLog.__table__), [{
        "at": utcnow(), "actor_id": actor_id, "actor_label": label, "action": action,
        "object_type": object_type, "object_id": str(object_id), "before": before,
        "after": after}])
