"""Organisers see the signals, void votes with a reason, and tallies follow; votes stay."""
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from app.database import utcnow
from app.extensions import db
from app.models import AuditLog, Category, Role, User
from benchmarks.monitoring import void_form
from voting import manage, services
from voting.models import Vote, Voter, VoteStatus

from ..conftest import PASSWORD, add_codes, csrf_token, script_votes, write_lock_is_free


@pytest.fixture
def brushed(app, voted):
    """A script's votes at 10 s intervals from one network for SW-001, and a few people's."""
    category, entries = voted
    start = utcnow() - timedelta(hours=2)
    script_votes(app, entries[0], start, 40, gap=10, ip="203.0.113.{}")
    with app.test_request_context("/", method="POST"):
        for i in range(5):
            voter = Voter(phone_hmac=f"person-{i:04d}".ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            services.cast_vote(voter.id, entries[1 + i % 3].id,
                               start + timedelta(minutes=7 * i + i * i), ip=f"10.{i}.0.1")
        db.session.commit()
    return category, entries


def void_button(client, page="/vote/manage/week/workers/fraud", reason="脚本刷票"):
    """(address, fields) of the page's first signal's button, its reason filled in."""
    action, fields = void_form(client.get(page).get_data(as_text=True))
    return action, fields | {"reason": reason}


@pytest.fixture
def organiser(app, make_user):
    user = make_user(Role.ORGANISER)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client)})
    return client, user


def test_the_fraud_view_shows_the_script_and_the_tally_without_it(brushed, organiser):
    client, _user = organiser
    html = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    assert "从同一网络以近乎固定的间隔投票" in html
    assert "<td>SW-001</td><td>社工1</td><td>40</td><td>0</td>" in html
    first_bot_vote = db.session.scalar(select(func.min(Vote.id)))
    assert f"<tr><td>{first_bot_vote}</td>" in html  # the votes behind the signal are listed
    chart = client.get("/vote/manage/week/workers/chart.svg")
    assert chart.mimetype == "image/svg+xml" and b"<polyline" in chart.data and b"SW-001" in chart.data


def test_voiding_keeps_the_votes_and_the_tallies_follow(brushed, organiser):
    category, entries = brushed
    client, user = organiser
    action, fields = void_button(client, reason="脚本刷票：固定10秒间隔")
    response = client.post(action, data=fields, follow_redirects=True)
    assert "已作废 40 票" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 45
    voided = db.session.scalars(select(Vote).where(Vote.status == VoteStatus.VOIDED)).all()
    assert len(voided) == 40 and {v.void_reason for v in voided} == {"脚本刷票：固定10秒间隔"}
    assert {v.entry_id for v in voided} == {entries[0].id}
    assert all(v.voided_by_id == user.id for v in voided)
    assert services.tallies(category).get(entries[0].id) == 0
    assert services.tallies(category) == services.recount(category) | {entries[0].id: 0}
    # one row tells of the act, and how to find its votes
    (row,) = db.session.scalars(select(AuditLog).where(AuditLog.action == "vote.void")).all()
    assert row.actor_label == user.email and row.object_id == str(category.id)
    assert row.after["votes"] == 40 and row.after["entries"] == {"SW-001": 40}
    assert row.after["reason"] == "脚本刷票：固定10秒间隔" and row.after["about"].startswith("regular:")
    assert {v.voided_at.isoformat() for v in voided} == {row.after["voided_at"]}
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "<b>status</b>: valid → voided" in audit and "<b>votes</b>: 40<" in audit
    assert "<b>entries</b>: SW-001 40<" in audit


def test_voiding_needs_a_reason_and_never_touches_another_category(brushed, organiser,
                                                                    make_category):
    category, _entries = brushed
    client, _user = organiser
    action, fields = void_button(client, reason=" ")
    page = client.post(action, data=fields, follow_redirects=True).get_data(as_text=True)
    assert "请填写作废原因" in page
    assert db.session.scalar(select(func.count()).where(Vote.status == VoteStatus.VOIDED)) == 0
    other = make_category(category.campaign, key="lines", kind="hotline", expert_weight=0,
                          public_weight=1, votes_per_day=1)
    response = client.post("/vote/manage/week/lines/void", data=fields | {"reason": "错误的类别"})
    assert other.id and response.status_code == 302
    assert db.session.scalar(select(func.count()).where(Vote.status == VoteStatus.VOIDED)) == 0


