"""A voter's own votes (我的投票): each with its receipt and whether it still counts, a voided
one with the organisers' reason; and the button that stops the device voting with the number."""
from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Role
from voting import services
from voting.models import Vote, Voter

from ..conftest import csrf_token


def vote(client, entry):
    response = client.post(f"/vote/entries/{entry.id}",
                           data={"csrf_token": csrf_token(client, "/vote/verify")})
    assert response.status_code == 302 and "/vote/receipts/" in response.headers["Location"]
    return response.headers["Location"]


def my_votes(client, url="/vote/mine"):
    """[(number, campaign · category, status, reason or None, receipt link)] as the page lists
    them."""
    response = client.get(url)
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    listed = []
    for item in soup.select("ol.my-votes li.card:not(.empty)"):
        texts = [p.get_text(" ", strip=True) for p in item.find_all("p")]
        listed.append((item.select_one(".number").get_text(), texts[1],
                       item.select_one(".badge").get_text(strip=True),
                       texts[3] if len(texts) > 3 else None,
                       item.select_one("a[href^='/vote/receipts/']")["href"]))
    return listed


def test_a_voter_sees_their_own_votes_the_newest_first_and_which_count(
        app, voted, verified, make_user):
    category, entries = voted
    client = verified()
    first = vote(client, entries[0])
    second = vote(client, entries[1])
    vote(verified("13900001111"), entries[2])  # another voter's
    with app.test_request_context("/", method="POST"):
        voided = int(first.rsplit("/", 1)[1])
        services.void_votes(category, [voided], make_user(Role.ORGANISER), "同一网段批量投票",
                            utcnow())
        db.session.commit()

    assert my_votes(client) == [
        ("SW-002", "测试评选 · 类别1", "有效", None, second),
        ("SW-001", "测试评选 · 类别1", "已作废", "原因：同一网段批量投票", first),
    ]
    receipt = client.get(first).get_data(as_text=True)
    assert "此票已作废" in receipt and "同一网段批量投票" in receipt and "投票成功" not in receipt
    assert "投票成功" in client.get(second).get_data(as_text=True)

    client.set_cookie("lang", "en")
    page = client.get("/vote/mine").get_data(as_text=True)
    assert "My votes" in page and "Voided" in page and "Counts" in page
    assert "This vote was voided" in client.get(first).get_data(as_text=True)


def test_my_votes_asks_for_the_number_first(app, voted):
    response = app.test_client().get("/vote/mine")
    assert response.status_code == 302
    assert response.headers["Location"] == "/vote/verify?next=/vote/mine"
    assert "验证手机号后查看您的投票" in app.test_client().get(
        response.headers["Location"]).get_data(as_text=True)


def test_a_voter_who_has_not_voted_yet_is_told_so(app, voted, verified):
    from bs4 import BeautifulSoup

    empty = BeautifulSoup(verified().get("/vote/mine").get_data(as_text=True),
                          "html.parser").select_one("ol.my-votes li.empty")
    assert "暂无投票。" in empty.get_text() and empty.select_one("a[href='/']") is not None


def test_the_device_stops_voting_with_the_number_from_the_page(app, voted, verified):
    _category, entries = voted
    client = verified()
    vote(client, entries[0])
    page = client.get("/vote/mine").get_data(as_text=True)
    form = BeautifulSoup(page, "html.parser").select_one("form[action='/vote/signout']")
    token = form.select_one("input[name=csrf_token]")["value"]
    response = client.post("/vote/signout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/vote/mine").headers["Location"].startswith("/vote/verify")
    refused = client.post(f"/vote/entries/{entries[1].id}",
                          data={"csrf_token": csrf_token(client, "/vote/verify")})
    assert refused.headers["Location"].startswith("/vote/verify")
    assert db.session.scalar(select(db.func.count()).select_from(Vote)) == 1


def test_the_vote_panel_and_the_menu_link_to_my_votes(app, voted, verified, login, make_user):
    from bs4 import BeautifulSoup

    def links(client, url):
        soup = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
        return (len(soup.select(".vote-panel a[href='/vote/mine']")),
                len(soup.select("nav a[href='/vote/mine']")))

    entry_page = "/c/week/workers/SW-001"
    assert links(verified(), entry_page) == (1, 1)  # the panel's, for a verified voter
    assert links(app.test_client(), entry_page) == (0, 1)
    assert links(app.test_client(), "/") == (0, 1)
    organiser = app.test_client()
    login(make_user(Role.ORGANISER), client_=organiser)
    assert links(organiser, "/admin/") == (0, 0)


def test_votes_are_paged_in_as_many_statements_for_thirty_as_for_two(app, voted, verified):
    from ..app.test_growing_lists import statements

    category, entries = voted
    client = verified()
    voter_id = db.session.scalar(select(Voter.id))
    today = services.vote_day(utcnow(), category.campaign.timezone)

    def add(days):
        db.session.add_all(Vote(voter_id=voter_id, entry_id=entry.id, category_id=category.id,
                                vote_day=today - timedelta(days=day))
                           for day in days for entry in entries[:2])
        db.session.commit()
        client.get("/vote/mine")
        with statements() as sent:
            listed = my_votes(client)
        return len(sent), listed

    few, listed = add(range(1))
    assert len(listed) == 2
    many, listed = add(range(1, 15))  # 30 votes: 24 on the first page
    assert many == few and len(listed) == 24
    newest_first = [int(receipt.rsplit("/", 1)[1]) for *_rest, receipt in listed]
    assert newest_first == sorted(newest_first, reverse=True)
    assert len(my_votes(client, "/vote/mine?page=2")) == 6
    assert client.get("/vote/mine?page=3").status_code == 404
