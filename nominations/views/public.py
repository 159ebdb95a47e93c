"""Public pages: the gallery of approved entries, an entry with its share block, files."""
import io

import segno
from flask import Response, abort, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from app import storage
from app.cache import public_page
from app.database import utcnow
from app.extensions import db
from app.models import Campaign, Category
from app.public import absolute_url, public_campaign_or_404

from ..models import Attachment, Entry, EntryStatus
from . import bp
from .moderation import approved_page


def public_category(slug, key):
    campaign = public_campaign_or_404(slug)
    category = db.first_or_404(
        select(Category).where(Category.campaign_id == campaign.id, Category.key == key))
    return campaign, category


def _public_entry(slug, key, number):
    """(campaign, category, entry) of an approved entry of a public campaign, in one read (its
    agency with it, which the page names)."""
    row = db.session.execute(
        select(Campaign, Category, Entry).join(Category, Category.campaign_id == Campaign.id)
        .join(Entry, Entry.category_id == Category.id).join(Entry.agency)
        .options(contains_eager(Entry.agency))
        .where(Campaign.slug == slug, Campaign.is_public.is_(True), Category.key == key,
               Entry.number == number, Entry.status == EntryStatus.APPROVED)).first()
    if row is None:
        abort(404)
    return row.Campaign, row.Category, row.Entry


def entry_url(entry):
    """The absolute address of an entry's public page (for sharing and the QR code)."""
    return absolute_url(url_for("nominations.entry", slug=entry.category.campaign.slug,
                                key=entry.category.key, number=entry.number))


@bp.get("/c/<slug>/<key>/")
@public_page
def gallery(slug, key):
    """Approved entries of a category, by number, with a search."""
    campaign, category = public_category(slug, key)
    q = request.args.get("q", "")
    return render_template("nominations/gallery.html", campaign=campaign, category=category,
                           page=approved_page(category, q), q=q, now=utcnow())


@bp.get("/c/<slug>/<key>/<number>")
@public_page
def entry(slug, key, number):
    campaign, category, item = _public_entry(slug, key, number)
    return render_template("nominations/entry.html", campaign=campaign, category=category,
                           entry=item, share_url=entry_url(item))


@bp.get("/c/<slug>/<key>/<number>/qr.svg")
def qr_code(slug, key, number):
    """A QR code of the entry's address, drawn by the app (no outside service)."""
    _campaign, _category, item = _public_entry(slug, key, number)
    output = io.BytesIO()
    segno.make(entry_url(item), error="m").save(output, kind="svg", scale=6, border=2,
                                                 xmldecl=False, svgns=True)
    return Response(output.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/files/<name>")
def file(name):
    """An attachment or its thumbnail, to whoever may see its entry, never run as a page."""
    attachment = db.session.scalar(select(Attachment).where(
        or_(Attachment.stored_name == name, Attachment.thumb_name == name)))
    if attachment is None or not attachment.entry.can_view(current_user):
        abort(404)
    is_thumb = name == attachment.thumb_name
    response = send_file(
        storage.path_of(name), mimetype="image/jpeg" if is_thumb else attachment.content_type,
        as_attachment=attachment.content_type == "application/pdf",
        download_name=attachment.original_name, conditional=True, max_age=3600)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not attachment.entry.is_public:
        response.headers["Cache-Control"] = "private, no-store"
    return response