def test_the_button_voids_the_votes_shown_and_no_other(app, brushed, organiser):
    """The button names its signal, not its votes: the server finds them again among the votes
    the page looked at. Votes cast after the look stay; a signal that changed meanwhile (some
    of its votes voided from another tab) is refused whole, and forged fields are refused."""
    _category, entries = brushed
    client, _user = organiser
    action, fields = void_button(client)
    assert set(fields) == {"csrf_token", "signal", "since", "until", "upto", "digest", "reason"}
    script_votes(app, entries[0], utcnow() - timedelta(minutes=30), 25, gap=10,
                 ip="203.0.113.{}", prefix="later-bot")  # more of the script after the look
    shown = set(db.session.scalars(select(Vote.id).where(Vote.id <= int(fields["upto"]),
                                                         Vote.entry_id == entries[0].id)))
    second_tab = void_button(client)  # the same signal, looked at again: now 65 votes
    assert client.post(action, data=fields).status_code == 302
    voided = set(db.session.scalars(select(Vote.id).where(Vote.status == VoteStatus.VOIDED)))
    assert voided == shown and len(voided) == 40

    refused = client.post(second_tab[0], data=second_tab[1], follow_redirects=True)
    assert "这一信号在页面显示后已有变化" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Vote.status == VoteStatus.VOIDED)) == 40
    again = client.post(action, data=fields, follow_redirects=True)  # the same button twice
    assert "这一信号在页面显示后已有变化" in again.get_data(as_text=True)

    action, fields = void_button(client)
    for forged in ({"signal": "regular:elsewhere"}, {"digest": "0" * 24}):
        client.post(action, data=fields | forged)
        assert db.session.scalar(select(func.count()).where(
            Vote.status == VoteStatus.VOIDED)) == 40
    for broken in ({"since": "yesterday"}, {"upto": "x"}, {"since": "2026-11-20T00:00:00"},
                   {"signal": ""}, {"upto": str(2**40)}, {"until": "9999-12-31T23:00:00-14:00"}):
        assert client.post(action, data=fields | broken).status_code == 400
    assert client.post(action, data=fields).status_code == 302
    assert db.session.scalar(select(func.count()).where(Vote.status == VoteStatus.VOIDED)) == 65


def test_finding_the_signal_again_holds_no_write_lock(app, brushed, organiser, monkeypatch):
    """The button reads the period's votes again (about a second at a city's size) before it
    writes: meanwhile other writes go on, and a vote of the signal that another organiser voids
    at that moment is not voided a second time or taken twice from the tally."""
    category, entries = brushed
    client, user = organiser
    action, fields = void_button(client)
    # plain ids: the test's own objects would be read again by its own session mid-request
    category_id, entry_id, user_id = category.id, entries[0].id, user.id
    before = services.tallies(category)[entry_id]
    meanwhile = {}
    reread = manage.analysed

    def analysed_while_another_organiser_voids(*args, **kwargs):
        found = reread(*args, **kwargs)
        meanwhile["lock free"] = write_lock_is_free()
        if meanwhile["lock free"]:
            with app.app_context():  # another organiser's request, at that moment
                first = db.session.scalar(select(Vote.id).where(
                    Vote.entry_id == entry_id).order_by(Vote.id).limit(1))
                services.void_votes(db.session.get(Category, category_id), [first],
                                    db.session.get(User, user_id), "另一位组织者", utcnow())
                db.session.commit()
        return found

    monkeypatch.setattr(manage, "analysed", analysed_while_another_organiser_voids)
    voided = client.post(action, data=fields)
    monkeypatch.undo()
    assert voided.status_code == 302 and meanwhile["lock free"]
    assert "已作废 39 票" in client.get(voided.location).get_data(as_text=True)
    db.session.expire_all()
    reasons = Counter(db.session.scalars(select(Vote.void_reason).where(
        Vote.status == VoteStatus.VOIDED)))
    assert reasons == {"脚本刷票": 39, "另一位组织者": 1}
    assert services.tallies(category)[entry_id] == before - 40


def test_votes_report_prints_the_signals(app, brushed, runner):
    result = runner.invoke(args=["votes", "report", "week"])
    assert result.exit_code == 0, result.output
    assert "workers: 45 valid votes" in result.output and "regular" in result.output


def test_votes_report_looks_at_one_day_when_asked(app, brushed, runner):
    category, _entries = brushed
    tz = ZoneInfo(category.campaign.timezone)
    days = Counter(vote.created_at.astimezone(tz).date()
                   for vote in db.session.scalars(select(Vote)))
    for day, count in days.items():
        result = runner.invoke(args=["votes", "report", "week", "--day", day.isoformat()])
        assert result.exit_code == 0 and f"workers: {count} valid votes" in result.output
    quiet = min(days) - timedelta(days=2)
    result = runner.invoke(args=["votes", "report", "week", "--day", quiet.isoformat()])
    assert "workers: 0 valid votes, 0 signals" in result.output
    assert runner.invoke(args=["votes", "report", "week", "--day", "23/11"]).exit_code == 2


@pytest.mark.parametrize("role", [Role.AGENCY, Role.EXPERT])
def test_only_organisers_see_the_monitoring(app, voted, make_user, role):
    user = make_user(role)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client)})
    assert client.get("/vote/manage/week/workers/fraud").status_code == 403


def test_the_chart_marks_votes_that_all_fall_in_one_hour():
    """A line through one point draws nothing: each entry then gets a visible mark."""
    from voting.fraud import VoteRecord
    from voting.manage import draw_chart

    votes = [VoteRecord(id=i, voter=i, entry=1 + i % 2, at=7200.0 + i) for i in range(5)]
    svg = draw_chart(votes, [1, 2], {1: "ST-001", 2: "ST-002"})
    assert svg.count("<circle") == 2
    assert 'cy="10.0"' in svg  # the entry with the most votes reaches the top
    spread = [VoteRecord(id=i, voter=i, entry=1, at=3600.0 * i) for i in range(3)]
    assert "<circle" not in draw_chart(spread, [1], {1: "ST-001"})


