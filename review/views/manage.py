"""Organisers' review pages: panel, assignment, progress, reminders, sheets, leniency, methods."""
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from app.database import utcnow
from app.extensions import db
from app.models import Agency, Category, Role, User
from app.paging import page_of
from app.progress import Figure, section
from app.security import role_required
from nominations.models import Entry, EntryStatus
from nominations.tabular import TableError, read_table
from nominations.views.moderation import search_filter

from .. import scoring, services
from ..forms import ExpertChoiceForm, ManualAssignForm, SheetForm
from ..models import Review
from ..sheets import SheetRefused, export_sheet, import_sheet
from . import bp

#: Reviews an expert should have before their z-scores mean much.
ZSCORE_MINIMUM = 5
DISAGREEMENT_MARGIN = 15.0


@section(20, _l("Expert review"))
def _progress(categories, now):
    """The campaign page's column of the review: experts on the panel, scores submitted of
    those assigned, approved entries short of experts. Marked: an empty panel and entries short
    of experts until the review closes (then nothing can be done about them), and scores still
    missing once it has closed (they can no longer come)."""
    reviewed = [category for category in categories if category.has_review]
    statuses, short, panels = services.campaign_progress(reviewed)
    figures = {}
    for category in reviewed:
        status = statuses[category.id]
        assigned, submitted = status.total(), status["submitted"]
        manage = url_for("review.manage", slug=category.campaign.slug, key=category.key)
        missing = short.get(category.id, 0)
        closed = category.phase_state("review", now) == "closed"
        figures[category.id] = [
            Figure(_("Experts on the panel"), panels.get(category.id, 0), manage,
                   attention=not panels.get(category.id) and not closed),
            Figure(_("Scores submitted"), f"{format_number(submitted)} / {format_number(assigned)}",
                   manage, attention=submitted < assigned and closed),
            Figure(_("Entries short of experts"), missing,
                   url_for("review.manage", slug=category.campaign.slug, key=category.key,
                           short=1),
                   attention=missing > 0 and not closed),
        ]
    return figures


def _category(slug, key):
    category = Category.by_keys(slug, key)
    if category is None or not category.has_review:
        abort(404)
    return category


def _listing():
    """The entries list's place (page, search, only entries short of experts) from the query
    string, as the list's links and forms carry it; None where not given."""
    return {"page": request.args.get("page", type=int), "q": request.args.get("q") or None,
            "short": 1 if request.args.get("short") == "1" else None}


def _entries_page(category, listing):
    """One page of the approved entries, by number: all, or those with fewer reviews than the
    category asks (``short``), matching the search."""
    query = select(Entry).join(Agency).where(Entry.category_id == category.id,
                                             Entry.status == EntryStatus.APPROVED)
    if listing["short"]:
        reviews = select(func.count(Review.id)).where(Review.entry_id == Entry.id)
        query = query.where(reviews.scalar_subquery() < category.reviewers_per_entry)
    return db.paginate(search_filter(query, listing["q"]).order_by(Entry.number),
                       page=listing["page"] or 1,
                       per_page=current_app.config["ADMIN_PAGE_SIZE"] * 2)


def _overview(category, report=None, sheet_report=None, status=200):
    members = services.panel(category)
    by_expert, by_entry = services.progress(category)
    listing = _listing()
    page = _entries_page(category, listing)
    experts = db.session.scalars(select(User).where(User.role == Role.EXPERT)
                                 .order_by(User.name)).all()
    on_panel = {m.expert_id for m in members}
    panel_form = ExpertChoiceForm()
    panel_form.expert.choices = [(e.id, f"{e.name} <{e.email}>") for e in experts
                                 if e.id not in on_panel]
    manual_form = ManualAssignForm()
    manual_form.entry.choices = [(e.id, f"{e.number} {e.title}") for e in page.items]
    manual_form.expert.choices = [(m.expert_id, m.expert.name) for m in members]
    assigned = {}
    for review in db.session.scalars(select(Review).where(
            Review.entry_id.in_([e.id for e in page.items])).order_by(Review.id)):
        assigned.setdefault(review.entry_id, []).append(review)
    return render_template(
        "review/manage.html", category=category, campaign=category.campaign, members=members,
        by_expert=by_expert, by_entry=by_entry, page=page, listing=listing, assigned=assigned,
        approved=services.approved_count(category), panel_form=panel_form,
        manual_form=manual_form, sheet_form=SheetForm(), report=report,
        sheet_report=sheet_report, now=utcnow()), status


@bp.get("/manage/<slug>/<key>/")
@role_required(Role.ORGANISER)
def manage(slug, key):
    return _overview(_category(slug, key))


def _back(category):
    """The overview again, at the place of the entries list the form was sent from."""
    return redirect(url_for("review.manage", slug=category.campaign.slug, key=category.key,
                            **_listing()))


def _done(category, message):
    flash(message, "success")
    return _back(category)


def _refused(category, error):
    db.session.rollback()
    flash(str(error), "error")
    return _back(category)


@bp.post("/manage/<slug>/<key>/panel")
@role_required(Role.ORGANISER)
def add_expert(slug, key):
    category = _category(slug, key)
    form = ExpertChoiceForm()
    form.expert.choices = [(u.id, u.name) for u in db.session.scalars(
        select(User).where(User.role == Role.EXPERT))]
    if not form.validate_on_submit():
        abort(400)
    try:
        member = services.add_to_panel(category, db.session.get(User, form.expert.data))
        db.session.commit()
    except services.ReviewError as error:
        return _refused(category, error)
    return _done(category, _("%(name)s joined the panel.", name=member.expert.name))


