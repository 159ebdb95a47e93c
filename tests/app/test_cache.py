"""Public pages asked for without any cookie are rendered once per PUBLIC_CACHE_SECONDS; anyone
with a cookie gets a fresh page; nothing personal is ever stored."""
import pytest

from app import cache
from app.database import utcnow
from app.extensions import db
from app.models import Agency
from nominations.models import Entry, EntryStatus
from voting import services
from voting.models import Voter


@pytest.fixture
def cached(make_app, make_campaign, make_category):
    app = make_app(PUBLIC_CACHE_SECONDS=60)
    cache.clear()
    with app.app_context():
        campaign = make_campaign(slug="week")
        category = make_category(campaign, key="lines", kind="hotline", expert_weight=0,
                                 public_weight=1, votes_per_day=3)
        entry = Entry(category=category, agency=Agency(name="机构"), title="热线一",
                      number="HL-001", status=EntryStatus.APPROVED)
        db.session.add(entry)
        db.session.commit()
        yield app, entry.id
        db.session.remove()
    cache.clear()


def _vote(app, entry_id):
    with app.test_request_context("/", method="POST"):
        voter = Voter(phone_hmac=f"cache-{utcnow().timestamp()}".ljust(64, "x"))
        db.session.add(voter)
        db.session.flush()
        services.cast_vote(voter.id, entry_id, utcnow())
        db.session.commit()


def test_anonymous_pages_are_served_from_the_cache_and_carry_no_session(cached):
    app, entry_id = cached
    anonymous = app.test_client(use_cookies=False)
    first = anonymous.get("/c/week/lines/HL-001")
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert "csrf_token" not in first.get_data(as_text=True)  # no form before verification
    _vote(app, entry_id)
    assert anonymous.get("/c/week/lines/HL-001").data == first.data  # within the minute
    tally = anonymous.get("/api/v1/campaigns/week/categories/lines/tally").json
    assert tally["entries"][0]["votes"] == 1

    # A visitor with a cookie (here: the language) gets the page as it is now.
    fresh = app.test_client()
    fresh.set_cookie("lang", "zh_CN")
    page = fresh.get("/c/week/lines/HL-001")
    assert "1 票" in page.get_data(as_text=True) and "1 票" not in first.get_data(as_text=True)
    assert "public" not in page.headers.get("Cache-Control", "")


def test_a_page_that_makes_a_session_is_not_cached(cached):
    app, _entry_id = cached
    anonymous = app.test_client(use_cookies=False)
    login = anonymous.get("/auth/login")  # has a form: a CSRF token in a new session
    assert "Set-Cookie" in login.headers and "public" not in login.headers.get(
        "Cache-Control", "")
    assert anonymous.get("/c/week/lines/HL-002").status_code == 404  # errors are not kept
