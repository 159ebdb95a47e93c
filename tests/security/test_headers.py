"""Every answer carries the security headers; no route sends anyone off the site through a
``next`` parameter; session, language and voter cookies are HttpOnly, SameSite and (in
production) Secure."""
import pytest

from ..conftest import PASSWORD, csrf_token
from .conftest import url_of

EVIL = ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)",
        "http:evil.example", "\thttps://evil.example/")


def _answers(app, clients, values, roles=("anonymous", "organiser"), next_value=None):
    """(role, method, url, response) of every GET and POST of the app as ``roles``."""
    tokens = {role: csrf_token(clients[role], "/auth/login") for role in roles}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in ("auth.logout", "admin.delete_category"):
            continue  # would end the session or remove the sample category for the rest
        url = url_of(rule, values)
        if next_value is not None:
            url += ("&" if "?" in url else "?") + "next=" + next_value
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in roles:
                response = clients[role].open(url, method=method, data={
                    "csrf_token": tokens[role], "next": next_value or ""})
                response.close()
                yield role, method, url, response


def test_every_answer_carries_the_security_headers(app, world):
    clients, values = world
    missing = []
    for role, method, url, response in _answers(app, clients, values):
        headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        script = next((part for part in policy.split(";") if "script-src" in part), "")
        problems = [
            "script-src" if "'self'" not in script or "unsafe" in script else "",
            "framing" if "frame-ancestors 'none'" not in policy
            and headers.get("X-Frame-Options") != "DENY" else "",
            "nosniff" if headers.get("X-Content-Type-Options") != "nosniff" else "",
            "referrer" if not headers.get("Referrer-Policy") else ""]
        if any(problems):
            missing.append(f"{method} {url} as {role}: {' '.join(p for p in problems if p)}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("target", EVIL)
def test_no_next_parameter_leads_off_the_site(app, world, target):
    clients, values = world
    away = []
    for role, method, url, response in _answers(app, clients, values, next_value=target):
        location = response.headers.get("Location", "")
        if location and not (location.startswith("/") and not location.startswith(("//", "/\\"))
                             or location.startswith("http://localhost/")):
            away.append(f"{method} {url} as {role} -> {location}")
    assert not away, "\n".join(away)


@pytest.mark.parametrize("target", EVIL)
def test_signing_in_with_a_hostile_next_stays_on_the_site(app, make_user, target):
    user = make_user()
    client = app.test_client()
    response = client.post(f"/auth/login?next={target}", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/") and "evil" not in response.headers[
        "Location"]


def test_cookies_are_httponly_samesite_and_secure_in_production(make_app, make_user):
    app = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    with app.app_context():
        user = make_user()
        client = app.test_client()
        response = client.post("/auth/login", data={
            "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
        assert response.status_code == 302
        lang = client.get("/lang/en?next=/")
    for cookie in [*response.headers.getlist("Set-Cookie"), *lang.headers.getlist("Set-Cookie")]:
        flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "samesite"} <= flags, cookie
