"""Bulk import of nominations from a table, and export of a category's nominations."""
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.i18n import format_local
from app.models import Agency

from .forms import FORMS
from .models import Entry, EntryStatus
from .services import assign_numbers
from .tabular import write_csv, write_xlsx

BASE_COLUMNS = ("agency", "title", "summary", "status")
IMPORT_STATUSES = {EntryStatus.SUBMITTED.value, EntryStatus.APPROVED.value}


def field_label(form_class, name):
    unbound = getattr(form_class, name)
    return str(unbound.kwargs.get("label") or unbound.args[0])


def column_names(kind):
    return (*BASE_COLUMNS, *FORMS[str(kind)].detail_fields)


def _header_aliases(kind):
    """Each column may be named by its key or by its label in Chinese or English."""
    form_class = FORMS[str(kind)]
    aliases = {}
    for language in ("zh_CN", "en"):
        with force_locale(language):
            base_labels = {"agency": _("Agency"), "title": _("Title"), "summary": _("Summary"),
                           "status": _("Status")}
            for name in column_names(kind):
                label = (str(base_labels[name]) if name in base_labels
                         else field_label(form_class, name))
                aliases[label.strip().lower()] = name
    aliases.update({name: name for name in column_names(kind)})
    return aliases


@dataclass
class ImportReport:
    created: list = field(default_factory=list)
    #: (row number in the file, [messages])
    refused: list = field(default_factory=list)
    unknown_columns: list = field(default_factory=list)


class ImportRefused(Exception):
    """Some rows are wrong; nothing was imported. ``report`` lists them."""

    def __init__(self, report):
        super().__init__(f"{len(report.refused)} rows refused")
        self.report = report


@dataclass(frozen=True)
class CheckedRow:
    """A row of an import that passed every check: what its entry will be."""

    agency_id: int
    title: str
    summary: str
    details: dict
    status: str


def check_rows(category, header, rows, progress=None):
    """Check every row of an import: (report, [CheckedRow, ...]), or ImportRefused with the
    report if any row is wrong. Reads only (the agencies): the caller may run it outside the
    site's write lock (``app.database.reading_first``), so that a long file holds up no other
    change while it is checked.

    Every row goes through the kind's form in submit mode, the agency must exist, and a
    ``status`` column may say ``approved`` for nominations already checked on paper.
    """
    aliases = _header_aliases(category.kind)
    columns = [aliases.get(cell.strip().lower()) for cell in header]
    report = ImportReport(unknown_columns=[h for h, c in zip(header, columns, strict=True) if c is None])
    if "title" not in columns or "agency" not in columns:
        report.refused.append((1, [_("The first row must name the columns, with agency and title.")]))
        raise ImportRefused(report)
    agencies = dict(db.session.execute(select(Agency.name, Agency.id)).all())
    form_class = FORMS[str(category.kind)]
    checked = []
    for index, row in enumerate(rows, start=2):
        values = {name: value for name, value in zip(columns, row, strict=False) if name}
        messages = []
        agency_id = agencies.get(values.get("agency", ""))
        if agency_id is None:
            messages.append(_("agency: no registered agency has this name"))
        status = values.get("status") or EntryStatus.SUBMITTED.value
        if status not in IMPORT_STATUSES:
            messages.append(_("status: use submitted or approved"))
        formdata = MultiDict({k: v for k, v in values.items() if k not in ("agency", "status")})
        form = form_class(formdata=formdata, meta={"csrf": False})
        if not (form.validate() & form.validate_for_submit()):
            for name, errors in form.errors.items():
                messages += [f"{name}: {error}" for error in errors]
        if messages:
            report.refused.append((index, messages))
        else:
            checked.append(CheckedRow(agency_id, form.title.data, form.summary.data or "",
                                      form.details(), status))
        if progress:
            progress(index - 1, len(rows))
    if report.refused:
        raise ImportRefused(report)
    return report, checked


def create_entries(category, report, checked, now):
    """Write the checked rows of an import as entries of ``category``, numbered after those
    already numbered (one statement raises the counter): the import's short write. Returns
    the report with its entries."""
    report.created = [
        Entry(category=category, agency_id=row.agency_id, title=row.title, summary=row.summary,
              details=row.details, status=EntryStatus(row.status), submitted_at=now)
        for row in checked]
    if report.created:
        assign_numbers(category, report.created)
        db.session.add_all(report.created)
    db.session.flush()
    return report


def export_rows(category):
    """(header, rows) of every entry of ``category`` but drafts, with status and numbers."""
    form_class = FORMS[str(category.kind)]
    details = form_class.detail_fields
    header = [_("Number"), _("Status"), _("Agency"), _("Title"), _("Summary"),
              *[field_label(form_class, name) for name in details],
              _("Photos"), _("Documents"), _("Submitted"), _("Reason for rejection")]
    entries = db.session.scalars(
        select(Entry).where(Entry.category_id == category.id, Entry.status != EntryStatus.DRAFT)
        .order_by(Entry.number)).all()
    tz_name = category.campaign.timezone
    rows = [
        [e.number, e.status.value, e.agency.name, e.title, e.summary,
         *[e.details.get(name) for name in details],
         len(e.photos), len(e.documents), format_local(e.submitted_at, tz_name),
         e.rejection_reason]
        for e in entries
    ]
    return header, rows


def export_file(category, file_format):
    header, rows = export_rows(category)
    if file_format == "xlsx":
        return write_xlsx(header, rows, category.key), (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return write_csv(header, rows), "text/csv; charset=utf-8"
