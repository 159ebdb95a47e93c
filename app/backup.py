"""A consistent copy of the SQLite database while the site runs: SQLite's online backup API
copies the pages in steps; a write that lands between steps makes it start again, so the copy is
always one committed state. PostgreSQL is backed up with its own tools (README)."""
import sqlite3
from datetime import UTC, datetime
from pathlib import Path


class BackupError(Exception):
    """A refusal with a message for the operator."""


def sqlite_path(engine):
    if engine.dialect.name != "sqlite":
        raise BackupError("this database is not SQLite: back it up with pg_dump (see the README)")
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(path)


def default_target(instance_path, now=None):
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return Path(instance_path) / "backups" / f"platform-{stamp}.db"


def backup_sqlite(source, target, pages=2048, progress=None):
    """Copy ``source`` into a new file ``target``; returns a summary {pages, bytes, tables}.
    The copy is written beside the target and renamed when complete and checked."""
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} exists already")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=pages, progress=progress)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy failed its integrity check: {check}")
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        # nosec B608: the names come from sqlite_master of our own copy, not from input
        tables = {name: dst.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # nosec B608
                  for (name,) in dst.execute(
                      "SELECT name FROM sqlite_master WHERE type = 'table' "
                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")}
        page_count = dst.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dst.close()
        src.close()
    partial.rename(target)
    return {"pages": page_count, "bytes": target.stat().st_size, "tables": tables}
