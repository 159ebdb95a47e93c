"""Files under instance/uploads, kept in step with the database transaction that names them.

A file written during a transaction is deleted again if that transaction rolls back; a file a
transaction gives up is deleted only once it commits. So the disk never holds a file that no row
names for long, and no row names a file that is gone.
"""
import os
import uuid
from pathlib import Path

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

NEW_KEY = "storage_new_files"
DOOMED_KEY = "storage_doomed_files"


def upload_folder():
    folder = Path(current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _session(session):
    session = session() if isinstance(session, scoped_session) else session
    if not session.in_transaction():
        session.begin()
    return session


def store(session, data, extension):
    """Write ``data`` under a new random name; returns the name (never the user's)."""
    name = f"{uuid.uuid4().hex}.{extension}"
    path = upload_folder() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    _session(session).info.setdefault(NEW_KEY, []).append(path)
    return name


def discard(session, name):
    """Delete the file ``name`` once the current transaction commits."""
    if name:
        _session(session).info.setdefault(DOOMED_KEY, []).append(upload_folder() / name)


def path_of(name):
    return upload_folder() / name


@event.listens_for(Session, "after_commit")
def _commit_files(session):
    session.info.pop(NEW_KEY, None)
    for path in session.info.pop(DOOMED_KEY, []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _roll_back_files(session, _previous_transaction):
    if not session.in_transaction():
        session.info.pop(DOOMED_KEY, None)
        for path in session.info.pop(NEW_KEY, []):
            Path(path).unlink(missing_ok=True)