def test_entries_of_equal_counts_stay_visible_on_the_chart():
    """Two entries with the same votes every hour: neither line nor dot hides the other."""
    from voting.fraud import VoteRecord
    from voting.manage import draw_chart

    labels = {1: "ST-001", 2: "ST-002", 3: "ST-003"}
    one_hour = [VoteRecord(id=i, voter=i, entry=1 + i % 3, at=7200.0 + i) for i in range(6)]
    dots = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"[^>]*><title>(ST-00\d): 2</title>',
                      draw_chart(one_hour, [1, 2, 3], labels))
    assert [label for _x, _y, label in dots] == ["ST-001", "ST-002", "ST-003"]
    assert len({x for x, _y, _label in dots}) == 3 and len({y for _x, y, _l in dots}) == 1
    hours = [VoteRecord(id=i, voter=i, entry=1 + i % 2, at=3600.0 * (i // 2)) for i in range(8)]
    svg = draw_chart(hours, [1, 2], labels)
    lines = re.findall(r'<polyline [^>]*stroke-width="(\d+)"[^>]*points="([^"]+)">'
                       r'<title>(ST-00\d)</title>', svg)
    (first, points, one), (second, same_points, two) = lines
    assert points == same_points and (one, two) == ("ST-001", "ST-002")
    drawn = re.findall(r"<polyline [^>]*>", svg)
    assert "dasharray" not in drawn[0] and "dasharray" in drawn[1]  # dashed on top: both show
    assert int(first) > int(second)  # and the one beneath shows at its edges


def test_the_chart_fits_a_phone_and_says_when_in_the_campaigns_time():
    from voting.fraud import VoteRecord
    from voting.manage import draw_chart

    one_am = datetime(2026, 11, 23, 1, tzinfo=UTC).timestamp()  # 09:00 in Shanghai
    votes = [VoteRecord(id=i, voter=i, entry=1 + i % 6, at=one_am + 600 * i) for i in range(18)]
    labels = {n: f"ST-00{n}" for n in range(1, 7)}

    def legend_rows(svg):
        return {y for y, _number in re.findall(r'y="(\d+)" fill="#\w+">(ST-00\d)</text>', svg)}

    phone = draw_chart(votes, list(labels), labels, width=360, tz=ZoneInfo("Asia/Shanghai"))
    assert 'width="360"' in phone and len(legend_rows(phone)) == 2  # six numbers, two rows
    assert "11-23 09:00" in phone and "11-23 11:00" in phone  # the first and the last hour
    desktop = draw_chart(votes, list(labels), labels, width=960, tz=ZoneInfo("Asia/Shanghai"))
    assert len(legend_rows(desktop)) == 1
    assert 'width="1200"' in draw_chart(votes, [1], labels, width=10**6)
    assert 'width="320"' in draw_chart(votes, [1], labels, width=-5)


def test_the_monitoring_page_asks_phones_for_a_narrow_chart(brushed, organiser):
    client, _user = organiser
    html = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    assert 'media="(max-width: 640px)"' in html and "chart.svg?width=360" in html
    assert "图中时间为中国（上海）时间。" in html
    narrow = client.get("/vote/manage/week/workers/chart.svg?width=360")
    assert narrow.status_code == 200 and b'width="360"' in narrow.data


def test_the_monitoring_looks_at_one_day_at_a_time(app, brushed, organiser, monkeypatch):
    """A city-wide vote holds millions of votes: the signals and the chart look at the last 24
    hours or one day of the vote (in the campaign's time zone), at most MAX_ANALYSED votes of
    it; the tally stays the whole vote's, and voiding returns to the day looked at."""
    category, entries = brushed
    client, _user = organiser
    now = utcnow()
    category.campaign.voting_opens = now - timedelta(days=5)
    earlier = now - timedelta(days=3)
    # another script, three days ago, for SW-003
    script_votes(app, entries[2], earlier, 30, gap=20, ip="198.51.100.{}", prefix="old-bot")
    tz = ZoneInfo(category.campaign.timezone)
    day = earlier.astimezone(tz).date()

    recent = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    assert "45 票" in recent and "<td>SW-001</td><td>社工1</td><td>40</td><td>0</td>" in recent
    assert "<td>SW-003</td><td>社工3</td><td>32</td><td>32</td>" in recent  # the whole tally
    assert f'?day={day.isoformat()}">{day:%m-%d}</a>' in recent  # each voting day is offered
    assert len(re.findall(r'\?day=\d{4}-\d\d-\d\d"', recent)) == (
        now.astimezone(tz).date() - (now - timedelta(days=5)).astimezone(tz).date()).days + 1

    old = client.get(f"/vote/manage/week/workers/fraud?day={day}").get_data(as_text=True)
    assert "30 票" in old and f'day={day}" aria-current="page"' in old
    assert "<td>SW-003</td><td>社工3</td><td>32</td><td>2</td>" in old
    assert "<td>SW-001</td><td>社工1</td><td>40</td><td>40</td>" in old
    assert f"chart.svg?width=360&amp;day={day}" in old
    chart = client.get(f"/vote/manage/week/workers/chart.svg?day={day}").data
    assert b"SW-003" in chart and b"SW-001" not in chart

    monkeypatch.setattr("voting.manage.MAX_ANALYSED", 10)
    capped = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    assert "本时段超过 10 票" in capped  # and the signals look at the latest ten only
    assert "从同一网络以近乎固定的间隔投票" not in capped

    monkeypatch.setattr("voting.manage.MAX_ANALYSED", 10**5)
    action, fields = void_button(client, f"/vote/manage/week/workers/fraud?day={day}")
    voided = client.post(action, data=fields)
    assert {vote.entry_id for vote in db.session.scalars(select(Vote).where(
        Vote.status == VoteStatus.VOIDED))} == {entries[2].id}  # the day's script
    assert voided.status_code == 302 and voided.location.endswith(f"fraud?day={day}")
    assert client.get("/vote/manage/week/workers/fraud?day=2026-13-40").status_code == 400


def test_a_signal_of_more_votes_than_a_statement_takes_is_voided_in_one_go(
        brushed, organiser, monkeypatch):
    """The monitoring looks at up to 100,000 votes and a signal's button voids all of them,
    VOID_BATCH ids a statement (a statement takes at most 65,535 parameters on PostgreSQL,
    32,766 on most SQLite builds): here seven, so forty votes take six statements."""
    category, entries = brushed
    client, _user = organiser
    monkeypatch.setattr("voting.services.VOID_BATCH", 7)
    action, fields = void_button(client)
    response = client.post(action, data=fields, follow_redirects=True)
    assert response.status_code == 200 and "已作废 40 票" in response.get_data(as_text=True)
    assert services.tallies(category).get(entries[0].id) == 0
    assert db.session.scalar(select(func.count()).where(Vote.status == VoteStatus.VOIDED)) == 40


def test_after_the_vote_the_monitoring_opens_on_its_last_day(app, brushed, organiser):
    category, _entries = brushed
    client, _user = organiser
    category.voting_closes = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    last = category.voting_closes.astimezone(ZoneInfo(category.campaign.timezone)).date()
    html = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    assert f'day={last}" aria-current="page"' in html and "最近24小时" not in html
    assert f"chart.svg?width=360&amp;day={last}" in html


def test_a_long_vote_offers_its_latest_days_as_tabs_and_any_other_by_date(brushed, organiser):
    category, _entries = brushed
    client, _user = organiser
    now = utcnow()
    category.campaign.voting_opens = now - timedelta(days=20)
    db.session.commit()
    tz = ZoneInfo(category.campaign.timezone)
    first, today = (now - timedelta(days=20)).astimezone(tz).date(), now.astimezone(tz).date()
    html = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    assert len(re.findall(r'<a href="[^"]*\?day=', html)) == 6  # the tabs stay one or two rows
    assert f'type="date" name="day" min="{first}" max="{today}"' in html
    older = first + timedelta(days=1)
    page = client.get(f"/vote/manage/week/workers/fraud?day={older}").get_data(as_text=True)
    assert f'value="{older}"' in page and "本时段共 0 票" in page


def test_the_tally_before_and_after_comes_a_page_at_a_time(app, brushed, organiser):
    """A category of a thousand entries: the tally is paged, the entries the flagged votes
    change first, and the pages keep the day looked at."""
    client, _user = organiser
    app.config["ADMIN_PAGE_SIZE"] = 1  # two rows a page: SW-001 (changed), then by votes
    first = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    rows = re.findall(r"<tr ?(?:class=\"changes\")?><td>(SW-\d+)</td>", first)
    assert rows[0] == "SW-001" and len(rows) == 2 and "第 1 页，共 2 页" in first
    second = client.get("/vote/manage/week/workers/fraud?page=2").get_data(as_text=True)
    later = re.findall(r"<tr ?><td>(SW-\d+)</td>", second)
    assert len(later) == 2 and not set(later) & set(rows) and "SW-004" in later
    category, _entries = brushed
    day = utcnow().astimezone(category.campaign.tz).date().isoformat()
    paged = client.get(f"/vote/manage/week/workers/fraud?day={day}").get_data(as_text=True)
    assert f"page=2&amp;day={day}" in paged or f"day={day}&amp;page=2" in paged


def test_a_vote_voided_twice_leaves_its_tally_once(app, brushed, organiser):
    """Two organisers voiding overlapping votes: the second act counts only what was still
    valid, and writes its own audit row only if it voided something."""
    category, entries = brushed
    _client, user = organiser
    script = db.session.scalars(select(Vote.id).where(Vote.entry_id == entries[0].id)).all()
    people = db.session.scalars(select(Vote.id).where(Vote.entry_id != entries[0].id)).all()
    assert services.void_votes(category, script[:30], user, "脚本", utcnow()) == sorted(
        script[:30])
    assert services.void_votes(category, script[20:] + people[:1], user, "脚本", utcnow()) == (
        sorted(script[30:] + people[:1]))
    assert services.void_votes(category, script, user, "脚本", utcnow()) == []
    db.session.commit()
    assert services.tallies(category) == services.recount(category) | {entries[0].id: 0}
    acts = db.session.scalars(select(AuditLog).where(AuditLog.action == "vote.void")).all()
    assert [act.after["votes"] for act in acts] == [30, 11]


def test_the_organisers_set_when_a_signal_fires_for_the_whole_campaign(
        app, brushed, organiser, runner):
    """Where many people share one address, more voters from one network are no sign of
    brushing: the organisers raise that threshold, and the page, its buttons and the command
    line's report all use it; a number out of range is refused and nothing changes."""
    category, _entries = brushed
    client, _user = organiser
    page = "/vote/manage/week/workers/fraud"
    burst = "短时间内同一网络出现大量投票人"
    html = client.get(page).get_data(as_text=True)
    assert "同一网络 10 分钟内有 20 个或以上投票人" in html and burst in html
    forms = re.findall(r'name="signal" type="hidden" value="(network_burst:[^"]+)"', html)
    assert len(forms) == 1
    before = void_form(html[html.index(burst):])  # the burst's button, taken before the change

    values = {"network_voters": "50", "window_minutes": "10", "burst_minimum": "30",
              "burst_factor": "5", "one_entry_minimum": "20", "one_entry_excess": "30",
              "failing_codes": "10", "csrf_token": csrf_token(client, page)}
    refused = client.post("/vote/manage/week/workers/thresholds", data=values | {
        "network_voters": "1", "burst_factor": "很多"})
    assert refused.status_code == 422
    assert "请填写 2 至 100000 之间的数。" in refused.get_data(as_text=True)
    assert "不是有效的整数" in refused.get_data(as_text=True)  # "很多" is no number
    db.session.refresh(category.campaign)
    assert category.campaign.fraud_thresholds == {}

    saved = client.post("/vote/manage/week/workers/thresholds", data=values,
                        follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "阈值已保存" in html and "同一网络 10 分钟内有 50 个或以上投票人" in html
    assert burst not in html and "从同一网络以近乎固定的间隔投票" in html
    db.session.refresh(category.campaign)
    assert category.campaign.fraud_thresholds == {"network_voters": 50}  # only what changed
    change = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "campaign.update")).all()[-1]
    assert change.after == {"fraud_thresholds": {"network_voters": 50}}

    stale = client.post(before[0], data=before[1] | {"reason": "同网段"}, follow_redirects=True)
    assert "这一信号在页面显示后已有变化" in stale.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Vote.status == VoteStatus.VOIDED)) == 0
    report = runner.invoke(args=["votes", "report", "week"])
    assert "regular" in report.output and "network_burst" not in report.output


