"""Review use cases: panels, assignment, scoring, conflicts, reminders. The caller commits."""
from collections import Counter, defaultdict
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.mail import queue_mail
from app.models import Category, Role, User, UserStatus
from app.public import absolute_url
from nominations.models import Entry, EntryStatus

from . import scoring
from .assignment import plan_assignment
from .models import Conflict, PanelMember, Review, ReviewStatus


class ReviewError(Exception):
    """A use case refused; ``str()`` is a message for the user."""


def _require_review_open(category, now):
    if not category.has_review:
        raise ReviewError(_("This category has no expert review."))
    if not category.is_open("review", now):
        raise ReviewError(_("The review window is closed; nothing can change now."))


def panel(category):
    return db.session.scalars(select(PanelMember).where(PanelMember.category_id == category.id)
                              .join(User).order_by(User.name)).all()


def add_to_panel(category, expert):
    if expert.role != Role.EXPERT:
        raise ReviewError(_("Only expert accounts can sit on a panel."))
    if any(member.expert_id == expert.id for member in panel(category)):
        raise ReviewError(_("%(name)s is already on this panel.", name=expert.name))
    member = PanelMember(category=category, expert=expert)
    db.session.add(member)
    return member


def remove_from_panel(category, expert_id):
    """Take an expert off the panel; their reviews not yet submitted go with them."""
    member = next((m for m in panel(category) if m.expert_id == expert_id), None)
    if member is None:
        raise ReviewError(_("This expert is not on the panel."))
    for review in reviews_of(category, expert_id=expert_id):
        if review.status != ReviewStatus.SUBMITTED:
            db.session.delete(review)
    db.session.delete(member)


def approved_entries(category):
    return db.session.scalars(select(Entry).where(
        Entry.category_id == category.id, Entry.status == EntryStatus.APPROVED)
        .order_by(Entry.number)).all()


def approved_count(category):
    return db.session.scalar(select(func.count()).select_from(Entry).where(
        Entry.category_id == category.id, Entry.status == EntryStatus.APPROVED))


def reviews_of(category, expert_id=None):
    """The category's reviews (of one expert), by entry number, each with its entry loaded."""
    query = (select(Review).join(Entry).options(contains_eager(Review.entry))
             .where(Entry.category_id == category.id))
    if expert_id is not None:
        query = query.where(Review.expert_id == expert_id)
    return db.session.scalars(query.order_by(Entry.number)).all()


def conflicts_of(category):
    return db.session.scalars(select(Conflict).join(Entry, Conflict.entry_id == Entry.id)
                              .where(Entry.category_id == category.id)).all()


@dataclass
class AssignmentReport:
    created: int
    #: (entry, missing, reason text)
    uncovered: list


def assign_reviewers(category):
    """Give every approved entry ``reviewers_per_entry`` experts; keep what exists."""
    if not category.has_review:
        raise ReviewError(_("This category has no expert review."))
    members = panel(category)
    if not members:
        raise ReviewError(_("The panel is empty: add experts first."))
    entries = {e.id: e.agency_id for e in approved_entries(category)}
    experts = {m.expert_id: m.expert.agency_id for m in members}
    existing = [(r.entry_id, r.expert_id) for r in reviews_of(category)]
    conflicts = [(c.expert_id, c.entry_id) for c in conflicts_of(category)]
    plan = plan_assignment(entries, experts, category.reviewers_per_entry, existing, conflicts)
    for entry_id, expert_id in plan.new:
        db.session.add(Review(entry_id=entry_id, expert_id=expert_id, source="assignment"))
    db.session.flush()
    by_id = {e.id: e for e in approved_entries(category)}
    uncovered = [
        (by_id[s.entry], s.missing, _(
            "needs %(missing)d more: the panel has %(panel)d experts, %(own)d of the entry's own "
            "agency, %(conflicts)d with a declared conflict",
            missing=s.missing, panel=s.panel, own=s.own_agency, conflicts=s.conflicts))
        for s in plan.shortfalls
    ]
    return AssignmentReport(len(plan.new), uncovered)


def assign_manually(entry, expert):
    """An organiser adds one expert to one entry, with the same exclusions as the automatic run."""
    if expert.role != Role.EXPERT:
        raise ReviewError(_("Only expert accounts can review."))
    if entry.status != EntryStatus.APPROVED:
        raise ReviewError(_("Only approved entries are reviewed."))
    if expert.agency_id is not None and expert.agency_id == entry.agency_id:
        raise ReviewError(_("An expert never reviews an entry of their own agency."))
    if db.session.scalar(select(Conflict).where(Conflict.expert_id == expert.id,
                                                Conflict.entry_id == entry.id)):
        raise ReviewError(_("This expert declared a conflict with this entry."))
    if db.session.scalar(select(Review).where(Review.expert_id == expert.id,
                                              Review.entry_id == entry.id)):
        raise ReviewError(_("This expert already has this entry."))
    review = Review(entry=entry, expert=expert, source="manual")
    db.session.add(review)
    return review


def unassign(review):
    if review.status == ReviewStatus.SUBMITTED:
        raise ReviewError(_("A submitted review cannot be removed; reopen it first."))
    db.session.delete(review)


def _check_points(criterion, value):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= criterion.max_points:
        raise ReviewError(_("%(name)s: give 0 to %(max)d points.", name=criterion.name,
                            max=criterion.max_points))
    return value


def validate_points(category, points, complete=True):
    """{criterion id (str): int} within 0..max; with ``complete`` every criterion is needed.

    Keys of other criteria and empty values are dropped.
    """
    clean = {}
    for criterion in category.criteria:
        value = points.get(str(criterion.id))
        if value is None:
            if complete:
                raise ReviewError(_("Every criterion needs points before submitting."))
            continue
        clean[str(criterion.id)] = _check_points(criterion, value)
    return clean


