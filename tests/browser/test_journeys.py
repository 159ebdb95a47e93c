"""Every journey of a campaign in a real browser, on a phone and a desktop, in Chinese and in
English: an agency registers, is approved, nominates a story with a photo and submits it; the
organiser approves it and assigns reviewers; an expert scores it; a citizen asks for a code,
votes and meets the daily quota; the organiser voids the brushed votes, previews and publishes;
a visitor reads the results and opens the anthology."""
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.database import utcnow
from app.extensions import db
from app.models import Agency, Role, User, UserStatus
from nominations.models import Entry, EntryStatus
from results.models import Publication
from review.models import Review, ReviewStatus
from voting.models import Vote, VoteStatus

from ..conftest import PASSWORD, dispose_engines, script_votes
from .conftest import photo

STORY = ("那年冬天，社工第一次敲开独居老人陈伯的家门。屋里很冷，桌上只有半碗冷粥。"
         "此后每周三，社工都会带着热汤和药盒上门，陪他聊天、读报、整理照片。"
         "半年后，陈伯主动报名了社区长者饭堂的志愿者，负责每天中午分餐。"
         "他说：原来被人记得的感觉，是暖的。这个故事讲的是陪伴如何改变一个人，"
         "也讲社区如何重新接住一个差点被遗忘的人。") * 2


@pytest.fixture
def app(make_app):
    """Codes go to a file, as an SMS gateway would receive them."""
    application = make_app(CODE_SENDER="file")
    with application.app_context():
        yield application
        db.session.remove()
        dispose_engines()


@pytest.fixture
def campaign(app, make_campaign, make_category, make_user):
    """An open campaign with a story category (experts 0.6, public 0.4, 2 votes a day) holding
    three approved stories of another agency, a script's votes to be found, an organiser and an
    expert."""
    campaign = make_campaign(slug="week", title="社工宣传周",
                             voting_opens=utcnow() - timedelta(days=10))
    category = make_category(campaign, key="stories", name="社工故事", kind="story",
                             number_prefix="ST", expert_weight=0.6, public_weight=0.4,
                             votes_per_day=2, winners=3)
    other = Agency(name="阳光社工服务中心")
    others = [Entry(category=category, agency=other, title=f"邻里守望{i}", number=f"ST-00{i}",
                    summary="社区长者探访", status=EntryStatus.APPROVED,
                    details={"author": "李社工", "text": STORY}) for i in range(1, 4)]
    category.last_number = 3
    db.session.add_all(others)
    db.session.commit()
    start = utcnow() - timedelta(hours=3)
    # a script: one network, a vote every 10 s
    script_votes(app, others[0], start, 12, gap=10, ip="203.0.113.{}")
    organiser = make_user(Role.ORGANISER, email="organiser@example.com", name="组委会")
    expert = make_user(Role.EXPERT, email="expert@example.com", name="王专家")
    return campaign, category, organiser, expert


@pytest.fixture
def reading(app, live_server):
    """The test's own queries run as a GET request's would: deferred transactions that never
    hold SQLite's write lock while the server writes (each check begins a new snapshot)."""
    with app.test_request_context("/"):
        yield


