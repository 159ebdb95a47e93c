"""Hostile input in every search and filter finds nothing and breaks nothing; hostile text in
every free-text field of an entry comes back escaped on every page that shows it."""
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from nominations.models import Entry

SQL_PROBES = ("' OR '1'='1", "%' OR 1=1 --", "\"; DROP TABLE entry; --", "%", "_", "\\",
              "' UNION SELECT email, password_hash FROM user_account --", "1) OR (1=1",
              "\x00", "社工' --")


@pytest.mark.parametrize("probe", SQL_PROBES)
def test_search_and_filters_take_hostile_text_as_text(app, world, probe):
    clients, values = world
    slug, key = values["slug"], values["key"]
    entries_before = db.session.scalar(select(func.count()).select_from(Entry))
    users_before = db.session.scalar(select(func.count()).select_from(User))
    anonymous, organiser = clients["anonymous"], clients["organiser"]
    requests = [
        (anonymous, f"/c/{slug}/{key}/", {"q": probe}),
        (anonymous, f"/api/v1/campaigns/{slug}/categories/{key}/entries", {"q": probe}),
        (organiser, f"/moderation/{slug}/{key}/", {"q": probe, "status": probe}),
        (organiser, "/admin/accounts", {"status": probe}),
        (organiser, "/admin/audit", {"q": probe, "page": probe}),
        (organiser, f"/vote/manage/{slug}/{key}/chart.svg", {"bucket": probe, "width": probe}),
    ]
    for client, url, query in requests:
        response = client.get(url, query_string=query)
        assert response.status_code < 500, (url, probe, response.status_code)
        body = response.get_data(as_text=True)
        assert "scrypt:" not in body, (url, probe)  # no password hash, whoever asks
        if client is anonymous:
            assert "@example.test" not in body, (url, probe)  # and no account to the public
        if not probe.strip("\x00"):
            continue  # a NUL alone is dropped: an empty search lists everything, as it should
        if url.endswith("/entries"):
            assert response.json["entries"] == [], (url, probe)  # matches nothing literally
        elif "/c/" in url:
            assert "SW-" not in BeautifulSoup(body, "html.parser").main.get_text(), (url, probe)
    assert db.session.scalar(select(func.count()).select_from(Entry)) == entries_before
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'


def test_hostile_text_in_every_field_of_an_entry_comes_back_escaped(app, world):
    """An approved social worker whose every text field is a script: shown on the public page,
    the gallery, the moderation page, the preview and the API, it stays text."""
    clients, values = world
    entry = db.session.get(Entry, values["entry_id"])
    entry.title = XSS[:120]
    entry.summary = XSS
    entry.details = {name: (XSS if isinstance(value, str) or value is None else value)
                     for name, value in {**entry.details, "name": "", "deeds": ""}.items()}
    entry.agency.name = "机构" + XSS[:60]
    db.session.commit()
    pages = [(clients["anonymous"], f"/c/{values['slug']}/{values['key']}/{entry.number}"),
             (clients["anonymous"], f"/c/{values['slug']}/{values['key']}/"),
             (clients["organiser"], f"/moderation/entries/{entry.id}"),
             (clients["organiser"], f"/moderation/{values['slug']}/{values['key']}/"),
             (clients["organiser"], f"/results/manage/{values['slug']}/{values['key']}/"),
             (clients["organiser"], f"/results/manage/{values['slug']}/{values['key']}/"
                                    "sensitivity"),
             (clients["agency"], "/agency/")]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, url
        page = BeautifulSoup(body, "html.parser")
        assert not page.select("script"), url  # no script element at all (CSP: none inline)
        assert not page.select("[onerror]"), url
    api = clients["anonymous"].get(
        f"/api/v1/campaigns/{values['slug']}/categories/{values['key']}/entries/{entry.number}")
    assert api.json["title"] == XSS[:120]  # JSON carries the text as it is, as text


def test_a_nul_byte_anywhere_is_a_400_and_writes_nothing(app, client):
    from app.models import Agency

    from ..conftest import csrf_token

    agencies = db.session.scalar(select(func.count()).select_from(Agency))
    form = client.post("/auth/register", data={
        "agency_name": "机构\x00", "contact_name": "联系人", "email": "nul@example.test",
        "password": "a good password", "confirm": "a good password",
        "csrf_token": csrf_token(client, "/auth/register")})
    api = client.post("/api/v1/codes", json={"phone": "1381234567\u0000"})
    query = client.get("/c/x/y/", query_string={"q": "a\x00b"})
    assert (form.status_code, api.status_code, query.status_code) == (400, 400, 400)
    assert api.json["error"]["code"] == 400
    assert db.session.scalar(select(func.count()).select_from(Agency)) == agencies
