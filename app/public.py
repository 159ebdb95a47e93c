"""Public pages: the list of campaigns and a campaign's page with its categories and phases."""
from flask import Blueprint, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .cache import public_page
from .database import utcnow
from .extensions import db
from .models import Campaign

bp = Blueprint("public", __name__)

#: The longest description a link preview carries (messengers show about two lines of it).
PREVIEW_CHARACTERS = 120


@bp.app_template_global("absolute_url")
def absolute_url(path):
    """The address of ``path`` as people outside reach it (``PUBLIC_BASE_URL``): for links that
    are shared, QR codes and link previews, never the address the request came in by."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


@bp.app_template_filter("preview_text")
def preview_text(*parts):
    """The given texts on one line, joined by " · ", blanks dropped, cut to PREVIEW_CHARACTERS
    with an ellipsis: what a link preview shows under its title."""
    text = " · ".join(" ".join(str(part).split()) for part in parts if part and str(part).strip())
    if len(text) <= PREVIEW_CHARACTERS:
        return text
    return text[:PREVIEW_CHARACTERS - 1].rstrip() + "…"


def public_campaign_or_404(slug):
    return db.first_or_404(
        select(Campaign).where(Campaign.slug == slug, Campaign.is_public.is_(True)))


@bp.get("/")
@public_page
def index():
    page = db.paginate(
        select(Campaign).where(Campaign.is_public.is_(True)).order_by(Campaign.created_at.desc())
        .options(selectinload(Campaign.categories)),
        per_page=current_app.config["PUBLIC_PAGE_SIZE"])
    return render_template("public/index.html", page=page, now=utcnow())


@bp.get("/c/<slug>")
@public_page
def campaign(slug):
    item = public_campaign_or_404(slug)
    return render_template("public/campaign.html", campaign=item, now=utcnow())