def test_votes_void_takes_receipt_numbers_and_says_what_it_refused(app, brushed, runner,
                                                                  make_user, tmp_path):
    """An objection shows that some votes were bought: the organisers void those by their
    receipt numbers from the command line, with a reason and who decided it. Numbers of no
    valid vote of the category are refused and listed; nothing else changes."""
    category, entries = brushed
    organiser = make_user(Role.ORGANISER, email="chair@example.test")
    bought = db.session.scalars(select(Vote.id).where(Vote.entry_id == entries[0].id)
                                .order_by(Vote.id).limit(3)).all()
    listed = tmp_path / "ids.txt"
    listed.write_text(f"{bought[2]}\n\n999999\n", encoding="utf-8")
    result = runner.invoke(args=[
        "votes", "void", "week", "workers", str(bought[0]), str(bought[1]), "0",
        "--from-file", str(listed), "--reason", "异议核实：买票", "--by", "CHAIR@example.test"])
    assert result.exit_code == 0, result.output
    assert "workers: 3 votes voided" in result.output
    assert "refused 2 (no valid vote of this category): 0, 999999" in result.output
    voided = db.session.scalars(select(Vote).where(Vote.status == VoteStatus.VOIDED)).all()
    assert sorted(v.id for v in voided) == sorted(bought)
    assert {(v.void_reason, v.voided_by_id) for v in voided} == {("异议核实：买票", organiser.id)}
    assert services.tallies(category)[entries[0].id] == 37
    (act,) = db.session.scalars(select(AuditLog).where(AuditLog.action == "vote.void")).all()
    assert act.actor_label.startswith("cli:") and act.after["votes"] == 3

    again = runner.invoke(args=["votes", "void", "week", "workers", str(bought[0]),
                                "--reason", "再次", "--by", "chair@example.test"])
    assert again.exit_code == 0 and "workers: 0 votes voided" in again.output
    vote = str(bought[0])
    for args, words in (([vote, "--reason", "理由", "--by", "nobody@example.test"], "no organiser"),
                        ([vote, "--reason", " ", "--by", "chair@example.test"], "作废原因"),
                        (["--reason", "理由", "--by", "chair@example.test"], "receipt numbers")):
        failed = runner.invoke(args=["votes", "void", "week", "workers", *args])
        assert failed.exit_code != 0 and words in failed.output, failed.output
    assert services.tallies(category)[entries[0].id] == 37


