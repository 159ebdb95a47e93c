"""Routes of the expert review."""
from flask import Blueprint, render_template
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Campaign, Category, Role
from app.security import role_required

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.get("/")
@role_required(Role.EXPERT)
def mine():
    """The expert's home: the categories in review now (assignments come with the review issue)."""
    now = utcnow()
    in_review = [
        category
        for category in db.session.scalars(select(Category).join(Campaign).order_by(Campaign.id))
        if category.is_open("review", now)
    ]
    return render_template("review/mine.html", in_review=in_review, now=now)
