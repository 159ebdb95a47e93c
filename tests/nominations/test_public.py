"""The public gallery shows approved entries only; an entry page has a share block."""
import pytest
from sqlalchemy import select

from app.extensions import db
from nominations.models import Entry, EntryStatus


@pytest.fixture
def gallery(demo):
    """The demo, plus one entry in each state that must stay hidden."""
    stories = next(c for c in demo.campaign.categories if c.key == "stories")
    agency = db.session.scalar(select(Entry)).agency
    for status, number in ((EntryStatus.DRAFT, None), (EntryStatus.SUBMITTED, "GS-091"),
                           (EntryStatus.REJECTED, "GS-092"), (EntryStatus.WITHDRAWN, "GS-093")):
        db.session.add(Entry(category=stories, agency=agency, title=f"隐藏的{status.value}",
                             status=status, number=number))
    db.session.commit()
    return "/c/gz-2020-social-work-week/stories/"


def test_the_gallery_shows_approved_entries_only(client, gallery):
    html = client.get(gallery).get_data(as_text=True)
    assert "凌晨两点的电话" in html and "GS-001" in html and "南沙启航社会工作服务中心" in html
    assert "隐藏的" not in html


@pytest.mark.parametrize("number", ["GS-091", "GS-092", "GS-093"])
def test_an_entry_that_is_not_approved_has_no_public_page(client, gallery, number):
    assert client.get(gallery + number).status_code == 404
    assert client.get(gallery + number + "/qr.svg").status_code == 404


def test_the_gallery_search(client, gallery):
    html = client.get(gallery, query_string={"q": "楼道"}).get_data(as_text=True)
    assert "楼道里的“物资接力”" in html and "凌晨两点的电话" not in html
    assert "没有符合条件的参评作品" in client.get(gallery, query_string={"q": "隐藏的"}).get_data(
        as_text=True)


def test_an_entry_page_has_its_content_and_a_share_block(client, gallery):
    html = client.get(gallery + "GS-001").get_data(as_text=True)
    assert "凌晨两点的电话" in html and "故事正文" in html
    assert 'value="http://127.0.0.1:5000/c/gz-2020-social-work-week/stories/GS-001"' in html
    assert 'src="/c/gz-2020-social-work-week/stories/GS-001/qr.svg"' in html


def test_the_qr_code_is_an_svg_of_the_entrys_address(client, gallery):
    response = client.get(gallery + "GS-001/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg") and b"<path" in response.data


def test_a_hidden_category_of_a_hidden_campaign_is_404(client, make_campaign, make_category):
    campaign = make_campaign(slug="hidden", is_public=False)
    make_category(campaign, key="stories", kind="story")
    assert client.get("/c/hidden/stories/").status_code == 404
