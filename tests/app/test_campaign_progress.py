"""The organiser's campaign page says where each category stands: what waits for a decision,
how far the review and the vote have gone, what has been published, and what needs doing."""
from datetime import timedelta

from bs4 import BeautifulSoup

from app.database import utcnow
from app.extensions import db
from app.models import Agency, Role
from nominations.models import Entry, EntryStatus
from results import services as results
from review.models import PanelMember, Review, ReviewStatus
from voting import services as voting
from voting.models import Vote, Voter

from ..conftest import add_codes


def progress_table(html):
    """{category name: {column title: {label: (value, link, marked)}}}, or "—" for a column
    that does not apply, as the page shows them."""
    soup = BeautifulSoup(html, "html.parser")
    table = soup.select_one("table.progress")
    titles = [th.get_text(strip=True) for th in table.select("thead th")][1:]
    rows = {}
    for tr in table.select("tbody tr"):
        cells = {}
        for title, td in zip(titles, tr.find_all("td"), strict=True):
            if td.dl is None:
                cells[title] = td.get_text(strip=True)
                continue
            cells[title] = {}
            for group in td.dl.find_all("div", recursive=False):
                link = group.dd.a
                value = (link or group.dd).find(string=True, recursive=False).strip()
                cells[title][group.dt.get_text(strip=True)] = (
                    value, link["href"] if link else None, "attention" in group.get("class", []))
        rows[tr.th.get_text(strip=True)] = cells
    return rows


def entries(category, agency, statuses):
    made = [Entry(category=category, agency=agency, title=f"{category.key}-{i}",
                  number=f"{category.number_prefix}-{i:03d}", status=status)
            for i, status in enumerate(statuses, start=1)]
    db.session.add_all(made)
    db.session.commit()
    return made


