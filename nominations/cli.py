"""Nomination commands, and the ``entries`` section of campaign files."""
from flask_babel import gettext as _

from app import campaign_io
from app.database import utcnow
from app.extensions import db

from .models import Entry, EntryStatus
from .services import next_number

ENTRY_KEYS = ("category", "agency", "title", "summary", "status", "details")
FILE_STATUSES = {EntryStatus.DRAFT.value, EntryStatus.SUBMITTED.value, EntryStatus.APPROVED.value}


def load_entries(items, context):
    """Create the entries a campaign file lists (the demo's); returns how many."""
    created = 0
    for index, item in enumerate(items):
        path = ("entries", index)
        if not isinstance(item, dict):
            context.problem(path, _("expected an entry"))
            continue
        for key in item:
            if key not in ENTRY_KEYS:
                context.problem(path + (key,), _("unknown field"))
        category = context.category(str(item.get("category") or ""))
        agency = context.agencies.get(str(item.get("agency") or ""))
        title = str(item.get("title") or "").strip()
        status = str(item.get("status") or EntryStatus.APPROVED.value)
        details = item.get("details") or {}
        checks = [
            (category is None, "category", _("no category with this key in the file")),
            (agency is None, "agency", _("no agency of this name in the file")),
            (not title or len(title) > 120, "title", _("a title of 1 to 120 characters is needed")),
            (status not in FILE_STATUSES, "status", _("status must be draft, submitted or approved")),
            (not isinstance(details, dict), "details", _("expected named fields")),
        ]
        failed = [(key, message) for bad, key, message in checks if bad]
        for key, message in failed:
            context.problem(path + (key,), message)
        if failed:
            continue
        entry = Entry(category=category, agency=agency, title=title,
                      summary=str(item.get("summary") or ""), details=details,
                      status=EntryStatus(status))
        db.session.add(entry)
        if entry.status != EntryStatus.DRAFT:
            db.session.flush()
            entry.number = next_number(category)
            entry.submitted_at = utcnow()
        db.session.flush()
        created += 1
    return created


def register(app):
    campaign_io.register_section("entries", load_entries)
