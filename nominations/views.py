"""Routes of nominations: the agency's home and the public gallery of approved entries."""
from flask import Blueprint, abort, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Campaign, Category, Role
from app.public import public_campaign_or_404
from app.security import role_required

from .models import Entry, EntryStatus

bp = Blueprint("nominations", __name__)


@bp.get("/agency/")
@role_required(Role.AGENCY)
def mine():
    """The agency's home: its entries, and the categories open for nomination now."""
    entries = db.paginate(
        select(Entry).where(Entry.agency_id == current_user.agency_id)
        .order_by(Entry.created_at.desc()),
        per_page=current_app.config["ADMIN_PAGE_SIZE"])
    now = utcnow()
    open_categories = [
        category
        for category in db.session.scalars(
            select(Category).join(Campaign).where(Campaign.is_public.is_(True))
            .order_by(Campaign.id, Category.position))
        if category.is_open("nomination", now)
    ]
    return render_template("nominations/mine.html", entries=entries,
                           open_categories=open_categories, now=now)


@bp.get("/c/<slug>/<key>/")
def gallery(slug, key):
    """Approved entries of a category, newest numbers last."""
    campaign = public_campaign_or_404(slug)
    category = db.first_or_404(
        select(Category).where(Category.campaign_id == campaign.id, Category.key == key))
    page = db.paginate(
        select(Entry).where(Entry.category_id == category.id,
                            Entry.status == EntryStatus.APPROVED).order_by(Entry.number),
        per_page=current_app.config["PUBLIC_PAGE_SIZE"])
    return render_template("nominations/gallery.html", campaign=campaign, category=category,
                           page=page, now=utcnow())


@bp.get("/c/<slug>/<key>/<number>")
def entry(slug, key, number):
    campaign = public_campaign_or_404(slug)
    item = db.first_or_404(
        select(Entry).join(Category).where(
            Category.campaign_id == campaign.id, Category.key == key, Entry.number == number))
    if not item.is_public:
        abort(404)
    return render_template("nominations/entry.html", campaign=campaign, category=item.category,
                           entry=item)


ENTRY_STATUS_NAMES = {
    EntryStatus.DRAFT: _l("Draft"),
    EntryStatus.SUBMITTED: _l("Submitted"),
    EntryStatus.APPROVED: _l("Approved"),
    EntryStatus.REJECTED: _l("Rejected"),
    EntryStatus.WITHDRAWN: _l("Withdrawn"),
}
#: Labels of the kind-specific detail fields.
DETAIL_NAMES = {
    "text": _l("Story"),
    "background": _l("Background"),
    "assessment": _l("Assessment"),
    "intervention": _l("Intervention"),
    "outcome": _l("Outcome"),
    "anonymised": _l("Client anonymised"),
    "name": _l("Name"),
    "years_of_service": _l("Years of service"),
    "certificate_level": _l("Certificate level"),
    "number": _l("Hotline number"),
    "station": _l("Service station"),
    "hours": _l("Hours"),
}


@bp.app_context_processor
def _nomination_words():
    return {"ENTRY_STATUS_NAMES": ENTRY_STATUS_NAMES, "DETAIL_NAMES": DETAIL_NAMES}
