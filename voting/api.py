"""/api/v1 voting: a code by SMS, a bearer token for it, casting votes, tallies."""
import io
import json
import logging
from bisect import bisect_right
from datetime import datetime, time, timedelta

from flask import Blueprint, current_app, g, request
from limits.errors import StorageError
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests

from app.api import document, error
from app.cache import public_page
from app.database import is_id, lock_free, utcnow
from app.extensions import csrf, db, limiter
from app.lean import LeanAnswer
from app.models import Campaign, Category
from app.security import network_key

from . import services
from .limits import enforce_vote_limits, take_vote_limits
from .phones import mask
from .session import TOKEN_SALT, sign_voter, voter_of
from .views import visible_tally

bp = Blueprint("voting_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

STATUS = {"not_sent": 503, "invalid_phone": 422, "too_soon": 429, "too_many_codes": 429, "wrong_code": 422,
          "not_open": 403, "already_voted": 409, "quota_used": 429, "refused": 422}


def voter_token(voter_id):
    """The bearer token of a verified voter (signed, expires after VOTER_SESSION_DAYS)."""
    return sign_voter(voter_id, TOKEN_SALT)


def bearer_voter():
    """The voter id of a valid ``Authorization: Bearer`` token, else None (checked once per
    request: the per-voter limit asks first, then the view)."""
    if "bearer_voter" not in g:
        g.bearer_voter = _bearer_of(current_app, request.headers.get("Authorization", ""))
    return g.bearer_voter


def _bearer_of(app, header):
    """The voter id of an ``Authorization`` header's valid bearer token, else None."""
    if not header.startswith("Bearer "):
        return None
    return voter_of(app, header[7:].strip(), TOKEN_SALT)


def _limit(name):
    return lambda: current_app.config[name]


def _refusal(exc):
    headers = {}
    if "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    return error(STATUS.get(exc.code, 422), exc.code, exc, headers)


def _body():
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.post("/codes")
@limiter.limit(_limit("CODE_LIMITS_PER_IP"))
@limiter.limit(_limit("CODE_LIMITS_PER_NETWORK"), key_func=network_key)
def request_code():
    phone = _body().get("phone")
    if not isinstance(phone, str):
        return error(422, "invalid_phone", "phone is required")
    try:
        sent = services.request_code(phone, request.remote_addr, utcnow())
    except services.VotingError as exc:
        db.session.rollback()
        return _refusal(exc)
    return {"phone": mask(sent.phone), "expires_in": current_app.config["CODE_TTL_SECONDS"],
            "delayed": sent.delayed}, 202


@bp.post("/tokens")
@limiter.limit(_limit("CODE_LIMITS_PER_IP"))
@limiter.limit(_limit("CODE_LIMITS_PER_NETWORK"), key_func=network_key)
def token():
    body = _body()
    if not isinstance(body.get("phone"), str) or not isinstance(body.get("code"), str):
        return error(422, "wrong_code", "phone and code are required")
    try:
        voter, phone = services.verify_code(body["phone"], body["code"], utcnow())
        db.session.commit()
    except services.VotingError as exc:
        db.session.commit()  # a wrong try counts
        return _refusal(exc)
    return {"token": voter_token(voter.id), "phone": mask(phone),
            "expires_in": current_app.config["VOTER_SESSION_DAYS"] * 86400}


def _seconds_to_next_day(category, now):
    local = category.campaign.local(now)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=local.tzinfo)
    return max(1, int((tomorrow - local).total_seconds()))


#: The largest vote body the lean route reads itself: {"entry_id": 2147483647} is 25 bytes.
LEAN_BODY_LIMIT = 256
#: The environ key where the lean route leaves the vote's rate-limit outcome for the view: 0 when
#: the vote was counted, the seconds to wait when it was refused, or the storage's error.
LIMITS_TAKEN = "award.vote_limits"

log = logging.getLogger(__name__)


