"""The JSON API against its OpenAPI document, and the voter's flow through it."""
import re

import pytest
from jsonschema import Draft202012Validator

from app.api import OPENAPI

from .conftest import last_code


def _pointer(path):
    return path.replace("~", "~0").replace("/", "~1")


def check(spec, response, path, method="get"):
    """The response's status is documented for the operation and its body matches the schema."""
    responses = spec["paths"][path][method]["responses"]
    documented = responses.get(str(response.status_code))
    assert documented is not None, f"{method.upper()} {path} answered {response.status_code}"
    if "$ref" in documented:
        documented = spec["components"]["responses"][documented["$ref"].rsplit("/", 1)[-1]]
    schema = documented["content"]["application/json"]["schema"]
    Draft202012Validator(dict(spec, **schema)).validate(response.json)
    return response.json


def test_the_document_is_valid_openapi(spec):
    assert spec["openapi"] == "3.1.0"


def test_every_api_route_is_documented(app, spec):
    documented = set()
    for path, operations in spec["paths"].items():
        for method in operations:
            documented.add((re.sub(r"{[^}]+}", "<>", path), method.upper()))
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<[^>]+>", "<>", rule.rule[len("/api/v1"):])
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (path, method) in documented, (rule.rule, method)


def test_reading_campaigns_categories_and_entries(client, spec, voted):
    campaigns = check(spec, client.get("/api/v1/campaigns"), "/campaigns")
    assert [c["slug"] for c in campaigns["campaigns"]] == ["week"]
    detail = check(spec, client.get("/api/v1/campaigns/week"), "/campaigns/{slug}")
    assert detail["categories"][0]["windows"]["voting"]["state"] == "open"
    entries = check(spec, client.get("/api/v1/campaigns/week/categories/workers/entries"),
                    "/campaigns/{slug}/categories/{key}/entries")
    assert [e["number"] for e in entries["entries"]] == [f"SW-00{i}" for i in range(1, 6)]
    one = check(spec, client.get("/api/v1/campaigns/week/categories/workers/entries/SW-002"),
                "/campaigns/{slug}/categories/{key}/entries/{number}")
    assert one["title"] == "社工2"
    missing = client.get("/api/v1/campaigns/week/categories/workers/entries/SW-404")
    check(spec, missing, "/campaigns/{slug}/categories/{key}/entries/{number}")
    assert missing.status_code == 404


def voter_token(app, client, spec, phone="13812345678"):
    sent = client.post("/api/v1/codes", json={"phone": phone})
    assert check(spec, sent, "/codes", "post")["phone"] == phone[:3] + "****" + phone[-4:]
    answer = client.post("/api/v1/tokens", json={"phone": phone, "code": last_code(app)["code"]})
    return check(spec, answer, "/tokens", "post")["token"]


def test_a_voter_votes_through_the_api(app, client, spec, voted):
    category, entries = voted
    token = voter_token(app, client, spec)
    auth = {"Authorization": f"Bearer {token}"}
    first = client.post("/api/v1/votes", json={"entry_id": entries[0].id}, headers=auth)
    receipt = check(spec, first, "/votes", "post")
    assert first.status_code == 201 and receipt["votes_left"] == 2
    again = client.post("/api/v1/votes", json={"entry_id": entries[0].id}, headers=auth)
    assert again.status_code == 409 and check(spec, again, "/votes", "post")["error"]["code"] == (
        "already_voted")
    for entry in entries[1:3]:
        assert client.post("/api/v1/votes", json={"entry_id": entry.id},
                           headers=auth).status_code == 201
    used = client.post("/api/v1/votes", json={"entry_id": entries[3].id}, headers=auth)
    assert used.status_code == 429 and 0 < int(used.headers["Retry-After"]) <= 86400
    tally = check(spec, client.get("/api/v1/campaigns/week/categories/workers/tally"),
                  "/campaigns/{slug}/categories/{key}/tally")
    assert {row["number"]: row.get("votes") for row in tally["entries"]} == {
        "SW-001": 1, "SW-002": 1, "SW-003": 1, "SW-004": 0, "SW-005": 0}


