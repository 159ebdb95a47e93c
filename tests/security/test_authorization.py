"""The authorisation matrix: every route and method of app.url_map, requested as every role,
against the access each endpoint is meant to have. An endpoint missing from ACCESS fails the test,
so a new route cannot ship without saying who may use it."""

from ..conftest import csrf_token
from .conftest import url_of

ROLES = ("anonymous", "voter", "agency", "other_agency", "expert", "other_expert", "organiser")

PUBLIC_PAGES = {
    "static", "health.health", "public.index", "public.campaign", "i18n.switch",
    "auth.login", "auth.register", "auth.request_reset", "auth.reset_password",
    "auth.accept_invitation", "auth.logout",
    "nominations.gallery", "nominations.entry", "nominations.qr_code", "nominations.file",
    "voting.verify", "voting.confirm", "voting.cast", "voting.signout", "board.ranking",
    "api.openapi", "nominations_api.campaigns", "nominations_api.campaign",
    "nominations_api.entries", "nominations_api.entry", "voting_api.request_code",
    "voting_api.token", "voting_api.tally",
    "results.public", "results.snapshot", "results.object_to", "results.anthology",
    "results.service_cards",
}
ORGANISER_ONLY = {
    "admin.accounts", "admin.audit", "admin.campaign", "admin.decide_account",
    "admin.delete_category", "admin.edit_campaign", "admin.edit_category",
    "admin.export_campaign", "admin.import_campaign", "admin.index", "admin.invite_expert",
    "admin.new_campaign", "admin.new_category", "admin.outbox", "admin.retry_mail",
    "nominations.decide", "nominations.export_entries", "nominations.import_entries",
    "nominations.moderate", "nominations.queue",
    "results.answer", "results.download", "results.preview", "results.publish",
    "results.sensitivity",
    "review.add_expert", "review.assign", "review.assign_one", "review.change_review",
    "review.import_scores", "review.leniency", "review.manage", "review.methods",
    "review.remind", "review.remove_expert", "review.sheet",
    "voting.by_receipts", "voting.chart", "voting.fraud_view", "voting.restore", "voting.vote_log",
    "voting.thresholds", "voting.void",
}
#: endpoint -> who may use it: "public", "organiser", "agency" (any agency), "agency_own" (the
#: agency whose entry it is), "expert", "expert_own" (the expert of that review), "signed_in",
#: "voter" (a voter verified on the device), "voter_own" (the voter whose vote it is).
ACCESS = {
    **{endpoint: "public" for endpoint in PUBLIC_PAGES},
    **{endpoint: "organiser" for endpoint in ORGANISER_ONLY},
    "nominations.mine": "agency", "nominations.nominate": "agency",
    "nominations.edit": "agency_own", "nominations.change_state": "agency_own",
    "nominations.delete_file": "agency_own",
    "review.mine": "expert", "review.score": "expert_own", "review.conflict": "expert_own",
    "auth.home": "signed_in", "auth.change_password": "signed_in",
    "voting.mine": "voter", "voting.receipt": "voter_own",
    "voting_api.cast": "voter_token", "voting_api.my_votes": "voter_token",
}

ALLOWED = {
    "public": set(ROLES),
    "organiser": {"organiser"},
    "agency": {"agency", "other_agency"},
    "agency_own": {"agency"},
    "expert": {"expert", "other_expert"},
    "expert_own": {"expert"},
    "signed_in": {"agency", "other_agency", "expert", "other_expert", "organiser"},
    "voter": {"voter"},
    "voter_own": {"voter"},
    "voter_token": set(),  # a bearer token from /api/v1/tokens: no cookie is enough (401)
}
SIGNED_IN_CLASSES = {"organiser", "agency", "agency_own", "expert", "expert_own", "signed_in"}
#: Requests that change what later ones see: made after all the others, in this order.
LAST = ("admin.delete_category", "auth.logout")
#: Classes where a signed-in user who may not see the object may also be told it does not exist.
HIDES_OBJECTS = {"agency_own", "expert_own", "voter_own"}


def outcome(response):
    """'allowed', 'sign_in' (sent to sign in), 'verify' (sent to verify a phone number),
    'forbidden' or 'hidden' (404)."""
    if response.status_code >= 500:
        return f"error {response.status_code}"
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/auth/login" in location:
        return "sign_in"
    if response.status_code in (301, 302, 303) and "/vote/verify" in location:
        return "verify"
    if response.status_code in (401, 403):
        return "forbidden"
    return "allowed"


def _order(rule):
    return (rule.endpoint in LAST, LAST.index(rule.endpoint) if rule.endpoint in LAST else 0,
            rule.rule)


def test_every_route_answers_every_role_as_the_table_says(app, world):
    clients, values = world
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not endpoints - set(ACCESS), f"say who may use: {sorted(endpoints - set(ACCESS))}"
    assert not set(ACCESS) - endpoints, f"gone from the app: {sorted(set(ACCESS) - endpoints)}"
    tokens = {role: csrf_token(client, "/auth/login") for role, client in clients.items()}
    wrong = []
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=_order):
        access = ACCESS[rule.endpoint]
        url = url_of(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:  # the organiser, who may change most, last
                response = clients[role].open(url, method=method,
                                              data={"csrf_token": tokens[role]})
                got = outcome(response)
                response.close()  # file responses hold their file open until closed
                if access == "public":
                    # anyone; an unknown token may send the visitor to the sign-in page, a
                    # vote without a verified number to the verification
                    expected = {"allowed", "sign_in", "verify"}
                elif role in ALLOWED[access]:
                    expected = {"allowed"}
                elif role in ("anonymous", "voter") and access in SIGNED_IN_CLASSES:
                    expected = {"sign_in"}
                elif access == "voter":
                    expected = {"verify"}
                elif access in HIDES_OBJECTS:
                    expected = {"forbidden", "hidden"}
                else:
                    expected = {"forbidden"}
                if got == "allowed" and response.status_code == 404 and "hidden" in expected:
                    got = "hidden"
                if got not in expected:
                    wrong.append(f"{method} {url} as {role}: {got} ({response.status_code}), "
                                 f"expected {'/'.join(sorted(expected))}")
                checked += 1
    assert checked > 300
    assert not wrong, "\n".join(wrong)