@bp.post("/manage/<slug>/<key>/panel/<int:expert_id>/remove")
@role_required(Role.ORGANISER)
def remove_expert(slug, key, expert_id):
    category = _category(slug, key)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        services.remove_from_panel(category, expert_id)
        db.session.commit()
    except services.ReviewError as error:
        return _refused(category, error)
    return _done(category, _("The expert left the panel; their unsubmitted reviews went too."))


@bp.post("/manage/<slug>/<key>/assign")
@role_required(Role.ORGANISER)
def assign(slug, key):
    category = _category(slug, key)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        report = services.assign_reviewers(category)
        db.session.commit()
    except services.ReviewError as error:
        return _refused(category, error)
    return _overview(category, report=report)


@bp.post("/manage/<slug>/<key>/assign-one")
@role_required(Role.ORGANISER)
def assign_one(slug, key):
    category = _category(slug, key)
    form = ManualAssignForm()
    form.entry.choices = [(e.id, e.number) for e in services.approved_entries(category)]
    form.expert.choices = [(m.expert_id, m.expert_id) for m in services.panel(category)]
    if not form.validate_on_submit():
        flash(_("Choose an entry and an expert of the panel."), "error")
        return redirect(url_for("review.manage", slug=slug, key=key))
    try:
        review = services.assign_manually(db.session.get(Entry, form.entry.data),
                                          db.session.get(User, form.expert.data))
        db.session.commit()
    except services.ReviewError as error:
        return _refused(category, error)
    return _done(category, _("%(number)s assigned to %(name)s.", number=review.entry.number,
                             name=review.expert.name))


@bp.post("/manage/reviews/<int:review_id>/<any(reopen, remove):action>")
@role_required(Role.ORGANISER)
def change_review(review_id, action):
    review = db.get_or_404(Review, review_id)
    category = review.entry.category
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        if action == "reopen":
            services.reopen_review(review, utcnow())
        else:
            services.unassign(review)
        db.session.commit()
    except services.ReviewError as error:
        return _refused(category, error)
    return _done(category, _("Review reopened.") if action == "reopen" else _("Assignment removed."))


@bp.post("/manage/<slug>/<key>/remind")
@role_required(Role.ORGANISER)
def remind(slug, key):
    category = _category(slug, key)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        sent = services.remind(category, utcnow())
        db.session.commit()
    except services.ReviewError as error:
        return _refused(category, error)
    return _done(category, _("Reminder sent to %(count)d experts with work left.", count=sent))


@bp.get("/manage/<slug>/<key>/sheet/<int:expert_id>.xlsx")
@role_required(Role.ORGANISER)
def sheet(slug, key, expert_id):
    category = _category(slug, key)
    expert = db.get_or_404(User, expert_id)
    filename = f"{category.campaign.slug}-{category.key}-expert-{expert.id}.xlsx"
    return Response(export_sheet(category, expert),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/manage/<slug>/<key>/sheet")
@role_required(Role.ORGANISER)
def import_scores(slug, key):
    category = _category(slug, key)
    form = SheetForm()
    if not form.validate_on_submit() or not form.file.data:
        flash(_("Please choose a filled-in score sheet."), "error")
        return redirect(url_for("review.manage", slug=slug, key=key))
    try:
        header, rows = read_table(form.file.data.read(), form.file.data.filename)
        report = import_sheet(category, header, rows, utcnow())
        db.session.commit()
    except TableError:
        return _refused(category, _("The file could not be read: use the XLSX sheet exported here."))
    except services.ReviewError as error:
        return _refused(category, error)
    except SheetRefused as refused:
        db.session.rollback()
        return _overview(category, sheet_report=refused.report, status=422)
    return _done(category, _("%(count)d reviews recorded from the sheet.", count=len(report.recorded)))


@bp.get("/manage/<slug>/<key>/leniency")
@role_required(Role.ORGANISER)
def leniency(slug, key):
    category = _category(slug, key)
    rows = scoring.leniency(services.scored_reviews(category), DISAGREEMENT_MARGIN, ZSCORE_MINIMUM)
    experts = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([row.expert for row in rows])))}
    return render_template("review/leniency.html", category=category, campaign=category.campaign,
                           rows=sorted(rows, key=lambda r: r.mean), experts=experts,
                           margin=DISAGREEMENT_MARGIN, minimum=ZSCORE_MINIMUM)


def method_table(category):
    """Per approved entry: score, rank and winner status under each method, and whether the
    method changes who wins."""
    reviews = services.scored_reviews(category)
    entries = services.approved_entries(category)
    table = {entry.id: {"entry": entry, "reviews": 0} for entry in entries}
    for review in reviews:
        table[review.entry]["reviews"] += 1
    for method in scoring.METHODS:
        scores = scoring.expert_scores(reviews, method)
        ordered = sorted(entries, key=lambda e: (-round(scores.get(e.id, 0.0), 4), e.number))
        ranks = scoring.competition_ranks([round(scores.get(e.id, 0.0), 4) for e in ordered])
        for entry, rank in zip(ordered, ranks, strict=True):
            table[entry.id][method] = (scores.get(entry.id, 0.0), rank, rank <= category.winners)
    rows = sorted(table.values(), key=lambda row: (row[category.aggregation.value][1],
                                                   row["entry"].number))
    for row in rows:
        row["changes"] = len({row[m][2] for m in scoring.METHODS}) > 1
    return rows


@bp.get("/manage/<slug>/<key>/methods")
@role_required(Role.ORGANISER)
def methods(slug, key):
    category = _category(slug, key)
    table = method_table(category)
    return render_template("review/methods.html", category=category, campaign=category.campaign,
                           rows=page_of(table, request.args.get("page", 1, type=int),
                                        current_app.config["ADMIN_PAGE_SIZE"] * 2),
                           changes=sum(1 for row in table if row["changes"]),
                           methods=scoring.METHODS)