def test_a_voter_reads_their_own_votes_through_the_api(app, client, spec, voted, make_user):
    from app.database import utcnow
    from app.extensions import db
    from app.models import Role
    from voting import services

    category, entries = voted
    auth = {"Authorization": f"Bearer {voter_token(app, client, spec)}"}
    cast = [client.post("/api/v1/votes", json={"entry_id": entry.id}, headers=auth).json["vote_id"]
            for entry in entries[:2]]
    other = {"Authorization": f"Bearer {voter_token(app, client, spec, '13900001111')}"}
    client.post("/api/v1/votes", json={"entry_id": entries[2].id}, headers=other)
    with app.test_request_context("/", method="POST"):
        services.void_votes(category, [cast[0]], make_user(Role.ORGANISER), "同一网段批量投票",
                            utcnow())
        db.session.commit()

    mine = check(spec, client.get("/api/v1/votes", headers=auth), "/votes")
    assert [(v["vote_id"], v["entry_number"], v["status"], v.get("void_reason"))
            for v in mine["votes"]] == [(cast[1], "SW-002", "valid", None),
                                        (cast[0], "SW-001", "voided", "同一网段批量投票")]
    assert (mine["page"], mine["pages"], mine["total"]) == (1, 1, 2)
    assert {v["campaign_slug"] + "/" + v["category_key"] for v in mine["votes"]} == {"week/workers"}
    past = client.get("/api/v1/votes?page=2", headers=auth)
    assert past.status_code == 404 and check(spec, past, "/votes")
    for headers in ({}, {"Authorization": "Bearer forged"}):
        refused = client.get("/api/v1/votes", headers=headers)
        assert refused.status_code == 401 and check(spec, refused, "/votes")
    assert app.test_client().get("/api/v1/votes").status_code == 401  # a cookie is no token


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer forged"},
                                     {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer " + "x" * 5000}])
def test_votes_need_a_valid_token(client, spec, voted, headers):
    response = client.post("/api/v1/votes", json={"entry_id": voted[1][0].id}, headers=headers)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    check(spec, response, "/votes", "post")


def test_a_token_expires_after_the_voter_session_days(app, client, spec, voted, monkeypatch):
    import voting.session

    token = voter_token(app, client, spec)
    auth = {"Authorization": f"Bearer {token}"}
    entries = voted[1]
    assert client.post("/api/v1/votes", json={"entry_id": entries[0].id},
                       headers=auth).status_code == 201  # the token is now known to the worker
    days = app.config["VOTER_SESSION_DAYS"]
    later = voting.session.time() + days * 86400 + 60
    monkeypatch.setattr(voting.session, "time", lambda: later)
    expired = client.post("/api/v1/votes", json={"entry_id": entries[1].id}, headers=auth)
    assert expired.status_code == 401
    check(spec, expired, "/votes", "post")


def test_a_browser_cookie_cannot_cast_a_vote_through_the_api(app, spec, voted, verified):
    """The API never reads cookies: a page on another site cannot vote with the visitor's."""
    browser = verified()  # this browser holds a valid voter cookie
    response = browser.post("/api/v1/votes", json={"entry_id": voted[1][0].id})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [None, {}, {"entry_id": "1"}, {"entry_id": True}, [1, 2],
                                  {"entry_id": 10**12}])
def test_bad_bodies_get_a_4xx_never_a_500(app, client, spec, voted, body):
    token = voter_token(app, client, spec)
    response = client.post("/api/v1/votes", json=body, headers={"Authorization": f"Bearer {token}"})
    assert 400 <= response.status_code < 500
    check(spec, response, "/votes", "post")


def test_wrong_codes_and_bad_phones(app, client, spec, voted):
    bad = client.post("/api/v1/codes", json={"phone": "12345"})
    assert bad.status_code == 422 and check(spec, bad, "/codes", "post")["error"]["code"] == (
        "invalid_phone")
    client.post("/api/v1/codes", json={"phone": "13812345678"})
    code = last_code(app)["code"]
    wrong = client.post("/api/v1/tokens", json={"phone": "13812345678",
                                                "code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 422
    check(spec, wrong, "/tokens", "post")
    soon = client.post("/api/v1/codes", json={"phone": "13812345678"})
    assert soon.status_code == 429 and int(soon.headers["Retry-After"]) > 0


def test_the_registered_document_is_the_served_one(client):
    assert client.get("/api/v1/openapi.json").json == OPENAPI
