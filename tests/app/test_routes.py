"""Every route that is not public refuses an anonymous visitor."""
import re

import pytest
from werkzeug.routing.converters import AnyConverter

from app.models import Role

from ..conftest import csrf_token

#: Endpoints anyone may open. A new endpoint is protected unless it is added here on purpose.
PUBLIC_ENDPOINTS = {
    "static",
    "health.health",  # tests/app/test_health.py
    "public.index",
    "public.campaign",
    "nominations.gallery",
    "nominations.entry",
    "nominations.qr_code",
    "nominations.file",  # checks each file's entry itself: tests/nominations/test_uploads.py
    "board.ranking",  # the ranking by votes, as the tally shows: tests/voting/test_board.py
    "auth.login",
    "auth.register",
    "auth.request_reset",
    "auth.reset_password",
    "auth.accept_invitation",
    "i18n.switch",
    # Citizens vote without an account: these check the voter's own cookie
    # (tests/voting/test_voting.py).
    "voting.verify",
    "voting.confirm",
    "voting.cast",
    "voting.receipt",
    "voting.mine",
    "voting.signout",
    # The JSON API: public reading; voting needs a voter's bearer token (tests/voting/test_api.py).
    "api.openapi",
    "nominations_api.campaigns",
    "nominations_api.campaign",
    "nominations_api.entries",
    "nominations_api.entry",
    "voting_api.request_code",
    "voting_api.token",
    "voting_api.cast",
    "voting_api.my_votes",
    "voting_api.tally",
    # Published results are public (tests/results/test_publication.py).
    "results.public",
    "results.snapshot",
    "results.object_to",
    "results.anthology",  # tests/results/test_books.py
    "results.service_cards",
}

SAMPLE_VALUES = {"slug": "gz-2020-social-work-week", "key": "social_workers", "number": "SW-001",
                 "user_id": 1, "decision": "approve", "filename": "css/site.css", "token": "x",
                 "code": "en", "category_id": 1, "entry_id": 1, "attachment_id": 1,
                 "file_format": "csv", "name": "x.jpg", "review_id": 1,
                 "expert_id": 1, "vote_id": 1, "version": 1,
                 "objection_id": 1}


def sample_url(rule):
    """The rule's URL with sample values; an ``any(...)`` argument takes one of its choices."""
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = sorted(converter.items)[0] if isinstance(converter, AnyConverter) else (
            SAMPLE_VALUES[arg])
    return rule.build(values)[1]


def protected_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_protected_route_sends_an_anonymous_visitor_to_sign_in(app, client, demo):
    routes = list(protected_routes(app))
    assert len(routes) >= 15, routes  # the walk really walks
    token = csrf_token(client)
    for endpoint, method, url in routes:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (endpoint, method, url, response.status_code)
        assert response.headers["Location"].startswith("/auth/login"), (endpoint, url)


def test_public_endpoints_are_really_public(app, client, demo):
    for rule in app.url_map.iter_rules():
        # these need real objects (a file, a vote, a publication) or a voter's token: tested in
        # their own modules
        hidden = {"nominations.file", "voting.receipt", "results.snapshot", "results.object_to",
                  "voting_api.my_votes"}
        if rule.endpoint in PUBLIC_ENDPOINTS - hidden and (
                "GET" in rule.methods):
            url = sample_url(rule)
            with client.get(url) as response:
                assert response.status_code in (200, 302), url


@pytest.mark.parametrize("url", ["/c/no-such-campaign", "/c/gz-2020-social-work-week/nope/",
                                 "/c/gz-2020-social-work-week/hotlines/RX-999",
                                 "/c/gz-2020-social-work-week/nope/ranking"])
def test_unknown_public_objects_are_404(client, demo, url):
    assert client.get(url).status_code == 404


def test_a_hidden_campaign_is_not_public(client, make_campaign):
    make_campaign(slug="secret", is_public=False)
    assert client.get("/c/secret").status_code == 404
    assert "secret" not in client.get("/").get_data(as_text=True)


def test_an_id_beyond_any_table_is_a_404_on_every_route(app, client, make_user, login, demo):
    """A number larger than any id (PostgreSQL's INTEGER) answers 404, never a database error."""
    from werkzeug.routing import IntegerConverter

    login(make_user(Role.ORGANISER))
    token = csrf_token(client, "/admin/")
    checked = 0
    for rule in app.url_map.iter_rules():
        ints = [arg for arg in rule.arguments
                if isinstance(rule._converters[arg], IntegerConverter)]
        if not ints:
            continue
        values = {arg: 2**40 if arg in ints else None for arg in rule.arguments}
        for arg in set(rule.arguments) - set(ints):
            values[arg] = (sorted(rule._converters[arg].items)[0]
                           if isinstance(rule._converters[arg], AnyConverter) else SAMPLE_VALUES[arg])
        url = "/" + rule.rule.split("/", 1)[1]
        for arg, value in values.items():
            url = re.sub(r"<(?:[^:<>]+:)?" + arg + r">", str(value), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, (rule.rule, method, response.status_code)
            checked += 1
    assert checked >= 10
