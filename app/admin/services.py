"""Campaign and category use cases for organisers (and the YAML importer)."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import PHASES, Aggregation, Campaign, Category, Criterion, Kind, TallyVisibility

CAMPAIGN_FIELDS = ("slug", "title", "theme", "description", "timezone", "is_public", "objection_days")
CATEGORY_FIELDS = (
    "key", "name", "description", "kind", "number_prefix", "position", "winners", "expert_weight",
    "public_weight", "aggregation", "reviewers_per_entry", "votes_per_day", "tally_visibility",
    "blind_review",
)
WINDOW_FIELDS = tuple(f"{phase}_{edge}" for phase in PHASES for edge in ("opens", "closes"))
_CONVERT = {
    "kind": Kind,
    "aggregation": Aggregation,
    "tally_visibility": TallyVisibility,
    "expert_weight": float,
    "public_weight": float,
    "position": lambda v: v or 0,
    "description": lambda v: v or "",
    "theme": lambda v: v or "",
}


#: Callables (category) -> message or None, registered by feature packages: a message forbids
#: changing the points of the rubric (review refuses once scores exist).
RUBRIC_GUARDS = []


class AdminError(Exception):
    """A use case refused; ``field`` names the form field to blame, ``str()`` is the message."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def to_utc(local, tz_name):
    """A naive wall-clock time in ``tz_name`` as an aware UTC datetime."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def to_local(moment, tz_name):
    """An aware datetime as naive wall-clock time in ``tz_name`` (for a form field)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(tz_name)).replace(tzinfo=None)


def _assign(obj, values, fields, tz_name):
    for name in fields:
        if name in values:
            value = values[name]
            setattr(obj, name, _CONVERT[name](value) if name in _CONVERT else value)
    for name in WINDOW_FIELDS:
        if name in values:
            value = values[name]
            if value is not None and not isinstance(value, datetime):
                raise TypeError(f"{name} must be a datetime")
            setattr(obj, name, to_utc(value, tz_name))


def save_campaign(values, campaign=None):
    """Create a campaign, or update ``campaign``, from form values (windows in its time zone)."""
    slug = values.get("slug", campaign.slug if campaign else None)
    clash = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if clash is not None and clash is not campaign:
        raise AdminError(_("Another campaign already uses this short name."), "slug")
    if campaign is None:
        campaign = Campaign()
        db.session.add(campaign)
    tz_name = values.get("timezone") or campaign.timezone or "Asia/Shanghai"
    _assign(campaign, values, CAMPAIGN_FIELDS, tz_name)
    db.session.flush()
    return campaign


def campaign_form_data(campaign):
    """The values of a campaign as its edit form shows them."""
    data = {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}
    data.update({name: to_local(getattr(campaign, name), campaign.timezone) for name in WINDOW_FIELDS})
    return data


def save_category(campaign, values, criteria, category=None):
    """Create or update a category of ``campaign`` with its rubric.

    ``criteria`` is a list of (name, description, max_points); existing rubric rows are updated
    in order, new ones added and left-over ones removed.
    """
    for field, label in (("key", _("key")), ("number_prefix", _("number prefix"))):
        value = values.get(field)
        for other in campaign.categories:
            if other is not category and getattr(other, field) == value:
                raise AdminError(_("Another category of this campaign has this %(what)s.",
                                   what=label), field)
    if category is None:
        category = Category(campaign=campaign)
        db.session.add(category)
    elif [c.max_points for c in category.criteria] != [int(c[2]) for c in criteria]:
        for guard in RUBRIC_GUARDS:
            message = guard(category)
            if message:
                raise AdminError(message, "criteria")
    _assign(category, values, CATEGORY_FIELDS, campaign.timezone)
    existing = list(category.criteria)
    for position, (name, description, max_points) in enumerate(criteria):
        if position < len(existing):
            row = existing[position]
        else:
            row = Criterion()
            category.criteria.append(row)
        row.position, row.name, row.description, row.max_points = (
            position, name, description or "", int(max_points))
    for row in existing[len(criteria):]:
        category.criteria.remove(row)
    db.session.flush()
    return category


def category_form_data(category):
    data = {name: getattr(category, name) for name in CATEGORY_FIELDS}
    for name in ("kind", "aggregation", "tally_visibility"):
        data[name] = data[name].value
    data.update({name: to_local(getattr(category, name), category.campaign.timezone)
                 for name in WINDOW_FIELDS})
    data["criteria"] = [
        {"name": c.name, "description": c.description, "max_points": c.max_points}
        for c in category.criteria
    ]
    return data


def delete_category(category):
    """Remove a category that nothing depends on yet."""
    db.session.delete(category)
    db.session.flush()