def restore_button(client, page="/vote/manage/week/workers/fraud"):
    """(address, fields) of the first restore form of the page's void acts."""

    soup = BeautifulSoup(client.get(page).get_data(as_text=True), "html.parser")
    form = soup.select_one("#voids form[action*='/restore']")
    return form["action"], {field["name"]: field.get("value", "")
                            for field in form.select("input[type=hidden]")}


def void_acts_shown(client, page="/vote/manage/week/workers/fraud"):
    """[(heading, reason line, what is left)] of the page's void and restore acts."""

    soup = BeautifulSoup(client.get(page).get_data(as_text=True), "html.parser")
    return [(act.strong.get_text(strip=True), act.select("p")[1].get_text(strip=True),
             (act.summary or act.select_one("p.muted") or act.strong).get_text(strip=True))
            for act in soup.select("#voids .act")]


def test_a_void_found_wrong_is_restored_from_the_page(app, brushed, organiser, make_category,
                                                      monkeypatch):
    """A signal voided, then found to be a school's shared network: the page lists the void and
    restores its votes still voided, with a reason. They count again, lose their void, and the
    audit log keeps both acts. Votes restored meanwhile (the command line) are passed over, and
    the same button twice restores nothing more."""
    category, entries = brushed
    client, user = organiser
    action, fields = void_button(client, reason="脚本刷票")
    client.post(action, data=fields)
    assert services.tallies(category)[entries[0].id] == 0
    assert void_acts_shown(client) == [("已作废 40 票", "原因：脚本刷票", "恢复仍作废的 40 票")]
    from collections import Counter


    # the void forms of the signals still firing, the restore form, the receipts form and the
    # thresholds' on one page: no id twice
    soup = BeautifulSoup(client.get("/vote/manage/week/workers/fraud").get_data(as_text=True),
                         "html.parser")
    assert len(soup.select("form")) >= 4
    ids = Counter(element["id"] for element in soup.find_all(id=True))
    assert [id_ for id_, count in ids.items() if count > 1] == []

    action, fields = restore_button(client)
    assert set(fields) == {"csrf_token", "act"}
    page = client.post(action, data=fields | {"reason": " "}, follow_redirects=True)
    assert "请填写恢复原因" in page.get_data(as_text=True)
    assert services.tallies(category)[entries[0].id] == 0

    first = db.session.scalar(select(func.min(Vote.id)).where(Vote.status == VoteStatus.VOIDED))
    with app.test_request_context("/", method="POST"):
        assert services.restore_votes(category, [first], user, "核实", utcnow()) == [first]
        db.session.commit()
    page = client.post(action, data=fields | {"reason": "学校统一网络，非刷票"},
                       follow_redirects=True).get_data(as_text=True)
    assert "已恢复 39 票，重新计入票数。" in page
    assert services.tallies(category)[entries[0].id] == 40
    assert services.tallies(category) == services.recount(category)
    votes = db.session.scalars(select(Vote).where(Vote.entry_id == entries[0].id)).all()
    assert {(v.status, v.void_reason, v.voided_by_id, v.voided_at) for v in votes} == {
        (VoteStatus.VALID, "", None, None)}
    void, _one, restored = db.session.scalars(select(AuditLog).where(
        AuditLog.action.in_(("vote.void", "vote.restore"))).order_by(AuditLog.id)).all()
    assert restored.action == "vote.restore" and restored.actor_label == user.email
    assert restored.after["votes"] == 39 and restored.after["entries"] == {"SW-001": 39}
    assert restored.after["reason"] == "学校统一网络，非刷票"
    assert restored.after["about"] == f"audit:{void.id}"
    assert void_acts_shown(client) == [
        ("已恢复 39 票", "原因：学校统一网络，非刷票", "已恢复 39 票"),
        ("已恢复 1 票", "原因：核实", "已恢复 1 票"),
        ("已作废 40 票", "原因：脚本刷票", "其投票已全部重新计入。")]

    again = client.post(action, data=fields | {"reason": "再次"}, follow_redirects=True)
    assert "没有可恢复的投票" in again.get_data(as_text=True)
    # older acts than the page lists: in the audit log, narrowed to this category
    monkeypatch.setattr(manage, "ACTS_SHOWN", 2)
    soup = BeautifulSoup(client.get("/vote/manage/week/workers/fraud").get_data(as_text=True),
                         "html.parser")
    older = soup.select_one("#voids a[href^='/admin/audit']")["href"]
    assert older == f"/admin/audit?object=category:{category.id}"
    audit = client.get(older).get_data(as_text=True)
    assert audit.count("vote.restore</code> #") == 2 and audit.count("vote.void</code> #") == 1
    assert services.tallies(category)[entries[0].id] == 40
    # only a void act of this category: not a restore, not another category's, not a forgery
    other = make_category(category.campaign, key="lines", kind="hotline", expert_weight=0,
                          public_weight=1)
    assert other.id
    for act, url in ((restored.id, action), (void.id, "/vote/manage/week/lines/restore"),
                     ("x", action), ("999999", action), (str(2**40), action)):
        response = client.post(url, data=fields | {"act": act, "reason": "理由"})
        assert response.status_code == 404, act
    assert client.post(action, data={"act": void.id, "reason": "理由"}).status_code == 400


