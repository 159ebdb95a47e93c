"""The public gallery shows approved entries only; an entry page has a share block."""
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from app.extensions import db
from nominations import services
from nominations.models import AttachmentKind, Entry, EntryStatus

from .conftest import jpeg


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


def link_preview(html):
    """{property or name: content} of a page's link preview (Open Graph and description)."""
    head = BeautifulSoup(html, "html.parser").head
    found = {meta.get("property") or meta.get("name"): meta["content"]
             for meta in head.find_all("meta") if meta.get("content")}
    found["canonical"] = head.find("link", rel="canonical")["href"]
    return found


def test_a_shared_entry_link_shows_its_title_text_and_picture(app, client, gallery):
    """A messenger shows a shared entry with its number and title, its summary on one line
    with who nominated it, and its photo; every address is the public one, not the request's."""
    app.config["PUBLIC_BASE_URL"] = "https://awards.example.cn/"
    entry = db.session.scalar(select(Entry).where(Entry.number == "GS-001"))
    entry.summary = "凌晨两点，\n热线响了。" + "她一直听到天亮，" * 20
    with app.test_request_context("/", method="POST"):
        services.attach_files(entry, services.prepare_uploads(
            [(AttachmentKind.PHOTO, "现场.jpg", jpeg())]))
        db.session.commit()
    thumb = entry.cover.thumb_name
    preview = link_preview(client.get(gallery + "GS-001").get_data(as_text=True))
    page = "https://awards.example.cn/c/gz-2020-social-work-week/stories/GS-001"
    assert preview["og:title"] == "GS-001 凌晨两点的电话"
    assert preview["og:url"] == preview["canonical"] == page
    assert preview["og:image"] == f"https://awards.example.cn/files/{thumb}"
    with client.get(f"/files/{thumb}") as picture:  # anyone may fetch it
        assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    text = preview["og:description"]
    assert text == preview["description"] and len(text) == 120 and text.endswith("…")
    assert text.startswith("凌晨两点， 热线响了。她一直听到天亮，") and "\n" not in text
    assert preview["og:site_name"] == "社工评选平台" and preview["og:locale"] == "zh_CN"


def test_a_short_entry_says_who_nominated_it_and_where(app, client, gallery):
    preview = link_preview(client.get(gallery + "GS-002").get_data(as_text=True))
    entry = db.session.scalar(select(Entry).where(Entry.number == "GS-002"))
    assert preview["og:description"] == " · ".join(
        [" ".join(entry.summary.split()), entry.agency.name, "最美抗疫社工故事", "2020年广州社工宣传周评选"])
    assert "og:image" not in preview  # no photo: the messenger picks none rather than a wrong one


def test_the_campaign_gallery_and_results_pages_have_link_previews(client, gallery):
    campaign = link_preview(client.get("/c/gz-2020-social-work-week").get_data(as_text=True))
    assert campaign["og:title"] == "2020年广州社工宣传周评选"
    assert campaign["og:description"].startswith("红棉守护，社工逆行 · 广州市民政局")
    stories = link_preview(client.get(gallery).get_data(as_text=True))
    assert stories["og:title"] == "最美抗疫社工故事 · 2020年广州社工宣传周评选"
    assert stories["og:url"] == "http://127.0.0.1:5000/c/gz-2020-social-work-week/stories/"
    results = link_preview(client.get("/results/gz-2020-social-work-week/").get_data(as_text=True))
    assert results["og:title"] == "评选结果 · 2020年广州社工宣传周评选"
    assert results["og:description"] == (
        "2020年广州社工宣传周评选的获奖名单，公开每一项评分，附任何人都可核验的 SHA-256 摘要。")
