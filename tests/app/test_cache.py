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


def test_a_voter_gets_the_kept_page_with_their_own_vote_panel(cached):
    """For a visitor with cookies, the page is kept as a shell per path and language, and the
    vote panel, theirs, is rendered for each request. A signed-in user, or a visitor with a
    message waiting, gets the page rendered whole."""
    from app.models import Role, User
    from voting.session import sign_voter

    from ..conftest import PASSWORD, IsolatedClient, csrf_token

    app, entry_id = cached
    app.test_client_class = IsolatedClient  # each request its own app context: its own language
    page = "/c/week/lines/HL-001"
    with app.test_request_context("/"):
        voters = [Voter(phone_hmac=f"shell-{n}".ljust(64, "x")) for n in range(3)]
        db.session.add_all(voters)
        db.session.commit()
        cookies = [sign_voter(voter.id) for voter in voters]
    first, second, english = (app.test_client() for _ in range(3))
    for client, cookie in zip((first, second, english), cookies, strict=True):
        client.set_cookie("voter", cookie)
    english.set_cookie("lang", "en")

    def text(client):
        response = client.get(page)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "private"
        return response.get_data(as_text=True)

    assert "热线一" in text(first) and "本类别今日剩余票数：3" in text(first)
    in_english = text(english)
    assert '<html lang="en">' in in_english and "Votes left today in this category: 3" in in_english
    entry = db.session.get(Entry, entry_id)
    entry.title = "热线改名"
    db.session.commit()

    voted = first.post(f"/vote/entries/{entry_id}", data={"csrf_token": csrf_token(first, page)})
    assert voted.headers["Location"].startswith("/vote/receipts/")
    mine, theirs = text(first), text(second)
    assert "热线一" in mine and "热线一" in theirs  # the kept page, within its minute
    assert "今天已为 HL-001 投票" in mine and "本类别今日剩余票数：2" in mine
    assert f'action="/vote/entries/{entry_id}"' in theirs and "本类别今日剩余票数：3" in theirs
    assert "1 票" in theirs  # the panel's tally is counted now, as for everyone with a cookie
    assert "Votes left today in this category: 3" in text(english) and "热线一" in text(english)

    # A second tab, opened before the vote, sends it again: refused, back with the reason.
    again = first.post(f"/vote/entries/{entry_id}",
                       data={"csrf_token": csrf_token(first, "/vote/verify")})
    assert again.headers["Location"] == page
    refused = text(first)
    assert "您今天已为该作品投过票" in refused and "热线改名" in refused  # rendered whole

    with app.test_request_context("/"):
        organiser = User(email="shell@example.test", name="组织者", role=Role.ORGANISER)
        organiser.set_password(PASSWORD)
        db.session.add(organiser)
        db.session.commit()
    staff = app.test_client()
    staff.post("/auth/login", data={"email": "shell@example.test", "password": PASSWORD,
                                    "csrf_token": csrf_token(staff)})
    assert "热线改名" in text(staff)