def sign_in(page, email):
    page.goto("/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/auth/login" not in page.url, page.inner_text("main")


def flash_text(page):
    return " ".join(page.locator(".flash").all_inner_texts())


def voided_votes():
    db.session.rollback()  # what the browser's requests committed
    return db.session.scalar(select(func.count()).select_from(Vote).where(
        Vote.status == VoteStatus.VOIDED))


def last_code(app):
    lines = (Path(app.instance_path) / "codes.jsonl").read_text(encoding="utf-8").splitlines()
    return json.loads(lines[-1])["code"]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_whole_campaign_in_the_browser(app, campaign, journey, reading, tmp_path, viewport,
                                        language):
    _campaign, category, _organiser, expert = campaign
    trip = journey(viewport, language)
    lang = "zh-CN" if language == "zh" else "en"

    agency = trip.person()
    with trip.step("agency-registers", agency):
        agency.goto("/auth/register")
        assert agency.get_attribute("html", "lang") == lang
        agency.fill("input[name=agency_name]", "绿洲社会工作服务社")
        agency.fill("input[name=contact_name]", "张主任")
        agency.fill("input[name=contact_phone]", "020-12345678")
        agency.fill("input[name=email]", "agency@example.com")
        agency.fill("input[name=password]", PASSWORD)
        agency.fill("input[name=confirm]", PASSWORD)
        agency.locator("form button[type=submit]").click()
        agency.wait_for_load_state()
        db.session.rollback()
        account = db.session.scalar(select(User).where(User.email == "agency@example.com"))
        assert account is not None and account.status == UserStatus.PENDING
        assert flash_text(agency)

    organiser = trip.person()
    with trip.step("organiser-approves-the-agency", organiser):
        sign_in(organiser, "organiser@example.com")
        organiser.goto("/admin/accounts")
        row = organiser.locator("tr", has_text="agency@example.com")
        row.locator("form").first.locator("button").click()
        organiser.wait_for_load_state()
        db.session.rollback()  # a new snapshot: what the server wrote
        assert db.session.get(User, account.id).status == UserStatus.ACTIVE

    with trip.step("agency-nominates-a-story-with-a-photo", agency):
        sign_in(agency, "agency@example.com")
        agency.goto(f"/agency/nominate/{category.id}")
        agency.fill("input[name=title]", "陈伯的冬天")
        agency.fill("textarea[name=summary]", "独居老人重新融入社区的一年")
        agency.fill("input[name=author]", "绿洲社工")
        agency.fill("textarea[name=text]", STORY)
        agency.set_input_files("input[name=photos]", str(photo(tmp_path)))
        agency.locator("button[name=submit]").click()
        agency.wait_for_load_state()
        db.session.rollback()
        entry = db.session.scalar(select(Entry).where(Entry.title == "陈伯的冬天"))
        assert entry is not None and entry.status == EntryStatus.SUBMITTED, flash_text(agency)
        assert len(entry.attachments) == 1

    with trip.step("agency-sees-its-entries", agency):
        agency.goto("/agency/")
        row = agency.locator("tr", has_text="陈伯的冬天")
        assert row.locator(".status").inner_text() in ("已提交，待审核",
                                                       "Submitted, waiting for moderation")
        # on a phone the row is a block whose cells each say what they are: nothing squeezed
        # into columns a word wide; on a desktop, a table row under its header
        shown = row.locator("td").evaluate_all(
            "cells => cells.map(cell => getComputedStyle(cell, '::before').content)")
        if viewport == "phone":
            assert shown[:4] == (['"编号"', '"标题"', '"评选类别"', '"状态"'] if language == "zh"
                                 else ['"Number"', '"Title"', '"Category"', '"Status"'])
        else:
            assert set(shown) == {"none"}

    with trip.step("organiser-sees-what-waits", organiser):
        organiser.goto("/admin/campaigns/week")
        waiting = organiser.locator("table.progress tr", has_text="社工故事").locator(
            ".figures .attention", has_text="待审核" if language == "zh" else "Waiting")
        assert waiting.locator("dd a").inner_text() == "1"
        waiting.locator("dd a").click()
        organiser.wait_for_load_state()
        assert "/moderation/week/stories/?status=submitted" in organiser.url
        assert organiser.locator("main", has_text="陈伯的冬天").count() == 1

    with trip.step("organiser-approves-the-entry", organiser):
        organiser.goto(f"/moderation/entries/{entry.id}")
        organiser.locator(f"form[action$='/{entry.id}/approve'] button").click()
        organiser.wait_for_load_state()
        db.session.rollback()  # a new snapshot: what the server wrote
        entry = db.session.get(Entry, entry.id)
        assert entry.status == EntryStatus.APPROVED and entry.number == "ST-004"

    with trip.step("organiser-assigns-reviewers", organiser):
        organiser.goto("/review/manage/week/stories/")
        organiser.select_option("form[action$='/panel'] select", str(expert.id))
        organiser.locator("form[action$='/panel'] button").click()
        organiser.wait_for_load_state()
        organiser.locator("form[action$='/assign'] button").click()
        organiser.wait_for_load_state()
        db.session.rollback()
        review = db.session.scalar(select(Review).where(Review.entry_id == entry.id))
        assert review is not None and review.expert_id == expert.id, flash_text(organiser)

    scorer = trip.person()
    with trip.step("expert-scores", scorer):
        sign_in(scorer, "expert@example.com")
        scorer.goto("/review/")
        scorer.locator(f"a[href='/review/{review.id}']").click()
        scorer.wait_for_load_state()
        points = scorer.locator("form input[type=number]")
        assert points.count() == 2
        points.nth(0).fill("52")
        points.nth(1).fill("35")
        scorer.fill("textarea[name=comment]", "真实感人，成效清楚。")
        scorer.locator("button[name=submit]").click()
        scorer.wait_for_load_state()
        db.session.rollback()  # a new snapshot: what the server wrote
        assert db.session.get(Review, review.id).status == ReviewStatus.SUBMITTED

    citizen = trip.person()
    with trip.step("citizen-asks-for-a-code", citizen):
        citizen.goto("/c/week/stories/ST-004")
        citizen.locator(".vote-panel a.button, .vote-panel button").first.click()
        citizen.wait_for_load_state()
        assert "/vote/verify" in citizen.url
        citizen.fill("input[name=phone]", "13812345678")
        citizen.locator("form button[type=submit]").click()
        citizen.wait_for_load_state()
        citizen.fill("input[name=code]", last_code(app))
        citizen.locator("form button[type=submit]").click()
        citizen.wait_for_load_state()
        assert citizen.url.endswith("/c/week/stories/ST-004"), citizen.url

    with trip.step("citizen-votes", citizen):
        citizen.locator(".vote-panel form button").click()
        citizen.wait_for_load_state()
        assert "/vote/receipts/" in citizen.url
        # a second tab, opened while a vote was left: its button stays until it is clicked
        other_tab = citizen.context.new_page()
        other_tab.goto("/c/week/stories/ST-003")
        citizen.goto("/c/week/stories/ST-002")
        citizen.locator(".vote-panel form button").click()
        citizen.wait_for_load_state()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Vote).where(
            Vote.entry_id == entry.id)) == 1

    with trip.step("citizen-meets-the-daily-quota", citizen):
        other_tab.locator(".vote-panel form button").click()  # the server refuses it
        other_tab.wait_for_load_state()
        message = flash_text(other_tab)
        assert ("2" in message and ("今天" in message or "today" in message)), message
        assert other_tab.locator(".flash-error").count() == 1
        other_tab.close()
        citizen.goto("/c/week/stories/ST-003")  # a page opened now says so before any click
        panel = citizen.locator(".vote-panel")
        assert panel.locator("form").count() == 0 and panel.locator("button:disabled").count() == 1
        words = panel.inner_text()
        assert "今日票数已用完" in words or "No votes left today" in words, words

    with trip.step("citizen-reads-my-votes-and-signs-the-device-out", citizen):
        citizen.locator("nav a[href='/vote/mine']").click()
        citizen.wait_for_load_state()
        items = citizen.locator("ol.my-votes li.card")
        assert [items.nth(i).locator(".number").inner_text()
                for i in range(items.count())] == ["ST-002", "ST-004"]
        assert items.locator(".badge-open").count() == 2
        citizen.locator("form[action='/vote/signout'] button").click()
        citizen.wait_for_load_state()
        citizen.goto("/vote/mine")
        assert "/vote/verify" in citizen.url, citizen.url

    with trip.step("organiser-looks-at-an-earlier-day", organiser):
        organiser.goto("/vote/manage/week/stories/fraud")
        picker = organiser.locator("form.day-picker input[type=date]")
        first = picker.get_attribute("min")
        picker.fill(first)
        organiser.locator("form.day-picker button").click()
        organiser.wait_for_load_state()
        assert organiser.url.endswith(f"fraud?day={first}"), organiser.url
        assert organiser.locator("input[type=date]").input_value() == first

    with trip.step("organiser-voids-the-script", organiser):
        organiser.goto("/vote/manage/week/stories/fraud")
        form = organiser.locator("form[action$='/void']").first
        form.locator("textarea").fill("同一网段每 10 秒一票：脚本刷票")
        form.locator("button").click()
        organiser.wait_for_load_state()
        assert voided_votes() == 12, flash_text(organiser)

    with trip.step("organiser-restores-a-void-found-wrong", organiser):
        act = organiser.locator("#voids .act").first
        act.locator("summary").click()
        act.locator("textarea").fill("核实为学校统一网络，非刷票")
        act.locator("button[type=submit]").click()
        organiser.wait_for_load_state()
        assert voided_votes() == 0, flash_text(organiser)
        assert organiser.locator("#voids .act").count() == 2  # the void and its undoing

    with trip.step("organiser-previews-and-publishes", organiser):
        organiser.goto("/results/manage/week/stories/")
        assert organiser.locator("text=ST-004").count() >= 1
        organiser.locator("form[action$='/publish']").first.locator("button").click()
        organiser.wait_for_load_state()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Publication)) == 1, (
            flash_text(organiser))

    visitor = trip.person()
    with trip.step("visitor-reads-the-results", visitor):
        visitor.goto("/results/week/")
        assert visitor.locator("text=陈伯的冬天").count() >= 1
        assert visitor.get_attribute("html", "lang") == lang

    with trip.step("visitor-opens-the-anthology", visitor):
        visitor.locator("a[href$='/anthology']").first.click()
        visitor.wait_for_load_state()
        assert "/results/week/anthology" in visitor.url
        assert visitor.locator("text=陈伯的冬天").count() >= 1
