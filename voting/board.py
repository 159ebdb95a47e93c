"""The public ranking by votes (排行榜) of a category, as far as the category shows its tally:
ranks and counts while the vote runs (``live``), ranks only (``ranking_only``), or nothing until
the vote has closed (``after_close``). It ranks by valid votes only: the final result, which
also weighs the experts' scores, is published on the results page."""
from flask import Blueprint, abort, current_app, render_template, request

from app.cache import public_page
from app.database import utcnow
from nominations.views.public import public_category

from . import services
from .views import tally_shown

bp = Blueprint("board", __name__)


@bp.get("/c/<slug>/<key>/ranking")
@public_page
def ranking(slug, key):
    campaign, category = public_category(slug, key)
    if not category.has_public_vote:
        abort(404)
    now = utcnow()
    showing = tally_shown(category, now)
    page = None
    if showing:
        page = services.ranking_page(category, request.args.get("page", 1, type=int),
                                     current_app.config["PUBLIC_PAGE_SIZE"])
        if page is None:
            abort(404)
    return render_template("voting/ranking.html", campaign=campaign, category=category,
                           page=page, showing=showing, now=now)
