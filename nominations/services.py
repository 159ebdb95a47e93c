"""Nomination use cases. Plain values in, NominationError out; the caller commits."""
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from app import storage
from app.database import utcnow
from app.extensions import db
from app.mail import queue_mail
from app.models import Category, Role, UserStatus
from app.public import absolute_url

from .models import Attachment, AttachmentKind, Entry, EntryStatus
from .uploads import PreparedFile, UploadRefused, display_name, prepare_document, prepare_photo


class NominationError(Exception):
    """A use case refused; ``str()`` is a message for the user."""


#: Why an upload was refused, in the user's words.
UPLOAD_REASONS = {
    "empty": _l("the file is empty"),
    "too_large": _l("the file is larger than %(limit)s MB"),
    "not_photo": _l("it is not a JPEG, PNG or WebP photo"),
    "not_pdf": _l("it is not a PDF document"),
    "markup": _l("web pages and SVG drawings are not accepted"),
    "too_many_pixels": _l("the picture has too many pixels"),
    "too_many": _l("an entry holds at most %(limit)s files of this kind"),
    "entry_full": _l("the entry's files would exceed %(limit)s MB in all"),
}


@dataclass
class UploadReport:
    accepted: list = field(default_factory=list)
    #: (display name, reason text)
    refused: list = field(default_factory=list)


def assign_number(entry):
    """Give ``entry`` the next public number of its category, atomically (SW-007)."""
    if not entry.number:
        assign_numbers(entry.category, [entry])
    return entry.number


def assign_numbers(category, entries):
    """Give ``entries`` of ``category`` its next public numbers, in their order: the counter
    is raised once for all of them, atomically (an import of thousands, one statement)."""
    last = db.session.execute(
        update(Category).where(Category.id == category.id)
        .values(last_number=Category.last_number + len(entries)).returning(Category.last_number)
    ).scalar_one()
    for number, entry in enumerate(entries, start=last - len(entries) + 1):
        entry.number = f"{category.number_prefix}-{number:03d}"


def _require_open(category, now):
    if not category.is_open("nomination", now):
        raise NominationError(_("Nominations for this category are not open now."))


def start_entry(category, user, now):
    """A new draft of ``user``'s agency in ``category``."""
    if user.role != Role.AGENCY or user.status != UserStatus.ACTIVE or user.agency_id is None:
        raise NominationError(_("Only an approved agency can nominate."))
    if not category.campaign.is_public:
        raise NominationError(_("This campaign does not take nominations."))
    _require_open(category, now)
    entry = Entry(category=category, agency_id=user.agency_id, title="", details={})
    db.session.add(entry)
    return entry


def save_entry(entry, title, summary, details, now, submit):
    """Store the form's values; ``submit`` makes it a submission (numbered), else a draft."""
    _require_open(entry.category, now)
    if entry.status == EntryStatus.WITHDRAWN:
        raise NominationError(_("This entry is withdrawn; restore it to edit it."))
    entry.title, entry.summary, entry.details = title, summary or "", dict(details)
    if submit:
        entry.status = EntryStatus.SUBMITTED
        entry.submitted_at = now
        entry.rejection_reason = ""
        db.session.flush()
        assign_number(entry)
    else:
        entry.status = EntryStatus.DRAFT
    db.session.flush()
    return entry


def withdraw_entry(entry, now):
    _require_open(entry.category, now)
    if entry.status == EntryStatus.WITHDRAWN:
        raise NominationError(_("This entry is already withdrawn."))
    entry.status = EntryStatus.WITHDRAWN


def restore_entry(entry, now):
    """A withdrawn entry becomes a draft again (its number, if any, stays)."""
    _require_open(entry.category, now)
    if entry.status != EntryStatus.WITHDRAWN:
        raise NominationError(_("Only a withdrawn entry can be restored."))
    entry.status = EntryStatus.DRAFT


def decide_entry(entry, organiser, approve, reason=""):
    """An organiser approves or rejects a submitted entry (a decision can be changed)."""
    if entry.status not in (EntryStatus.SUBMITTED, EntryStatus.APPROVED, EntryStatus.REJECTED):
        raise NominationError(_("Only a submitted entry can be approved or rejected."))
    if not approve and not reason.strip():
        raise NominationError(_("Please give the reason."))
    before = (entry.status, entry.rejection_reason)
    entry.status = EntryStatus.APPROVED if approve else EntryStatus.REJECTED
    entry.rejection_reason = "" if approve else reason.strip()
    entry.decided_at = utcnow()
    entry.decided_by_id = organiser.id
    if (entry.status, entry.rejection_reason) != before:
        _tell_agency(entry, entry.decided_at)