def test_votes_restore_takes_receipt_numbers_and_says_what_it_refused(app, brushed, runner,
                                                                     make_user):
    category, entries = brushed
    organiser = make_user(Role.ORGANISER, email="chair@example.test")
    bought = db.session.scalars(select(Vote.id).where(Vote.entry_id == entries[0].id)
                                .order_by(Vote.id).limit(3)).all()
    voided = runner.invoke(args=["votes", "void", "week", "workers", *map(str, bought),
                                 "--reason", "异议：买票", "--by", "chair@example.test"])
    assert "workers: 3 votes voided" in voided.output
    valid = db.session.scalar(select(Vote.id).where(Vote.entry_id == entries[1].id))
    result = runner.invoke(args=[
        "votes", "restore", "week", "workers", str(bought[0]), str(bought[1]), str(valid),
        "999999", "--reason", "异议不成立", "--by", "chair@example.test"])
    assert result.exit_code == 0, result.output
    assert "workers: 2 votes restored" in result.output
    assert (f"refused 2 (no voided vote of this category): {min(valid, 999999)}, "
            f"{max(valid, 999999)}") in result.output
    assert services.tallies(category)[entries[0].id] == 39
    assert db.session.scalars(select(Vote.id).where(
        Vote.status == VoteStatus.VOIDED)).all() == [bought[2]]
    act = db.session.scalars(select(AuditLog).where(AuditLog.action == "vote.restore")).one()
    assert act.actor_label.startswith("cli:") and act.after["by"] == organiser.email
    assert act.after["about"] == "votes restore (command line)"
    failed = runner.invoke(args=["votes", "restore", "week", "workers", str(bought[2]),
                                 "--reason", " ", "--by", "chair@example.test"])
    assert failed.exit_code != 0 and "恢复原因" in failed.output
    assert services.tallies(category)[entries[0].id] == 39


