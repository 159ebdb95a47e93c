"""The expert's pages: assigned entries, the scoring form, declaring a conflict."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.database import utcnow
from app.extensions import db
from app.models import Role
from app.security import role_required
from nominations.models import Entry
from nominations.views import detail_rows

from .. import services
from ..forms import ConflictForm, criterion_field, score_form
from ..models import Review, ReviewStatus
from ..sheets import NAME_FIELDS, visible_title
from . import bp


def _own_review(review_id):
    """The expert's own review, or 404: other reviews and unassigned entries do not exist."""
    review = db.session.get(Review, review_id)
    if review is None or review.expert_id != current_user.id:
        abort(404)
    return review


def blind_rows(entry):
    """The entry's details as an expert may see them (no names in a blind review)."""
    rows = detail_rows(entry)
    if entry.category.blind_review:
        rows = [row for row in rows if row[0] not in NAME_FIELDS]
    return rows


@bp.get("/")
@role_required(Role.EXPERT)
def mine():
    """The expert's home: assigned entries by category, what is left first."""
    reviews = db.session.scalars(
        select(Review).join(Review.entry).options(contains_eager(Review.entry))
        .where(Review.expert_id == current_user.id)
        .order_by(Entry.category_id, Review.status, Entry.number)).all()
    groups = {}
    for review in reviews:
        groups.setdefault(review.entry.category, []).append(review)
    return render_template("review/mine.html", groups=groups, now=utcnow(),
                           visible_title=visible_title)


@bp.route("/<int:review_id>", methods=["GET", "POST"])
@role_required(Role.EXPERT)
def score(review_id):
    review = _own_review(review_id)
    entry, category = review.entry, review.entry.category
    now = utcnow()
    data = {criterion_field(c): review.points.get(str(c.id)) for c in category.criteria}
    form = score_form(category, data={**data, "comment": review.comment})
    editable = category.is_open("review", now) and review.status != ReviewStatus.SUBMITTED
    if request.method == "POST" and form.validate_on_submit():
        points = {str(c.id): field.data for c, field in form.criteria_fields}
        try:
            services.save_review(review, current_user, points, form.comment.data,
                                 "submit" in request.form, now)
            db.session.commit()
        except services.ReviewError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Review submitted.") if review.status == ReviewStatus.SUBMITTED
                  else _("Draft saved."), "success")
            return redirect(url_for("review.mine") if review.status == ReviewStatus.SUBMITTED
                            else url_for("review.score", review_id=review.id))
    status = 422 if request.method == "POST" else 200
    return render_template("review/score.html", review=review, entry=entry, category=category,
                           form=form, editable=editable, conflict_form=ConflictForm(),
                           title=visible_title(entry), rows=blind_rows(entry)), status


@bp.post("/<int:review_id>/conflict")
@role_required(Role.EXPERT)
def conflict(review_id):
    review = _own_review(review_id)
    form = ConflictForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.declare_conflict(review, current_user, form.reason.data, utcnow())
        db.session.commit()
    except services.ReviewError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("review.score", review_id=review_id))
    flash(_("Conflict recorded; the entry was handed to another expert."), "success")
    return redirect(url_for("review.mine"))
