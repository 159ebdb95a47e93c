"""Public pages: the list of campaigns and a campaign's page with its categories and phases."""
from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from .cache import public_page
from .database import utcnow
from .extensions import db
from .models import Campaign

bp = Blueprint("public", __name__)


def public_campaign_or_404(slug):
    return db.first_or_404(
        select(Campaign).where(Campaign.slug == slug, Campaign.is_public.is_(True)))


@bp.get("/")
@public_page
def index():
    page = db.paginate(
        select(Campaign).where(Campaign.is_public.is_(True)).order_by(Campaign.created_at.desc()),
        per_page=current_app.config["PUBLIC_PAGE_SIZE"])
    return render_template("public/index.html", page=page, now=utcnow())


@bp.get("/c/<slug>")
@public_page
def campaign(slug):
    item = public_campaign_or_404(slug)
    return render_template("public/campaign.html", campaign=item, now=utcnow())