def test_votes_are_voided_and_restored_by_their_receipt_numbers_from_the_page(
        brushed, organiser, make_category):
    """An objection names receipts of bought votes: the organisers paste them, in whatever way
    they came (lines, commas of either width, 、), and void them with a reason; the numbers of no
    valid vote of the category are named back. Restoring works the same way."""

    category, entries = brushed
    client, user = organiser
    page = "/vote/manage/week/workers/fraud"
    bought = db.session.scalars(select(Vote.id).where(Vote.entry_id == entries[0].id)
                                .order_by(Vote.id).limit(3)).all()
    other = make_category(category.campaign, key="lines", kind="hotline", expert_weight=0,
                          public_weight=1)
    assert other.id
    token = csrf_token(client, page)
    action = BeautifulSoup(client.get(page).get_data(as_text=True), "html.parser").select_one(
        "#receipts form")["action"]
    assert action == "/vote/manage/week/workers/receipts"

    def post(numbers, reason="异议核实：买票", button="void"):
        return client.post(action, data={"csrf_token": token, "numbers": numbers,
                                         "reason": reason, "action": button},
                           follow_redirects=True)

    def voided():
        return db.session.scalars(select(Vote.id).where(
            Vote.status == VoteStatus.VOIDED).order_by(Vote.id)).all()

    for numbers, reason, words in (("", "理由", "请填写回执号"),
                                   (f"{bought[0]}, abc，x1", "理由", "不是回执号：abc、x1"),
                                   (f"{bought[0]}", " ", "请填写原因"),
                                   (" ".join(["1"] * 10_001), "理由", "一次最多 10,000 个回执号")):
        refused = post(numbers, reason)
        assert refused.status_code == 422 and words in refused.get_data(as_text=True), words
    assert voided() == []
    assert client.post(action, data={"csrf_token": token, "numbers": "1", "reason": "理由",
                                     "action": "delete"}).status_code == 400

    answer = post(f"{bought[0]}\n{bought[1]}，{bought[2]}、999999;0").get_data(as_text=True)
    assert "已作废 3 票。" in answer
    assert "未作废（不是本类别的有效投票）：0、999999" in answer
    assert voided() == bought
    assert services.tallies(category)[entries[0].id] == 37
    void = db.session.scalars(select(AuditLog).where(AuditLog.action == "vote.void")).one()
    assert void.after["about"] == "receipts" and void.after["reason"] == "异议核实：买票"
    act = BeautifulSoup(client.get(page).get_data(as_text=True), "html.parser").select_one(
        "#voids .act")
    assert "已作废 3 票" in act.strong.text and "按回执号" in act.get_text()
    assert {v.voided_by_id for v in db.session.scalars(select(Vote).where(
        Vote.id.in_(bought)))} == {user.id}

    answer = post(f"{bought[0]} {bought[1]}", "核实为误判", "restore").get_data(as_text=True)
    assert "已恢复 2 票，重新计入票数。" in answer
    assert voided() == [bought[2]]
    assert services.tallies(category)[entries[0].id] == 39
    answer = post(f"{bought[0]}", "再次", "restore").get_data(as_text=True)
    assert f"未恢复（不是本类别已作废的投票）：{bought[0]}" in answer
    assert services.tallies(category) == services.recount(category) | {}