def cast_lean(app, environ):
    """``POST /api/v1/votes`` as nearly every vote arrives, before Flask (app/lean.py): a valid
    bearer token, ``application/json``, a body of ``{"entry_id": n}`` and nothing else to look
    at. The limits in one Redis round trip, the vote in a driver transaction of its own; the
    receipt is the answer. Anything else (no or a bad token, another body, a query string, an
    escape in the JSON, where a NUL could hide) returns None before anything is counted, and
    the view answers it as it always has. A vote the limits or the rules refuse also returns
    None, the limits' outcome left in the environ: the view then answers in the voter's
    language, with every hook (a refused vote is tried again there; nothing of it was kept)."""
    if environ.get("QUERY_STRING") or environ.get("CONTENT_TYPE", "").partition(";")[0].strip(
            ).lower() != "application/json":
        return None
    length = environ.get("CONTENT_LENGTH", "")
    if not length.isdigit() or not 0 < int(length) <= LEAN_BODY_LIMIT:
        return None
    voter_id = _bearer_of(app, environ.get("HTTP_AUTHORIZATION", ""))
    if voter_id is None:
        return None
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)  # the view reads it again if it answers
    if b"\\" in body or b"\x00" in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    entry_id = data.get("entry_id") if isinstance(data, dict) else None
    if not is_id(entry_id):
        return None
    address = environ.get("REMOTE_ADDR", "")
    with app.app_context():
        try:
            wait = environ[LIMITS_TAKEN] = take_vote_limits(voter_id, address)
        except StorageError as failure:
            environ[LIMITS_TAKEN] = failure
            return None
        if wait:
            return None
        try:
            with services.vote_transaction() as cursor:
                receipt = services.cast_vote(voter_id, entry_id, utcnow(), address,
                                             environ.get("HTTP_USER_AGENT", ""), cursor=cursor)
        except services.VotingError:
            return None
        except Exception:  # the view tries again, and answers (or logs) what it meets
            log.exception("the lean vote failed; the view tries it again")
            return None
    return LeanAnswer("/api/v1/votes", 201, _receipt(receipt))


@bp.record_once
def _lean_route(state):
    state.app.lean_route("POST", bp.url_prefix + "/votes", cast_lean)


@bp.post("/votes")
@lock_free
@limiter.exempt  # its three limits are taken in one step: voting/limits.py
def cast():
    taken = request.environ.get(LIMITS_TAKEN)  # counted already by the lean route
    if taken is None:
        enforce_vote_limits(bearer_voter())
    elif isinstance(taken, Exception):
        raise taken  # the limits' storage is down: 503
    elif taken:
        raise TooManyRequests(retry_after=taken)
    voter_id = bearer_voter()
    if voter_id is None:
        return error(401, "unauthorized", "A voter token is required.",
                     {"WWW-Authenticate": "Bearer"})
    entry_id = _body().get("entry_id")
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        return error(422, "refused", "entry_id (integer) is required")
    now = utcnow()
    try:
        receipt = services.cast_vote(voter_id, entry_id, now, request.remote_addr,
                                     request.user_agent.string or "")
        db.session.commit()
    except services.VotingError as refusal:
        db.session.rollback()
        if refusal.code == "quota_used":
            from nominations.models import Entry

            entry = db.session.get(Entry, entry_id)
            refusal.details["retry_after"] = _seconds_to_next_day(entry.category, now)
        return _refusal(refusal)
    return _receipt(receipt), 201


@bp.get("/votes")
def my_votes():
    """The token's voter's votes, the newest first, a page at a time: each with its entry and
    whether it still counts (a voided one with the organisers' reason)."""
    voter_id = bearer_voter()
    if voter_id is None:
        return error(401, "unauthorized", "A voter token is required.",
                     {"WWW-Authenticate": "Bearer"})
    page = services.voter_votes(voter_id, request.args.get("page", 1, type=int),
                                current_app.config["PUBLIC_PAGE_SIZE"])
    if page is None:
        return error(404, "not_found", "No such page.")
    return {"votes": [{
        "vote_id": vote.vote_id, "entry_number": vote.number, "entry_title": vote.title,
        "campaign_slug": vote.campaign_slug, "category_key": vote.category_key,
        "cast_at": vote.cast_at.isoformat(), "status": "valid" if vote.valid else "voided",
        **({} if vote.valid else {"void_reason": vote.void_reason})} for vote in page.items],
        "page": page.page, "pages": page.pages, "total": page.total}


def _receipt(receipt):
    return {"vote_id": receipt.vote_id, "entry_number": receipt.entry_number,
            "cast_at": receipt.cast_at.isoformat(), "vote_day": receipt.vote_day.isoformat(),
            "votes_left": receipt.votes_left}


@bp.get("/campaigns/<slug>/categories/<key>/tally")
@public_page
def tally(slug, key):
    category = db.session.scalar(select(Category).join(Campaign).where(
        Campaign.slug == slug, Campaign.is_public.is_(True), Category.key == key))
    if category is None or not category.has_public_vote:
        return error(404, "not_found", "No public vote in this category.")
    from nominations.models import Entry, EntryStatus

    now = utcnow()
    counts = services.tallies(category)
    ordered = sorted(counts.values())
    rows = []
    for entry_id, number in db.session.execute(select(Entry.id, Entry.number).where(
            Entry.category_id == category.id, Entry.status == EntryStatus.APPROVED)
            .order_by(Entry.number)).all():
        votes = counts.get(entry_id, 0)
        ahead = len(ordered) - bisect_right(ordered, votes)  # entries with more votes
        shown = visible_tally(category, votes, ahead, now)
        row = {"entry_id": entry_id, "number": number}
        if shown:
            row["votes" if shown[0] == "count" else "rank"] = shown[1]
        rows.append(row)
    return {"visibility": category.tally_visibility.value, "entries": rows}


