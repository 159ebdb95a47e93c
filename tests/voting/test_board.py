"""The public ranking by votes (排行榜): ranks shared by equal votes across pages, only approved
entries and valid votes, and only as much as the category shows of its tally."""
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from app.database import utcnow
from app.extensions import db
from app.models import Agency, Role, TallyVisibility
from nominations.models import Entry, EntryStatus
from voting import services
from voting.models import Vote

from ..conftest import script_votes

BOARD = "/c/week/workers/ranking"


@pytest.fixture
def app_settings():
    return {"PUBLIC_PAGE_SIZE": 2, "PUBLIC_CACHE_SECONDS": 0}


@pytest.fixture
def board(app, voted, make_user):
    """Votes 5, 3, 3, 3 and none for SW-001..SW-005; a withdrawn entry with more votes than
    any; one of SW-001's six votes voided."""
    category, entries = voted
    gone = Entry(category=category, agency=Agency(name="别的机构"), title="撤回的", number="SW-099",
                 status=EntryStatus.APPROVED)
    db.session.add(gone)
    db.session.commit()
    start = utcnow() - timedelta(hours=2)
    for index, (entry, count) in enumerate(zip([*entries[:4], gone], [6, 3, 3, 3, 9],
                                               strict=True)):
        script_votes(app, entry, start, count, gap=60, ip=f"10.{index}.{{}}.1", prefix=f"v{index}")
    gone.status = EntryStatus.WITHDRAWN
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        first = db.session.scalar(db.select(Vote.id).where(Vote.entry_id == entries[0].id).limit(1))
        services.void_votes(category, [first], make_user(Role.ORGANISER), "刷票", utcnow())
        db.session.commit()
    return category, entries


def rows(client, url):
    """[(rank, number, votes or None)] as the page lists them."""
    page = client.get(url)
    assert page.status_code == 200, url
    listed = []
    for item in BeautifulSoup(page.get_data(as_text=True), "html.parser").select("ol.ranking li"):
        votes = item.select_one(".votes")
        listed.append((int(item.select_one(".rank").get_text()),
                       item.select_one(".number").get_text(),
                       votes.get_text(strip=True) if votes else None))
    return listed


def test_the_ranking_ranks_by_valid_votes_and_equal_votes_share_a_rank_across_pages(
        client, board):
    assert rows(client, BOARD) == [(1, "SW-001", "5 票"), (2, "SW-002", "3 票")]
    # the first row of page 2 has as many votes as the last of page 1: the same rank
    assert rows(client, BOARD + "?page=2") == [(2, "SW-003", "3 票"), (2, "SW-004", "3 票")]
    assert rows(client, BOARD + "?page=3") == [(5, "SW-005", "0 票")]
    assert client.get(BOARD + "?page=4").status_code == 404
    html = client.get(BOARD).get_data(as_text=True)
    assert "不是评选结果" in html  # experts weigh in: the page says this is not the result


def test_a_category_that_shows_ranks_only_shows_no_counts(client, board):
    category, _entries = board
    category.tally_visibility = TallyVisibility.RANKING_ONLY
    db.session.commit()
    assert rows(client, BOARD + "?page=2") == [(2, "SW-003", None), (2, "SW-004", None)]
    assert "本类别只公布名次，不公布票数" in client.get(BOARD).get_data(as_text=True)


def test_counts_after_the_close_are_shown_only_once_the_vote_has_closed(client, board):
    category, _entries = board
    category.tally_visibility = TallyVisibility.AFTER_CLOSE
    db.session.commit()
    html = client.get(BOARD).get_data(as_text=True)
    assert "票数将在投票结束" in html and "SW-001" not in html
    category.voting_closes = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert rows(client, BOARD)[0] == (1, "SW-001", "5 票")


def test_only_a_voted_category_of_a_public_campaign_has_a_ranking(client, board, make_campaign,
                                                                  make_category):
    category, _entries = board
    reviewed_only = make_category(category.campaign, key="projects", public_weight=0.0)
    assert client.get(f"/c/week/{reviewed_only.key}/ranking").status_code == 404
    hidden = make_campaign(slug="hidden", is_public=False)
    make_category(hidden, key="workers", kind="social_worker", expert_weight=0.5,
                  public_weight=0.5)
    assert client.get("/c/hidden/workers/ranking").status_code == 404
    assert "票数排行榜" in client.get("/c/week/workers/").get_data(as_text=True)
    assert "票数排行榜" not in client.get(f"/c/week/{reviewed_only.key}/").get_data(as_text=True)
