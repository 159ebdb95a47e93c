"""A campaign whose vote is open, a voted category with five approved entries, and voters."""
import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate as validate_spec

from app.extensions import db
from app.models import Agency
from nominations.models import Entry, EntryStatus

from ..conftest import csrf_token


@pytest.fixture
def app_settings():
    """Settings of the app a test module wants besides the defaults (it overrides this)."""
    return {}


@pytest.fixture
def app(make_app, app_settings):
    """Codes go to a file the tests read, as an SMS gateway would receive them."""
    from app.extensions import db as database

    from ..conftest import IsolatedClient, dispose_engines

    application = make_app(CODE_SENDER="file", **app_settings)
    application.test_client_class = IsolatedClient
    with application.app_context():
        yield application
        database.session.remove()
        dispose_engines()


@pytest.fixture
def voted(app, make_campaign, make_category):
    """Returns (category, entries): social workers, public weight 0.4, 3 votes a day."""
    campaign = make_campaign(slug="week")
    category = make_category(campaign, key="workers", kind="social_worker", expert_weight=0.6,
                             public_weight=0.4, votes_per_day=3)
    agency = Agency(name="机构")
    entries = [Entry(category=category, agency=agency, title=f"社工{i}", number=f"SW-00{i}",
                     status=EntryStatus.APPROVED) for i in range(1, 6)]
    db.session.add_all(entries)
    db.session.commit()
    return category, entries


@pytest.fixture
def spec(client):
    """The API's OpenAPI document, as served and checked valid."""
    document = client.get("/api/v1/openapi.json").json
    validate_spec(document)
    return document


def last_code(app):
    lines = (Path(app.instance_path) / "codes.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[-1])


@pytest.fixture
def verified(app):
    """verified(phone) -> a client whose voter has confirmed ``phone`` with its code."""

    def make(phone="13812345678", ip="198.51.100.7"):
        client = app.test_client()
        environ = {"REMOTE_ADDR": ip}
        response = client.post("/vote/verify", data={
            "phone": phone, "csrf_token": csrf_token(client, "/vote/verify")},
            environ_base=environ)
        assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
        code = last_code(app)["code"]
        response = client.post("/vote/confirm", data={
            "phone": last_code(app)["to"], "code": code,
            "csrf_token": csrf_token(client, "/vote/verify")}, environ_base=environ)
        assert response.status_code == 302
        return client

    return make
