"""Routes of the expert review: the expert's work, and the organisers' panel pages."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..models import ReviewStatus

bp = Blueprint("review", __name__, url_prefix="/review")

REVIEW_STATUS_NAMES = {
    ReviewStatus.ASSIGNED: _l("To do"),
    ReviewStatus.DRAFT: _l("Draft"),
    ReviewStatus.SUBMITTED: _l("Submitted"),
}


@bp.app_context_processor
def _review_words():
    return {"REVIEW_STATUS_NAMES": REVIEW_STATUS_NAMES}


from . import expert, manage  # noqa: E402,F401  (routes register on bp)