def test_the_campaign_page_says_where_each_category_stands(
        app, client, login, make_user, make_campaign, make_category):
    now = utcnow()
    campaign = make_campaign(slug="week", voting_opens=now - timedelta(days=3),
                             objection_days=7)
    workers = make_category(campaign, key="workers", name="优秀社工", kind="social_worker",
                            expert_weight=0.6, public_weight=0.4, reviewers_per_entry=2,
                            votes_per_day=3)
    hotlines = make_category(campaign, key="hotlines", name="优秀热线", kind="hotline",
                             expert_weight=0.0, public_weight=1.0)
    reports = make_category(campaign, key="reports", name="总结报告", kind="report")
    projects = make_category(campaign, key="projects", name="服务项目")
    make_category(campaign, key="stories", name="服务故事")
    cases = make_category(campaign, key="cases", name="服务案例")
    organiser = make_user(Role.ORGANISER)
    experts = [make_user(Role.EXPERT) for _ in range(2)]
    agency = Agency(name="机构")
    approved, second, third, _s1, _s2, rejected, _draft, _withdrawn = entries(workers, agency, [
        EntryStatus.APPROVED, EntryStatus.APPROVED, EntryStatus.APPROVED,
        EntryStatus.SUBMITTED, EntryStatus.SUBMITTED, EntryStatus.REJECTED, EntryStatus.DRAFT,
        EntryStatus.WITHDRAWN])
    hotline, = entries(hotlines, agency, [EntryStatus.APPROVED])
    entries(reports, agency, [EntryStatus.SUBMITTED])
    project, = entries(projects, agency, [EntryStatus.APPROVED])
    entries(cases, agency, [EntryStatus.APPROVED])
    db.session.add_all([PanelMember(category=workers, expert_id=e.id) for e in experts])
    db.session.add(PanelMember(category=projects, expert_id=experts[0].id))
    # the first entry has its two reviews (one still a draft), the second one, the third none;
    # a review of the rejected entry does not count
    for entry, expert, status in ((approved, experts[0], ReviewStatus.SUBMITTED),
                                  (approved, experts[1], ReviewStatus.DRAFT),
                                  (second, experts[0], ReviewStatus.SUBMITTED),
                                  (rejected, experts[1], ReviewStatus.SUBMITTED),
                                  (project, experts[0], ReviewStatus.SUBMITTED)):
        db.session.add(Review(entry=entry, expert=expert, status=status, points={}))
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        voters = []
        for i in range(3):
            voters.append(Voter(phone_hmac=f"p-{i}".ljust(64, "x")))
        db.session.add_all(voters)
        db.session.flush()
        for voter in voters:  # three today, one of them voided below
            voting.cast_vote(voter.id, approved.id, now)
        voting.cast_vote(voters[0].id, second.id, now - timedelta(days=2))  # another day
        voting.cast_vote(voters[0].id, hotline.id, now - timedelta(days=2))
        voided = db.session.scalar(db.select(Vote.id).where(Vote.voter_id == voters[2].id))
        voting.void_votes(workers, [voided], organiser, "刷票", now)
        # workers: a provisional list whose window is over, one objection still unanswered
        listed = results.publish(workers, "provisional", organiser, now - timedelta(days=8))
        results.lodge_objection(listed, approved.number, "有误", "13800000000",
                                now - timedelta(days=7, hours=1))
        # hotlines: a provisional list whose window is over, its objection answered
        listed = results.publish(hotlines, "provisional", organiser, now - timedelta(days=8))
        objection = results.lodge_objection(listed, hotline.number, "有误", "13800000000",
                                            now - timedelta(days=7, hours=1))
        results.answer_objection(objection, organiser, "dismissed", "核实无误", now)
        # projects: the final list, after a provisional one
        results.publish(projects, "provisional", organiser, now - timedelta(days=9))
        results.publish(projects, "final", organiser, now - timedelta(hours=1))
        # cases: a provisional list out an hour ago, its objections open for a week less an hour
        results.publish(cases, "provisional", organiser, now - timedelta(hours=1))
        db.session.commit()

    login(organiser)
    page = client.get("/admin/campaigns/week")
    assert page.status_code == 200
    table = progress_table(page.get_data(as_text=True))
    queue = "/moderation/week/workers/?status="
    assert table["优秀社工"]["申报与审核"] == {
        "待审核": ("2", queue + "submitted", True),
        "已通过": ("3", queue + "approved", False),
        "未通过": ("1", queue + "rejected", False),
        "草稿（机构填写中）": ("1", None, False),
    }
    assert table["优秀社工"]["专家评审"] == {
        "评审专家": ("2", "/review/manage/week/workers/", False),
        "已提交评分": ("2 / 3", "/review/manage/week/workers/", False),
        "专家不足的作品": ("2", "/review/manage/week/workers/?short=1", True),
    }
    today = voting.vote_day(now, campaign.timezone).isoformat()
    assert table["优秀社工"]["公众投票"] == {
        "有效票数": ("3", "/vote/manage/week/workers/fraud", False),
        "今日": ("2", f"/vote/manage/week/workers/fraud?day={today}", False),
        "已作废": ("1", "/vote/manage/week/workers/fraud", False),
    }
    preview = "/results/manage/week/{}/#publish"
    eight_days_ago = campaign.local(now - timedelta(days=8)).date().isoformat()
    assert table["优秀社工"]["评选结果"] == {
        "公示名单": ("第 1 版", preview.format("workers"), False),
        "发布于": (eight_days_ago, None, False),
        "异议截止": ("已截止", None, False),
        "待答复的异议": ("1", preview.format("workers"), True),
    }
    assert table["优秀热线"]["专家评审"] == "—"
    assert table["优秀热线"]["公众投票"]["有效票数"][0] == "1"
    assert table["优秀热线"]["评选结果"] == {
        "公示名单": ("第 1 版", preview.format("hotlines"), False),
        "发布于": (eight_days_ago, None, False),
        "异议截止": ("已截止", None, False),
        "待答复的异议": ("0", preview.format("hotlines"), False),
        "获奖名单": ("可以发布", preview.format("hotlines"), True),
    }
    assert table["总结报告"]["申报与审核"]["待审核"] == (
        "1", "/moderation/week/reports/?status=submitted", True)
    assert table["总结报告"]["专家评审"] == table["总结报告"]["公众投票"] == "—"
    assert table["总结报告"]["评选结果"] == "—"
    final_day = campaign.local(now - timedelta(hours=1)).date().isoformat()
    assert table["服务项目"]["评选结果"] == {"获奖名单": ("第 2 版", "/results/week/", False),
                                         "发布于": (final_day, None, False)}
    assert table["服务项目"]["专家评审"]["已提交评分"] == ("1 / 1", "/review/manage/week/projects/",
                                                       False)
    closes = campaign.local(now - timedelta(hours=1) + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    assert table["服务案例"]["评选结果"] == {
        "公示名单": ("第 1 版", preview.format("cases"), False),
        "发布于": (campaign.local(now - timedelta(hours=1)).date().isoformat(), None, False),
        "异议截止": (closes, None, False),
        "待答复的异议": ("0", preview.format("cases"), False),
    }
    assert table["服务故事"]["专家评审"]["评审专家"] == ("0", "/review/manage/week/stories/", True)
    assert table["服务故事"]["评选结果"] == {"发布情况": ("尚未发布", preview.format("stories"), False)}


def test_scores_still_missing_when_the_review_has_closed_are_marked(
        app, client, login, make_user, make_campaign, make_category):
    now = utcnow()
    campaign = make_campaign(slug="closed", review_opens=now - timedelta(days=10),
                             review_closes=now - timedelta(days=1))
    category = make_category(campaign, key="projects", name="服务项目", reviewers_per_entry=1)
    expert = make_user(Role.EXPERT)
    first, second = entries(category, Agency(name="机构"), [EntryStatus.APPROVED] * 2)
    db.session.add(PanelMember(category=category, expert_id=expert.id))
    db.session.add_all([Review(entry=first, expert=expert, status=ReviewStatus.SUBMITTED),
                        Review(entry=second, expert=expert, status=ReviewStatus.ASSIGNED)])
    db.session.commit()
    login(make_user(Role.ORGANISER))
    review = progress_table(client.get("/admin/campaigns/closed").get_data(as_text=True))[
        "服务项目"]["专家评审"]
    assert review["已提交评分"] == ("1 / 2", "/review/manage/closed/projects/", True)
    assert review["专家不足的作品"][0] == "0"


def test_once_the_review_has_closed_its_panel_and_entries_short_of_experts_are_not_marked(
        app, client, login, make_user, make_campaign, make_category):
    """Nothing can be done about them any more: a finished campaign does not wait for them."""
    now = utcnow()
    for slug, closes in (("open", now + timedelta(days=1)), ("closed", now - timedelta(days=1))):
        campaign = make_campaign(slug=slug, title=slug, review_opens=now - timedelta(days=10),
                                 review_closes=closes)
        category = make_category(campaign, key="projects", name="服务项目",
                                 reviewers_per_entry=1)
        entries(category, Agency(name=f"机构-{slug}"), [EntryStatus.APPROVED])
    login(make_user(Role.ORGANISER))
    for slug, marked in (("open", True), ("closed", False)):
        review = progress_table(client.get(f"/admin/campaigns/{slug}").get_data(as_text=True))[
            "服务项目"]["专家评审"]
        assert review["评审专家"][0] == "0" and review["评审专家"][2] is marked
        assert review["专家不足的作品"][0] == "1" and review["专家不足的作品"][2] is marked
    waiting = campaign_list(client.get("/admin/").get_data(as_text=True))
    assert waiting["open"][1] == ["服务项目 评审专家：0", "服务项目 专家不足的作品：1"]
    assert waiting["closed"][1] == ["暂无"]


def test_the_english_page_says_the_same(app, client, login, make_user, make_campaign,
                                        make_category):
    campaign = make_campaign(slug="en")
    make_category(campaign, key="projects", name="服务项目")
    login(make_user(Role.ORGANISER))
    client.set_cookie("lang", "en")
    html = client.get("/admin/campaigns/en").get_data(as_text=True)
    row = progress_table(html)["服务项目"]
    assert row["Nominations"]["Waiting for moderation"] == (
        "0", "/moderation/en/projects/?status=submitted", False)
    assert row["Results"] == {"Publication": ("not yet", "/results/manage/en/projects/#publish",
                                              False)}
    assert "Where things stand" in html


def test_the_page_reads_as_many_statements_for_eight_categories_as_for_two(
        app, client, login, make_user, make_campaign, make_category):
    from .test_growing_lists import statements

    campaign = make_campaign(slug="many")
    login(make_user(Role.ORGANISER))

    def add(count):
        for kind, expert_weight in [("project", 1.0), ("hotline", 0.0)] * (count // 2):
            make_category(campaign, kind=kind, expert_weight=expert_weight,
                          public_weight=1.0 - expert_weight)
        client.get("/admin/campaigns/many")
        with statements() as sent:
            assert client.get("/admin/campaigns/many").status_code == 200
        return len(sent)

    assert add(2) == add(6)


def campaign_list(html):
    """{campaign title: (phase badges, [what waits, as shown], [its links])} from /admin/."""
    soup = BeautifulSoup(html, "html.parser")
    rows = {}
    for tr in soup.select("table.campaigns tbody tr"):
        title, phases, waiting = tr.find_all("td")[:3]
        rows[title.a.get_text(strip=True)] = (
            [badge.get_text(strip=True) for badge in phases.select(".badge")],
            [li.get_text(" ", strip=True) for li in waiting.select("li")] or
            [waiting.get_text(strip=True)],
            [a["href"] for a in waiting.select("a")])
    return rows


def test_the_campaign_list_says_what_waits_in_each_campaign(
        app, client, login, make_user, make_campaign, make_category):
    now = utcnow()
    organiser = make_user(Role.ORGANISER)
    agency = Agency(name="机构")
    busy = make_campaign(slug="busy", title="忙碌的评选")
    projects = make_category(busy, key="projects", name="服务项目", reviewers_per_entry=1)
    hotlines = make_category(busy, key="hotlines", name="优秀热线", kind="hotline",
                             expert_weight=0.0, public_weight=1.0)
    make_category(busy, key="stories", name="服务故事")
    entries(projects, agency, [EntryStatus.SUBMITTED, EntryStatus.SUBMITTED,
                               EntryStatus.APPROVED])
    hotline, _waiting = entries(hotlines, agency, [EntryStatus.APPROVED, EntryStatus.SUBMITTED])
    with app.test_request_context("/", method="POST"):
        listed = results.publish(hotlines, "provisional", organiser, now - timedelta(days=1))
        results.lodge_objection(listed, hotline.number, "有误", "13800000000", now)
        db.session.commit()
    # nothing waits in a campaign still to open whose panel is ready
    later = now + timedelta(days=30)
    quiet = make_campaign(slug="quiet", title="筹备中的评选",
                          nomination_opens=later, nomination_closes=later,
                          review_opens=later, review_closes=later,
                          voting_opens=later, voting_closes=later)
    ready = make_category(quiet, key="projects", name="服务项目", public_weight=0.5,
                          expert_weight=0.5)
    db.session.add(PanelMember(category=ready, expert_id=make_user(Role.EXPERT).id))
    db.session.commit()

    login(organiser)
    rows = campaign_list(client.get("/admin/").get_data(as_text=True))
    assert list(rows) == ["筹备中的评选", "忙碌的评选"]  # the newest first
    assert rows["筹备中的评选"] == (
        ["申报 · 未开始", "专家评审 · 未开始", "公众投票 · 未开始"], ["暂无"], [])
    phases, waiting, links = rows["忙碌的评选"]
    assert phases == ["申报 · 进行中", "专家评审 · 进行中", "公众投票 · 进行中"]
    # in the campaign page's order: category by category, column by column; five, then the rest
    assert waiting == ["服务项目 待审核：2", "服务项目 评审专家：0", "服务项目 专家不足的作品：1",
                       "优秀热线 待审核：1", "优秀热线 待答复的异议：1", "还有 1 项"]
    assert links == ["/moderation/busy/projects/?status=submitted",
                     "/review/manage/busy/projects/", "/review/manage/busy/projects/?short=1",
                     "/moderation/busy/hotlines/?status=submitted",
                     "/results/manage/busy/hotlines/#publish", "/admin/campaigns/busy"]

    client.set_cookie("lang", "en")
    _phases, waiting, _links = campaign_list(client.get("/admin/").get_data(as_text=True))[
        "忙碌的评选"]
    assert waiting[0] == "服务项目 Waiting for moderation: 2"
    assert waiting[-1] == "and 1 more"


def test_the_campaign_list_reads_as_many_statements_for_six_campaigns_as_for_two(
        app, client, login, make_user, make_campaign, make_category):
    from .test_growing_lists import statements

    login(make_user(Role.ORGANISER))

    def add(count):
        for _ in range(count):
            campaign = make_campaign()
            make_category(campaign)
            make_category(campaign, kind="hotline", expert_weight=0.0, public_weight=1.0)
        client.get("/admin/")
        with statements() as sent:
            assert client.get("/admin/").status_code == 200
        return len(sent)

    assert add(2) == add(4)


def test_todays_votes_are_counted_on_each_campaigns_own_day(
        app, make_campaign, make_category):
    """Two campaigns a calendar day apart (Shanghai and Honolulu): each category's votes of
    "today" are those of its own campaign's day, counted in one statement."""
    from datetime import UTC, datetime

    now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 25 Nov in Shanghai, 24 Nov in Honolulu
    agency = Agency(name="机构")
    counted = []
    for zone in ("Asia/Shanghai", "Pacific/Honolulu"):
        campaign = make_campaign(timezone=zone, voting_opens=now - timedelta(days=2),
                                 voting_closes=now + timedelta(days=2))
        category = make_category(campaign, kind="hotline", expert_weight=0.0, public_weight=1.0,
                                 votes_per_day=5)
        entry, = entries(category, agency, [EntryStatus.APPROVED])
        counted.append(category)
        with app.test_request_context("/", method="POST"):
            voter = Voter(phone_hmac=zone.ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            voting.cast_vote(voter.id, entry.id, now)  # today in both time zones
            voting.cast_vote(voter.id, entry.id, now - timedelta(hours=12))  # the day before
            db.session.commit()
    shanghai, honolulu = counted
    days = {category.id: voting.vote_day(now, category.campaign.timezone) for category in counted}
    assert [day.isoformat() for day in days.values()] == ["2026-11-25", "2026-11-24"]
    valid, of_day, _voided = voting.campaign_counts(counted, days)
    assert valid == {shanghai.id: 2, honolulu.id: 2}
    assert of_day == {shanghai.id: 1, honolulu.id: 1}
    assert voting.campaign_counts(counted, {honolulu.id: days[shanghai.id]})[1] == {}


def test_codes_that_stop_being_confirmed_wait_for_the_organiser(
        app, client, login, make_user, make_campaign, make_category):
    """While a category's vote is open and few of the site's codes of the last hour are
    confirmed (voters may not be getting them), its row on the campaign page and the campaign
    list say so, marked, linked to the monitoring's codes; with codes confirmed, nothing. The
    figure is the site's: the list names it once for a campaign with two open votes."""
    from voting.models import VerificationCode

    now = utcnow()
    campaign = make_campaign(slug="week", title="宣传周")
    make_category(campaign, key="hotlines", name="优秀热线", kind="hotline", expert_weight=0.0,
                  public_weight=1.0)
    make_category(campaign, key="workers", name="优秀社工", kind="social_worker",
                  expert_weight=0.5, public_weight=0.5)
    login(make_user(Role.ORGANISER))

    def vote_column():
        return progress_table(client.get("/admin/campaigns/week").get_data(as_text=True))[
            "优秀热线"]["公众投票"]

    add_codes(25, 20, now)
    assert "近 1 小时验证码验证数（全站）" not in vote_column()
    db.session.execute(VerificationCode.__table__.delete())
    add_codes(25, 2, now)
    assert vote_column()["近 1 小时验证码验证数（全站）"] == (
        "2 / 25", "/vote/manage/week/hotlines/fraud#codes", True)
    _phases, waiting, links = campaign_list(client.get("/admin/").get_data(as_text=True))["宣传周"]
    codes = [line for line in waiting if "验证码" in line]
    assert codes == ["优秀热线 近 1 小时验证码验证数（全站）：2 / 25"]
    assert "/vote/manage/week/hotlines/fraud#codes" in links
    assert "/vote/manage/week/workers/fraud#codes" not in links
