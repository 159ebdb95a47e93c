"""Routes of nominations: the agency's entries, moderation, the public gallery and files."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..forms import CERTIFICATE_LEVELS, FORMS
from ..models import EntryStatus

bp = Blueprint("nominations", __name__)

ENTRY_STATUS_NAMES = {
    EntryStatus.DRAFT: _l("Draft"),
    EntryStatus.SUBMITTED: _l("Submitted, waiting for moderation"),
    EntryStatus.APPROVED: _l("Approved"),
    EntryStatus.REJECTED: _l("Rejected"),
    EntryStatus.WITHDRAWN: _l("Withdrawn"),
}


def detail_rows(entry):
    """(label, value) of an entry's kind-specific fields, in the form's order, filled ones only."""
    form_class = FORMS[str(entry.category.kind)]
    rows = []
    for name in form_class.detail_fields:
        value = entry.details.get(name)
        if value in (None, ""):
            continue
        unbound = getattr(form_class, name)
        label = unbound.kwargs.get("label") or unbound.args[0]
        if name == "certificate_level":
            value = CERTIFICATE_LEVELS.get(value, value)
        elif isinstance(value, bool):
            value = _l("Yes") if value else _l("No")
        rows.append((name, label, value))
    return rows


@bp.app_context_processor
def _nomination_words():
    return {"ENTRY_STATUS_NAMES": ENTRY_STATUS_NAMES, "entry_detail_rows": detail_rows}


from . import agency, moderation, public  # noqa: E402,F401  (routes register on bp)
