"""/api/v1 reading: public campaigns, their categories and approved entries."""
from flask import Blueprint, request, url_for
from sqlalchemy import select

from app.api import document, error
from app.database import utcnow
from app.extensions import csrf, db
from app.models import PHASES, Campaign, Category

from .models import Entry, EntryStatus
from .views import detail_rows
from .views.moderation import approved_page

bp = Blueprint("nominations_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _campaign(campaign):
    return {"slug": campaign.slug, "title": campaign.title, "theme": campaign.theme,
            "timezone": campaign.timezone}


def _category(category, now):
    windows = {}
    for phase in PHASES:
        opens, closes = category.window(phase)
        if category.has_phase(phase) and opens and closes:
            windows[phase] = {"opens": opens.isoformat(), "closes": closes.isoformat(),
                              "state": category.phase_state(phase, now)}
    return {"key": category.key, "name": category.name, "kind": category.kind.value,
            "winners": category.winners, "expert_weight": category.expert_weight,
            "public_weight": category.public_weight, "votes_per_day": category.votes_per_day,
            "tally_visibility": category.tally_visibility.value, "windows": windows}


def entry_summary(entry):
    cover = entry.cover
    return {"id": entry.id, "number": entry.number, "title": entry.title,
            "agency": entry.agency.name, "summary": entry.summary,
            "cover": url_for("nominations.file", name=cover.thumb_name) if cover else None}


def _public_campaign(slug):
    return db.session.scalar(select(Campaign).where(Campaign.slug == slug,
                                                    Campaign.is_public.is_(True)))


def _public_category(slug, key):
    campaign = _public_campaign(slug)
    if campaign is None:
        return None
    return db.session.scalar(select(Category).where(Category.campaign_id == campaign.id,
                                                    Category.key == key))


@bp.get("/campaigns")
def campaigns():
    items = db.session.scalars(select(Campaign).where(Campaign.is_public.is_(True))
                               .order_by(Campaign.created_at.desc())).all()
    return {"campaigns": [_campaign(c) for c in items]}


@bp.get("/campaigns/<slug>")
def campaign(slug):
    item = _public_campaign(slug)
    if item is None:
        return error(404, "not_found", "No such public campaign.")
    now = utcnow()
    return {**_campaign(item), "description": item.description,
            "categories": [_category(c, now) for c in item.categories]}


@bp.get("/campaigns/<slug>/categories/<key>/entries")
def entries(slug, key):
    category = _public_category(slug, key)
    if category is None:
        return error(404, "not_found", "No such public category.")
    page = approved_page(category, request.args.get("q", ""), error_out=False)
    return {"entries": [entry_summary(e) for e in page.items], "page": page.page,
            "pages": page.pages, "total": page.total}


@bp.get("/campaigns/<slug>/categories/<key>/entries/<number>")
def entry(slug, key, number):
    category = _public_category(slug, key)
    item = category and db.session.scalar(select(Entry).where(
        Entry.category_id == category.id, Entry.number == number,
        Entry.status == EntryStatus.APPROVED))
    if not item:
        return error(404, "not_found", "No such approved entry.")
    return {**entry_summary(item),
            "details": [{"field": name, "label": str(label), "value": value}
                        for name, label, value in detail_rows(item)],
            "photos": [url_for("nominations.file", name=p.stored_name) for p in item.photos]}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
NOT_FOUND = {"$ref": "#/components/responses/NotFound"}

document({
    "/campaigns": {"get": {"summary": "Public campaigns", "operationId": "listCampaigns",
                           "responses": {"200": {"description": "Campaigns", **_json({
                               "type": "object", "required": ["campaigns"],
                               "properties": {"campaigns": {"type": "array",
                                                            "items": _ref("Campaign")}}})}}}},
    "/campaigns/{slug}": {"get": {
        "summary": "A campaign and its categories", "operationId": "getCampaign",
        "parameters": [SLUG],
        "responses": {"200": {"description": "The campaign", **_json(_ref("CampaignDetail"))},
                      "404": NOT_FOUND}}},
    "/campaigns/{slug}/categories/{key}/entries": {"get": {
        "summary": "Approved entries of a category", "operationId": "listEntries",
        "parameters": [SLUG, KEY,
                       {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                       {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "A page of entries", **_json({
            "type": "object", "required": ["entries", "page", "pages", "total"],
            "properties": {"entries": {"type": "array", "items": _ref("EntrySummary")},
                           "page": {"type": "integer"}, "pages": {"type": "integer"},
                           "total": {"type": "integer"}}})},
                      "404": NOT_FOUND}}},
    "/campaigns/{slug}/categories/{key}/entries/{number}": {"get": {
        "summary": "An approved entry", "operationId": "getEntry",
        "parameters": [SLUG, KEY, {"name": "number", "in": "path", "required": True,
                                   "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The entry", **_json(_ref("Entry"))},
                      "404": NOT_FOUND}}},
}, {
    "Campaign": {"type": "object", "required": ["slug", "title", "timezone"], "properties": {
        "slug": {"type": "string"}, "title": {"type": "string"}, "theme": {"type": "string"},
        "timezone": {"type": "string"}}},
    "Window": {"type": "object", "required": ["opens", "closes", "state"], "properties": {
        "opens": {"type": "string", "format": "date-time"},
        "closes": {"type": "string", "format": "date-time"},
        "state": {"enum": ["upcoming", "open", "closed"]}}},
    "Category": {"type": "object", "required": ["key", "name", "kind", "windows"], "properties": {
        "key": {"type": "string"}, "name": {"type": "string"},
        "kind": {"enum": ["project", "story", "case", "social_worker", "hotline", "report"]},
        "winners": {"type": "integer"}, "expert_weight": {"type": "number"},
        "public_weight": {"type": "number"}, "votes_per_day": {"type": "integer"},
        "tally_visibility": {"enum": ["live", "ranking_only", "after_close"]},
        "windows": {"type": "object", "additionalProperties": _ref("Window")}}},
    "CampaignDetail": {"allOf": [_ref("Campaign"), {"type": "object", "required": ["categories"],
                                                     "properties": {
        "description": {"type": "string"},
        "categories": {"type": "array", "items": _ref("Category")}}}]},
    "EntrySummary": {"type": "object", "required": ["id", "number", "title", "agency"],
                     "properties": {
        "id": {"type": "integer"}, "number": {"type": "string"}, "title": {"type": "string"},
        "agency": {"type": "string"}, "summary": {"type": "string"},
        "cover": {"type": ["string", "null"]}}},
    "Entry": {"allOf": [_ref("EntrySummary"), {"type": "object", "properties": {
        "details": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "label": {"type": "string"}, "value": {}}}},
        "photos": {"type": "array", "items": {"type": "string"}}}}]},
})