def test_every_vote_is_exported_as_a_table_for_the_organisers_records(
        app, brushed, organiser, make_user):
    """The vote log as CSV, in the order cast: receipt, the voter's number on the platform (never
    the phone or its hash), entry, day and time in the campaign's zone, status, and a void's
    reason and time; the whole vote or one day; what Excel would run as a formula is not."""
    import csv
    import io

    category, entries = brushed
    client, user = organiser
    first, second = db.session.scalars(select(Vote).order_by(Vote.id).limit(2)).all()
    with app.test_request_context("/", method="POST"):
        services.void_votes(category, [second.id], user, "=HYPERLINK(\"x\")", utcnow())
        db.session.commit()
    page = client.get("/vote/manage/week/workers/fraud").get_data(as_text=True)
    assert 'href="/vote/manage/week/workers/votes.csv"' in page

    response = client.get("/vote/manage/week/workers/votes.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="week-workers-votes.csv"')
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    assert header == ["投票回执号", "投票人编号", "编号", "投票日", "时间", "状态", "作废原因",
                      "作废时间"]
    assert len(rows) == 45 and [int(row[0]) for row in rows] == sorted(
        v.id for v in db.session.scalars(select(Vote)))
    local = first.created_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert rows[0] == [str(first.id), str(first.voter_id), "SW-001",
                       local.date().isoformat(), local.strftime("%Y-%m-%d %H:%M:%S"), "valid",
                       "", ""]
    assert rows[1][5:7] == ["voided", "'=HYPERLINK(\"x\")"] and rows[1][7].startswith("20")
    hashes = {v.net_hmac for v in db.session.scalars(select(Vote))} | {
        v.phone_hmac for v in db.session.scalars(select(Voter))}
    assert not any(value in text for value in hashes if value)

    day = local.date().isoformat()
    one_day = client.get(f"/vote/manage/week/workers/votes.csv?day={day}")
    assert one_day.headers["Content-Disposition"].endswith(f'votes-{day}.csv"')
    days = {row[3] for row in csv.reader(io.StringIO(one_day.get_data().decode("utf-8")[1:]))}
    assert days == {"投票日", day}
    earlier = client.get("/vote/manage/week/workers/votes.csv?day=2020-01-01").get_data()
    assert len(list(csv.reader(io.StringIO(earlier.decode("utf-8")[1:])))) == 1  # the header
    assert client.get("/vote/manage/week/workers/votes.csv?day=yesterday").status_code == 400
    client.set_cookie("lang", "en")
    english = client.get("/vote/manage/week/workers/votes.csv").get_data().decode("utf-8")
    assert english[1:].startswith("Receipt number,Voter,Number,Vote day,Time,Status")


def test_the_vote_log_streams_in_pieces(app):
    from nominations.tabular import stream_csv

    pieces = list(stream_csv(["a"], ([n] for n in range(12_001)), chunk=5_000))
    assert len(pieces) == 3 and pieces[0].startswith("\ufeffa\r\n0\r\n".encode())
    assert b"".join(pieces).decode("utf-8").count("\r\n") == 12_002


def test_the_vote_log_holds_no_write_lock_while_it_streams(app, brushed):
    """A million votes take seconds to send: the votes, and every other write, go on meanwhile.
    (The log is read after its request is gone, where a transaction would count as a write.)"""
    category, _entries = brushed
    rows = services.vote_log(category)
    db.session.rollback()  # the test's own session (outside a request, its reads take the lock)
    first = next(rows)  # the log's transaction is open, the read under way
    assert write_lock_is_free()
    assert [first[0], *(row[0] for row in rows)] == sorted(
        db.session.scalars(select(Vote.id)))


def codes_table(client, page="/vote/manage/week/workers/fraud"):
    soup = BeautifulSoup(client.get(page).get_data(as_text=True), "html.parser")
    section = soup.select_one("#codes")
    rows = [([cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])],
             "attention" in tr.get("class", [])) for tr in section.select("tbody tr")]
    return rows, section.select_one("[role=alert]")


def test_the_monitoring_says_when_codes_stop_being_confirmed(app, voted, organiser):
    """The site's codes of the last hour and day: asked for, confirmed, and the share. When few
    are confirmed (the SMS gateway not delivering, or codes asked for in bulk) the row is marked
    and the page says what to check: voters cannot vote without a code."""
    client, _user = organiser
    now = utcnow()

    def asked(count, confirmed, hours_ago):
        add_codes(count, confirmed, now - timedelta(hours=hours_ago))

    asked(40, 36, hours_ago=20)  # yesterday evening: nine in ten confirmed
    asked(30, 3, hours_ago=0.5)  # the last half hour: one in ten
    asked(5, 0, hours_ago=30)  # past the day: not counted
    rows, alert = codes_table(client)
    assert rows == [(["近 1 小时", "30", "3", "10%"], True), (["近 24 小时", "70", "39", "56%"], False)]
    assert "短信网关可能没有送达" in alert.get_text()
    asked(30, 30, hours_ago=0.2)  # the gateway is back
    rows, alert = codes_table(client)
    assert rows == [(["近 1 小时", "60", "33", "55%"], False), (["近 24 小时", "100", "69", "69%"], False)]
    assert alert is None
