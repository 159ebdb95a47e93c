"""The anthology of the published winning stories and cases, and the hotlines' service cards."""
import io
import re

import pytest
import segno
from bs4 import BeautifulSoup

from app.database import utcnow
from app.extensions import db
from app.models import Agency
from nominations.models import Entry, EntryStatus
from voting import services as voting
from voting.models import Voter

from ..conftest import chromium, csrf_token

STORY = "那年冬天，社工第一次走进王奶奶的家。" * 15  # about 270 characters


def _vote(app, entry_votes):
    """Cast ``n`` votes for each entry id, each by a new voter."""
    with app.test_request_context("/", method="POST"):
        for entry_id, count in entry_votes:
            for i in range(count):
                voter = Voter(phone_hmac=f"b-{entry_id}-{i}-{utcnow().timestamp()}".ljust(64, "x"))
                db.session.add(voter)
                db.session.flush()
                voting.cast_vote(voter.id, entry_id, utcnow())
        db.session.commit()


@pytest.fixture
def books(app, contest, make_category):
    """Stories ranked by votes alone (two winners of three), hotlines likewise (one of two)."""
    campaign = contest[0].campaign
    stories = make_category(campaign, key="stories", kind="story", expert_weight=0,
                            public_weight=1, winners=2, votes_per_day=3)
    lines = make_category(campaign, key="lines", kind="hotline", expert_weight=0,
                          public_weight=1, winners=1, votes_per_day=3)
    agency = Agency(name="木棉社工")
    tales = [Entry(category=stories, agency=agency, title=f"故事{i}", number=f"ST-00{i}",
                   status=EntryStatus.APPROVED, summary=f"摘要{i}",
                   details={"author": f"作者{i}", "text": f"第{i}篇。" + STORY})
             for i in (1, 2, 3)]
    hotlines = [Entry(category=lines, agency=agency, title=f"热线{i}", number=f"HL-00{i}",
                      status=EntryStatus.APPROVED,
                      details={"number": f"020-8888-000{i}", "station": f"站点{i}",
                               "address": f"越秀区{i}号", "hours": "9:00-21:00",
                               "services": "心理疏导\n家庭支持"}) for i in (1, 2)]
    db.session.add_all(tales + hotlines)
    db.session.commit()
    ids = [e.id for e in tales + hotlines]
    # ST-003 first (3 votes), ST-001 second (2), ST-002 last (1); HL-002 wins (2 to 1)
    _vote(app, [(ids[2], 3), (ids[0], 2), (ids[1], 1), (ids[4], 2), (ids[3], 1)])
    return stories, lines


def publish(client, key):
    page = f"/results/manage/week/{key}/"
    return client.post(page + "publish", data={"kind": "provisional",
                                               "csrf_token": csrf_token(client, page)})


def test_the_anthology_holds_the_published_winners_one_per_page(app, books, organiser_client):
    assert "尚未公布获奖的服务故事" in app.test_client().get("/results/week/anthology").get_data(
        as_text=True)
    publish(organiser_client, "stories")
    page = BeautifulSoup(app.test_client().get("/results/week/anthology").data, "html.parser")
    stories = page.select("article.book-story")
    assert [s["id"] for s in stories] == ["ST-003", "ST-001"]
    assert stories[0].h2.get_text() == "故事3" and "作者3" in stories[0].get_text()
    assert "第3篇。那年冬天" in stories[0].select_one(".book-text").get_text()
    assert [a["href"] for a in page.select(".book-contents a")] == ["#ST-003", "#ST-001"]
    assert "公示" in page.select_one(".book-cover").get_text()
    # The book follows what was published, not the live count.
    _vote(app, [(db.session.scalar(db.select(Entry.id).where(Entry.number == "ST-002")), 9)])
    again = BeautifulSoup(app.test_client().get("/results/week/anthology").data, "html.parser")
    assert [s["id"] for s in again.select("article.book-story")] == ["ST-003", "ST-001"]
    results = app.test_client().get("/results/week/").get_data(as_text=True)
    assert "/results/week/anthology" in results and "/results/week/service-cards" not in results


def print_to_pdf(url, path):
    """Chromium's print of ``url``: (page count, the first page's size in points)."""
    result = chromium("--no-pdf-header-footer", f"--print-to-pdf={path}", url)
    assert path.exists(), result.stderr.decode(errors="replace")[-2000:]
    data = path.read_bytes()
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    return (len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data)),
            (round(float(box.group(1))), round(float(box.group(2)))))


def test_the_books_print_a_page_per_story_and_per_card(app, books, organiser_client, live_server,
                                                       tmp_path):
    publish(organiser_client, "stories")
    publish(organiser_client, "lines")
    # cover, contents, two stories on A4 (595 x 842 points)
    assert print_to_pdf(f"{live_server}/results/week/anthology", tmp_path / "book.pdf") == (
        4, (595, 842))
    # one postcard (148 x 105 mm) per winning hotline, and no blank page after it
    assert print_to_pdf(f"{live_server}/results/week/service-cards", tmp_path / "cards.pdf") == (
        1, (420, 298))


def test_a_service_card_for_each_published_winning_hotline(app, books, organiser_client):
    assert app.test_client().get("/results/week/service-cards").status_code == 200
    publish(organiser_client, "lines")
    client = app.test_client()
    page = BeautifulSoup(client.get("/results/week/service-cards").data, "html.parser")
    cards = page.select("article.service-card")
    assert [card["id"] for card in cards] == ["HL-002"]
    text = cards[0].get_text(" ", strip=True)
    for value in ("热线2", "站点2", "020-8888-0002", "越秀区2号", "9:00-21:00", "心理疏导"):
        assert value in text
    qr = client.get(cards[0].img["src"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    expected = io.BytesIO()
    segno.make(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/c/week/lines/HL-002",
               error="m").save(expected, kind="svg", scale=6, border=2, xmldecl=False, svgns=True)
    assert qr.data == expected.getvalue()  # the code holds the address of the hotline's page
    assert "/results/week/service-cards" in client.get("/results/week/").get_data(as_text=True)
