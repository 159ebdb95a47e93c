"""A reviewed category with approved entries from two agencies, and a panel of three experts."""
import pytest

from app.extensions import db
from app.models import Agency, Role
from nominations.models import Entry, EntryStatus

from ..conftest import PASSWORD, csrf_token


@pytest.fixture
def setup(app, make_campaign, make_category, make_user):
    """Returns a namespace: category, entries (4: two of agency A, two of B), experts (3)."""
    campaign = make_campaign(slug="week")
    category = make_category(campaign, key="stories", kind="story", reviewers_per_entry=2,
                             winners=2, aggregation="mean")
    agency_a, agency_b = Agency(name="机构甲"), Agency(name="机构乙")
    entries = []
    for index, agency in enumerate([agency_a, agency_a, agency_b, agency_b], start=1):
        entries.append(Entry(category=category, agency=agency, title=f"作品{index}",
                             number=f"GS-00{index}", status=EntryStatus.APPROVED,
                             summary="简介", details={"author": f"作者{index}", "text": "正文"}))
    db.session.add_all(entries)
    db.session.commit()
    experts = [make_user(Role.EXPERT, name="甲专家", agency=agency_a),
               make_user(Role.EXPERT, name="乙专家"), make_user(Role.EXPERT, name="丙专家")]

    class Setup:
        pass

    result = Setup()
    result.campaign, result.category, result.entries, result.experts = (
        campaign, category, entries, experts)
    result.agencies = (agency_a, agency_b)
    return result


def sign_in(app, user):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                                "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    return client


@pytest.fixture
def organiser(app, make_user):
    return sign_in(app, make_user(Role.ORGANISER))


@pytest.fixture
def panel(setup, organiser):
    """The three experts on the panel and the assignment run."""
    url = "/review/manage/week/stories/"
    for expert in setup.experts:
        response = organiser.post(url + "panel", data={"expert": expert.id,
                                                       "csrf_token": csrf_token(organiser, url)})
        assert response.status_code == 302
    response = organiser.post(url + "assign", data={"csrf_token": csrf_token(organiser, url)})
    assert response.status_code == 200
    return response
