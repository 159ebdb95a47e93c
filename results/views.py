"""Routes of the results: the organiser's preview and publication, the public results."""
import json
from datetime import timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Campaign, Category, Kind, Role
from app.public import public_campaign_or_404
from app.security import role_required

from . import services
from .models import Publication, PublicationKind

bp = Blueprint("results", __name__, url_prefix="/results")


def _category(slug, key):
    category = db.first_or_404(select(Category).join(Campaign).where(
        Campaign.slug == slug, Category.key == key))
    if category.kind == Kind.REPORT:
        abort(404)  # reports are collected, not ranked
    return category


@bp.get("/manage/<slug>/<key>/")
@role_required(Role.ORGANISER)
def preview(slug, key):
    category = _category(slug, key)
    ranking, entries = services.category_ranking(category)
    history = db.session.scalars(select(Publication).where(
        Publication.category_id == category.id).order_by(Publication.version.desc())).all()
    return render_template("results/preview.html", category=category, campaign=category.campaign,
                           ranking=ranking, entries=entries, history=history)


@bp.post("/manage/<slug>/<key>/publish")
@role_required(Role.ORGANISER)
def publish(slug, key):
    category = _category(slug, key)
    kind = request.form.get("kind")
    if not FlaskForm().validate_on_submit() or kind not in {k.value for k in PublicationKind}:
        abort(400)
    publication = services.publish(category, kind, current_user, utcnow())
    db.session.commit()
    flash(_("Published as version %(version)d (SHA-256 %(digest)s).",
            version=publication.version, digest=publication.digest[:16]), "success")
    return redirect(url_for("results.preview", slug=slug, key=key))


@bp.get("/<slug>/")
def public(slug):
    """The published lists of a campaign: winners, scores, provisional or final, the digest."""
    campaign = public_campaign_or_404(slug)
    lists = [(category, publication, json.loads(publication.snapshot))
             for category, publication in services.latest_publications(campaign).items()]
    return render_template("results/public.html", campaign=campaign, lists=lists,
                           timedelta=timedelta)


@bp.get("/<slug>/<key>/v<int:version>.json")
def snapshot(slug, key, version):
    campaign = public_campaign_or_404(slug)
    publication = db.first_or_404(select(Publication).join(Category).where(
        Category.campaign_id == campaign.id, Category.key == key, Publication.version == version))
    # The stored text itself: re-serialising could change the bytes the digest is taken of.
    body = '{"digest":"' + publication.digest + '","snapshot":' + publication.snapshot + '}'
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{slug}-{key}-v{version}.json"'})


@bp.get("/manage/<slug>/<key>/ranking.<any(csv, xlsx, json):file_format>")
@role_required(Role.ORGANISER)
def download(slug, key, file_format):
    category = _category(slug, key)
    data = services.export([category], file_format)
    mimetypes = {"csv": "text/csv; charset=utf-8", "json": "application/json",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    if file_format == "csv":
        data = "\ufeff" + data
    filename = f"{category.campaign.slug}-{category.key}-ranking.{file_format}"
    return Response(data, mimetype=mimetypes[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