def _tell_agency(entry, now):
    """Mail the agency's active accounts the decision on their entry, once it commits: where an
    approved entry is now public; why one was rejected and, while nominations are open, that
    it can be revised and submitted again until the deadline."""
    category = entry.category
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        if entry.status == EntryStatus.APPROVED:
            subject = _("Approved: %(number)s %(title)s", number=entry.number, title=entry.title)
            body = _("Your entry %(number)s “%(title)s” in %(category)s is approved. It is on "
                     "the public page now: %(url)s", number=entry.number, title=entry.title,
                     category=category.name, url=absolute_url(url_for(
                         "nominations.entry", slug=category.campaign.slug, key=category.key,
                         number=entry.number)))
        else:
            subject = _("Not approved: %(number)s %(title)s", number=entry.number,
                        title=entry.title)
            body = _("Your entry %(number)s “%(title)s” in %(category)s was not approved. "
                     "Reason: %(reason)s", number=entry.number, title=entry.title,
                     category=category.name, reason=entry.rejection_reason)
            if category.is_open("nomination", now):
                body += "\n" + _("You can revise it and submit it again until %(closes)s: %(url)s",
                                 closes=category.campaign.local(category.window("nomination")[1])
                                 .strftime("%Y-%m-%d %H:%M"),
                                 url=absolute_url(url_for("nominations.edit", entry_id=entry.id)))
            else:
                body += "\n" + _("Nominations are closed; for questions, contact the organiser.")
    for member in entry.agency.members:
        if member.role == Role.AGENCY and member.status == UserStatus.ACTIVE:
            queue_mail(db.session, member.email, subject, body)


def _limits():
    config = current_app.config
    return {
        AttachmentKind.PHOTO: (config["UPLOAD_PHOTO_MAX_BYTES"], config["UPLOAD_PHOTOS_PER_ENTRY"]),
        AttachmentKind.DOCUMENT: (config["UPLOAD_DOCUMENT_MAX_BYTES"],
                                  config["UPLOAD_DOCUMENTS_PER_ENTRY"]),
    }


def _reason(code, **values):
    if "limit" in values and code in ("too_large", "entry_full"):
        values["limit"] = round(values["limit"] / 1024 / 1024)
    return str(UPLOAD_REASONS[code]) % values if values else str(UPLOAD_REASONS[code])


@dataclass(frozen=True)
class Upload:
    """A file as the agency sent it, checked and cleaned: ``prepared`` to store, or ``refusal``
    (the reason, in the user's words)."""
    kind: AttachmentKind
    name: str
    prepared: PreparedFile | None = None
    refusal: str | None = None


def prepare_uploads(uploads):
    """Check and clean files by their content: ``uploads`` is a list of (AttachmentKind, name,
    bytes); returns an Upload for each. No database: decoding and re-encoding a phone's photo
    takes about a third of a second, so the caller runs this before its write transaction."""
    limits = _limits()
    prepared = []
    for kind, name, data in uploads:
        shown = display_name(name)
        try:
            prepared.append(Upload(kind, shown, prepared=(
                prepare_photo if kind == AttachmentKind.PHOTO else prepare_document)(
                    data, limits[kind][0])))
        except UploadRefused as refusal:
            prepared.append(Upload(kind, shown, refusal=_reason(refusal.reason, **refusal.values)))
    return prepared


def attach_files(entry, uploads):
    """Add files to ``entry``: ``uploads`` is what prepare_uploads gave.

    What was refused is reported with the reason, as is what would pass the entry's limits
    (files of a kind, bytes in all); the rest is kept.
    """
    report = UploadReport()
    limits = _limits()
    total = sum(a.size for a in entry.attachments)
    entry_limit = current_app.config["UPLOAD_BYTES_PER_ENTRY"]
    for upload in uploads:
        max_count = limits[upload.kind][1]
        if sum(1 for a in entry.attachments if a.kind == upload.kind) >= max_count:
            report.refused.append((upload.name, _reason("too_many", limit=max_count)))
            continue
        if upload.refusal:
            report.refused.append((upload.name, upload.refusal))
            continue
        prepared = upload.prepared
        if total + len(prepared.data) > entry_limit:
            report.refused.append((upload.name, _reason("entry_full", limit=entry_limit)))
            continue
        stored = storage.store(db.session, prepared.data, prepared.extension)
        thumb = (storage.store(db.session, prepared.thumbnail, "jpg")
                 if prepared.thumbnail else None)
        attachment = Attachment(
            kind=upload.kind, stored_name=stored, thumb_name=thumb, original_name=upload.name,
            content_type=prepared.content_type, size=len(prepared.data), width=prepared.width,
            height=prepared.height, position=len(entry.attachments))
        entry.attachments.append(attachment)
        total += len(prepared.data)
        report.accepted.append(upload.name)
    db.session.flush()
    return report


def remove_attachment(entry, attachment_id, now):
    _require_open(entry.category, now)
    attachment = next((a for a in entry.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NominationError(_("No such file."))
    entry.attachments.remove(attachment)
    storage.discard(db.session, attachment.stored_name)
    storage.discard(db.session, attachment.thumb_name)


def status_counts(category_ids):
    """{category id: Counter of its entries' statuses}, counted by the database at once."""
    counts = defaultdict(Counter)
    for category_id, status, count in db.session.execute(
            select(Entry.category_id, Entry.status, func.count())
            .where(Entry.category_id.in_(category_ids))
            .group_by(Entry.category_id, Entry.status)):
        counts[category_id][status] = count
    return counts