def _json(schema):
    return {"content": {"application/json": {"schema": schema}}}


ERROR = _json({"$ref": "#/components/schemas/Error"})
document({
    "/codes": {"post": {
        "summary": "Send a 6-digit code to a mainland mobile number", "operationId": "requestCode",
        "requestBody": {"required": True, **_json({
            "type": "object", "required": ["phone"],
            "properties": {"phone": {"type": "string", "pattern": r"^\+?[0-9][0-9 ()-]{9,18}$",
                                     "description": "A mainland China mobile number"}}})},
        "responses": {"202": {"description": "Code sent", **_json({
            "type": "object", "required": ["phone", "expires_in", "delayed"],
            "properties": {"phone": {"type": "string"}, "expires_in": {"type": "integer"},
                           "delayed": {"type": "boolean", "description":
                                       "The SMS gateway did not answer in time: the code may "
                                       "still arrive; ask again after the resend wait if not"}}})},
            "422": {"description": "Not a mainland mobile number", **ERROR},
            "429": {"$ref": "#/components/responses/TooMany"},
            "503": {"description": "The SMS gateway failed; try again later", **ERROR}}}},
    "/tokens": {"post": {
        "summary": "Exchange a phone number and its code for a voter token",
        "operationId": "createToken",
        "requestBody": {"required": True, **_json({
            "type": "object", "required": ["phone", "code"],
            "properties": {"phone": {"type": "string"},
                           "code": {"type": "string", "pattern": "^[0-9]{6}$"}}})},
        "responses": {"200": {"description": "A bearer token", **_json({
            "type": "object", "required": ["token", "expires_in"],
            "properties": {"token": {"type": "string"}, "phone": {"type": "string"},
                           "expires_in": {"type": "integer"}}})},
            "422": {"description": "Wrong, used or expired code", **ERROR},
            "429": {"$ref": "#/components/responses/TooMany"}}}},
    "/votes": {"get": {
        "summary": "The voter's own votes, the newest first", "operationId": "myVotes",
        "security": [{"voter": []}],
        "parameters": [{"name": "page", "in": "query",
                        "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": {"description": "A page of the voter's votes", **_json({
            "type": "object", "required": ["votes", "page", "pages", "total"],
            "properties": {
                "votes": {"type": "array", "items": {
                    "type": "object",
                    "required": ["vote_id", "entry_number", "entry_title", "campaign_slug",
                                 "category_key", "cast_at", "status"],
                    "properties": {
                        "vote_id": {"type": "integer"}, "entry_number": {"type": "string"},
                        "entry_title": {"type": "string"}, "campaign_slug": {"type": "string"},
                        "category_key": {"type": "string"},
                        "cast_at": {"type": "string", "format": "date-time"},
                        "status": {"enum": ["valid", "voided"],
                                   "description": "voided: the organisers voided it; it does "
                                                  "not count"},
                        "void_reason": {"type": "string"}}}},
                "page": {"type": "integer"}, "pages": {"type": "integer"},
                "total": {"type": "integer"}}})},
            "401": {"description": "No valid voter token", **ERROR},
            "404": {"$ref": "#/components/responses/NotFound"}}},
              "post": {
        "summary": "Cast a vote", "operationId": "castVote", "security": [{"voter": []}],
        "requestBody": {"required": True, **_json({
            "type": "object", "required": ["entry_id"],
            "properties": {"entry_id": {"type": "integer"}}})},
        "responses": {"201": {"description": "The receipt", **_json({
            "type": "object",
            "required": ["vote_id", "entry_number", "cast_at", "vote_day", "votes_left"],
            "properties": {"vote_id": {"type": "integer"}, "entry_number": {"type": "string"},
                           "cast_at": {"type": "string", "format": "date-time"},
                           "vote_day": {"type": "string", "format": "date"},
                           "votes_left": {"type": "integer", "minimum": 0}}})},
            "401": {"description": "No valid voter token", **ERROR},
            "403": {"description": "Voting is not open for this entry", **ERROR},
            "409": {"description": "Already voted for this entry today", **ERROR},
            "422": {"description": "Bad request body", **ERROR},
            "429": {"$ref": "#/components/responses/TooMany"}}}},
    "/campaigns/{slug}/categories/{key}/tally": {"get": {
        "summary": "Votes per entry, as the category's visibility allows", "operationId": "tally",
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The tally", **_json({
            "type": "object", "required": ["visibility", "entries"],
            "properties": {"visibility": {"enum": ["live", "ranking_only", "after_close"]},
                           "entries": {"type": "array", "items": {
                               "type": "object", "required": ["entry_id", "number"],
                               "properties": {"entry_id": {"type": "integer"},
                                              "number": {"type": "string"},
                                              "votes": {"type": "integer"},
                                              "rank": {"type": "integer"}}}}}})},
            "404": {"$ref": "#/components/responses/NotFound"}}}},
}, {})