def _own_open_review(review, expert, now):
    """The review is the expert's, its window is open and it is not locked."""
    if review.expert_id != expert.id:
        raise ReviewError(_("This review is not yours."))
    _require_review_open(review.entry.category, now)
    if review.status == ReviewStatus.SUBMITTED:
        raise ReviewError(_("This review is submitted and locked."))


def save_review(review, expert, points, comment, submit, now):
    """Save a draft (points may be missing) or submit (every criterion scored); then locked."""
    _own_open_review(review, expert, now)
    review.points = validate_points(review.entry.category, points, complete=submit)
    review.comment = comment or ""
    if submit:
        review.status = ReviewStatus.SUBMITTED
        review.submitted_at = now
    else:
        review.status = ReviewStatus.DRAFT
    return review


def reopen_review(review, now):
    _require_review_open(review.entry.category, now)
    if review.status != ReviewStatus.SUBMITTED:
        raise ReviewError(_("Only a submitted review can be reopened."))
    review.status = ReviewStatus.DRAFT
    review.submitted_at = None


def declare_conflict(review, expert, reason, now):
    """The expert steps aside (回避): the review goes, a conflict is kept, the entry is refilled."""
    _own_open_review(review, expert, now)
    category = review.entry.category
    db.session.add(Conflict(expert_id=expert.id, entry_id=review.entry_id, reason=reason or ""))
    db.session.delete(review)
    db.session.flush()
    return assign_reviewers(category)


def scored_reviews(category):
    """The submitted reviews of approved entries as ScoredReview(entry id, expert id, r).
    Plain rows, no ORM objects: a large category has thousands."""
    criteria = [(str(c.id), c.max_points) for c in category.criteria]
    max_points = [points for _key, points in criteria]
    if not max_points:
        return []
    rows = db.session.execute(select(Review.entry_id, Review.expert_id, Review.points)
                              .join(Entry, Review.entry_id == Entry.id).where(
        Entry.category_id == category.id, Entry.status == EntryStatus.APPROVED,
        Review.status == ReviewStatus.SUBMITTED)).all()
    return [
        scoring.ScoredReview(entry_id, expert_id, scoring.review_score(
            [int(points.get(key, 0)) for key, _max in criteria], max_points))
        for entry_id, expert_id, points in rows
    ]


def progress(category):
    """{expert id: Counter of review statuses} and {entry id: submitted count}, counted by the
    database: a category of a thousand entries holds thousands of reviews."""
    in_category = select(Entry.id).where(Entry.category_id == category.id)
    by_expert = defaultdict(Counter)
    for expert_id, status, count in db.session.execute(
            select(Review.expert_id, Review.status, func.count())
            .where(Review.entry_id.in_(in_category))
            .group_by(Review.expert_id, Review.status)):
        by_expert[expert_id][status.value] = count
    by_entry = Counter(dict(db.session.execute(
        select(Review.entry_id, func.count())
        .where(Review.entry_id.in_(in_category), Review.status == ReviewStatus.SUBMITTED)
        .group_by(Review.entry_id)).all()))
    return by_expert, by_entry


def campaign_progress(categories):
    """For categories with a review, counted by the database at once: {category id: Counter of
    the review statuses of its approved entries}, {category id: approved entries with fewer
    reviews than the category asks}, {category id: experts on its panel}."""
    ids = [category.id for category in categories]
    approved = (Entry.category_id.in_(ids), Entry.status == EntryStatus.APPROVED)
    statuses = defaultdict(Counter)
    for category_id, status, count in db.session.execute(
            select(Entry.category_id, Review.status, func.count())
            .join(Entry, Review.entry_id == Entry.id).where(*approved)
            .group_by(Entry.category_id, Review.status)):
        statuses[category_id][status.value] = count
    per_entry = (select(Entry.category_id, func.count(Review.id).label("reviews"))
                 .outerjoin(Review, Review.entry_id == Entry.id).where(*approved)
                 .group_by(Entry.id, Entry.category_id).subquery())
    short = dict(db.session.execute(
        select(per_entry.c.category_id, func.count())
        .join(Category, Category.id == per_entry.c.category_id)
        .where(per_entry.c.reviews < Category.reviewers_per_entry)
        .group_by(per_entry.c.category_id)).all())
    panels = dict(db.session.execute(
        select(PanelMember.category_id, func.count()).where(PanelMember.category_id.in_(ids))
        .group_by(PanelMember.category_id)).all())
    return statuses, short, panels


def remind(category, now):
    """Mail every expert who still has work in this category; returns how many were mailed."""
    _require_review_open(category, now)
    by_expert, _entries = progress(category)
    experts = {m.expert_id: m.expert for m in panel(category)}
    sent = 0
    for expert_id, counts in by_expert.items():
        left = counts["assigned"] + counts["draft"]
        expert = experts.get(expert_id)
        if not left or expert is None or expert.status != UserStatus.ACTIVE:
            continue
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            subject = _("Reviews waiting: %(category)s", category=category.name)
            body = _("You have %(left)d entries left to score in %(category)s. The review closes "
                     "on %(closes)s. Sign in: %(url)s", left=left, category=category.name,
                     closes=category.campaign.local(category.window("review")[1]).strftime(
                         "%Y-%m-%d %H:%M"), url=absolute_url(url_for("review.mine")))
        queue_mail(db.session, expert.email, subject, body)
        sent += 1
    return sent
