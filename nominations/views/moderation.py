"""Organisers' moderation: a queue per category, decisions, bulk import and export."""
from functools import partial

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from app.database import reading_first, utcnow
from app.extensions import db
from app.models import Agency, Category, Role
from app.progress import Figure, section
from app.security import role_required

from .. import services
from ..exchange import ImportRefused, check_rows, column_names, create_entries, export_file
from ..forms import ReasonForm, UploadForm
from ..models import Entry, EntryStatus
from ..tabular import TableError, read_table
from . import bp

QUEUE_STATUSES = ("submitted", "approved", "rejected", "withdrawn", "all")


def _category(slug, key):
    return Category.by_keys(slug, key) or abort(404)


def search_filter(query, text):
    """Entries whose number, title or agency contains ``text`` (a bound parameter, escaped)."""
    text = (text or "").strip()[:100]
    if not text:
        return query
    return query.where(or_(
        Entry.number.contains(text.upper(), autoescape=True),
        func.lower(Entry.title).contains(text.lower(), autoescape=True),
        func.lower(Agency.name).contains(text.lower(), autoescape=True),
    ))


def approved_page(category, text, error_out=True):
    """A page (``?page=``) of the category's approved entries by number, found by ``text``,
    each with its agency and attachments (the cover) read with the page, not one by one."""
    query = (select(Entry).join(Entry.agency)
             .options(contains_eager(Entry.agency), selectinload(Entry.attachments))
             .where(Entry.category_id == category.id, Entry.status == EntryStatus.APPROVED))
    return db.paginate(search_filter(query, text).order_by(Entry.number),
                       per_page=current_app.config["PUBLIC_PAGE_SIZE"], error_out=error_out)


@section(10, _l("Nominations"))
def _progress(categories, now):
    """The campaign page's column of nominations: entries waiting for a decision (marked when
    there are any), approved, rejected, and drafts agencies are still writing."""
    counts = services.status_counts([category.id for category in categories])
    figures = {}
    for category in categories:
        count = counts[category.id]
        waiting = count[EntryStatus.SUBMITTED]
        queue = partial(url_for, "nominations.queue", slug=category.campaign.slug,
                        key=category.key)
        figures[category.id] = [
            Figure(_("Waiting for moderation"), waiting, queue(status="submitted"),
                   attention=waiting > 0),
            Figure(_("Approved"), count[EntryStatus.APPROVED], queue(status="approved")),
            Figure(_("Rejected"), count[EntryStatus.REJECTED], queue(status="rejected")),
            Figure(_("Drafts being written"), count[EntryStatus.DRAFT]),
        ]
    return figures


@bp.get("/moderation/<slug>/<key>/")
@role_required(Role.ORGANISER)
def queue(slug, key):
    category = _category(slug, key)
    status = request.args.get("status", "submitted")
    if status not in QUEUE_STATUSES:
        status = "submitted"
    q = request.args.get("q", "")
    query = select(Entry).join(Agency).where(Entry.category_id == category.id,
                                              Entry.status != EntryStatus.DRAFT)
    if status != "all":
        query = query.where(Entry.status == status)
    query = search_filter(query, q).order_by(Entry.submitted_at, Entry.id)
    page = db.paginate(query, per_page=current_app.config["ADMIN_PAGE_SIZE"])
    counts = dict(db.session.execute(
        select(Entry.status, func.count()).where(Entry.category_id == category.id)
        .group_by(Entry.status)).all())
    return render_template("nominations/queue.html", category=category, campaign=category.campaign,
                           page=page, status=status, q=q, counts=counts)


@bp.get("/moderation/entries/<int:entry_id>")
@role_required(Role.ORGANISER)
def moderate(entry_id):
    entry = db.get_or_404(Entry, entry_id)
    if entry.status == EntryStatus.DRAFT:
        abort(404)  # drafts are the agency's own business
    return render_template("nominations/moderate.html", entry=entry, category=entry.category,
                           form=ReasonForm())


@bp.post("/moderation/entries/<int:entry_id>/<any(approve, reject):decision>")
@role_required(Role.ORGANISER)
def decide(entry_id, decision):
    entry = db.get_or_404(Entry, entry_id)
    form = ReasonForm() if decision == "reject" else FlaskForm()
    if not form.validate_on_submit():
        if decision == "approve":
            abort(400)
        return render_template("nominations/moderate.html", entry=entry, category=entry.category,
                               form=form), 422
    try:
        reason = form.reason.data if decision == "reject" else ""
        services.decide_entry(entry, current_user, decision == "approve", reason)
        db.session.commit()
    except services.NominationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("nominations.moderate", entry_id=entry.id))
    flash(_("%(number)s approved.", number=entry.number) if decision == "approve"
          else _("%(number)s rejected.", number=entry.number), "success")
    return redirect(url_for("nominations.queue", slug=entry.category.campaign.slug,
                            key=entry.category.key))


@bp.route("/moderation/<slug>/<key>/import", methods=["GET", "POST"])
@role_required(Role.ORGANISER)
def import_entries(slug, key):
    """A file of nominations: read and checked without the site's write lock (thousands of rows
    take seconds, while every other change would wait), then written in one short write."""
    form = UploadForm()
    report, problem = None, None
    try:
        with reading_first(db.session):
            category = _category(slug, key)
            if request.method == "POST":
                if not (form.validate_on_submit() and form.file.data):
                    raise NoFile
                header, rows = read_table(form.file.data.read(), form.file.data.filename)
                report, checked = check_rows(category, header, rows)
        if report is not None:
            create_entries(category, report, checked, utcnow())
            db.session.commit()
    except NoFile:
        problem = _("Please choose a CSV or XLSX file.")
    except TableError:
        problem = _("The file could not be read: use CSV (UTF-8) or XLSX, "
                    "with the column names in the first row.")
    except ImportRefused as refused:
        report = refused.report
    status = 422 if problem or (report and report.refused) else 200
    return render_template("nominations/import.html", category=category,
                           campaign=category.campaign, form=form, report=report, problem=problem,
                           columns=column_names(category.kind)), status


class NoFile(Exception):
    """An import sent without a file."""


@bp.get("/moderation/<slug>/<key>/export.<any(csv, xlsx):file_format>")
@role_required(Role.ORGANISER)
def export_entries(slug, key, file_format):
    category = _category(slug, key)
    data, mimetype = export_file(category, file_format)
    filename = f"{category.campaign.slug}-{category.key}.{file_format}"
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
