"""Routes of the results: the organiser's preview of a category's ranking (publication to come)."""
from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Category, Kind, Role
from app.security import role_required

from . import services

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
    return render_template("results/preview.html", category=category, campaign=category.campaign,
                           ranking=ranking, entries=entries)


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
