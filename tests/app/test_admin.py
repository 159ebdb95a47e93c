"""The organiser's campaign admin: campaign and category forms, rubric, import/export, audit."""
import io

import pytest
import yaml
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, Campaign, Category, Criterion, Role

CAMPAIGN = {
    "title": "2021年社工宣传周评选", "slug": "sw-2021", "theme": "专业社工", "description": "说明",
    "timezone": "Asia/Shanghai", "objection_days": "7", "is_public": "y",
    "nomination_opens": "2030-03-01T09:00", "nomination_closes": "2030-03-15T18:00",
    "review_opens": "", "review_closes": "", "voting_opens": "2030-03-10T09:00",
    "voting_closes": "2030-03-20T22:00",
}

CATEGORY = {
    "name": "优秀社工", "key": "social_workers", "number_prefix": "sw", "kind": "social_worker",
    "description": "", "winners": "20", "position": "1", "expert_weight": "0.6",
    "public_weight": "0.4", "aggregation": "trimmed", "reviewers_per_entry": "3",
    "votes_per_day": "3", "tally_visibility": "live",
    "criteria-0-name": "专业能力", "criteria-0-description": "", "criteria-0-max_points": "60",
    "criteria-1-name": "服务成效", "criteria-1-description": "成效", "criteria-1-max_points": "40",
    "criteria-2-name": "", "criteria-2-description": "", "criteria-2-max_points": "",
}


@pytest.fixture
def organiser(make_user, login):
    user = make_user(Role.ORGANISER)
    login(user)
    return user


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_organiser_creates_a_campaign_with_windows_in_its_time_zone(client, organiser, post):
    response = post("/admin/campaigns/new", CAMPAIGN)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/campaigns/sw-2021"
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == "sw-2021"))
    assert campaign.is_public and campaign.theme == "专业社工"
    # 09:00 in Shanghai is 01:00 UTC
    assert campaign.nomination_opens.isoformat() == "2030-03-01T01:00:00+00:00"
    assert campaign.review_opens is None
    page = client.get("/admin/campaigns/sw-2021").get_data(as_text=True)
    assert "2021年社工宣传周评选" in page


@pytest.mark.parametrize("field, value, message", [
    ("slug", "Not A Slug", "请使用小写字母、数字和连字符"),
    ("title", "", "请填写标题"),
    ("timezone", "Asia/Atlantis", "未知时区"),
    ("objection_days", "-1", "请填写 0 至 60 天"),
    ("nomination_closes", "2030-02-01T09:00", "截止时间必须晚于开始时间"),
    ("voting_closes", "", "请同时填写开始和截止时间"),
    ("nomination_opens", "not a date", "不是有效的日期与时间值"),
])
def test_an_invalid_campaign_is_refused_with_a_message_and_not_saved(client, organiser, post,
                                                                     field, value, message):
    data = dict(CAMPAIGN, **{field: value})
    response = post("/admin/campaigns/new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(Campaign) == 0


def test_a_taken_slug_is_refused(client, organiser, post, make_campaign):
    make_campaign(slug="sw-2021")
    response = post("/admin/campaigns/new", CAMPAIGN)
    assert response.status_code == 422
    assert "已有其他评选活动使用此链接短名" in response.get_data(as_text=True)
    assert count(Campaign) == 1


def test_editing_a_campaign_shows_its_local_times_and_saves_changes(client, organiser, post):
    post("/admin/campaigns/new", CAMPAIGN)
    form = client.get("/admin/campaigns/sw-2021/edit").get_data(as_text=True)
    assert 'value="2030-03-01T09:00"' in form
    response = post("/admin/campaigns/sw-2021/edit", dict(CAMPAIGN, title="新标题"))
    assert response.status_code == 302
    assert db.session.scalar(select(Campaign.title)) == "新标题"
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "campaign.update")).all()
    assert rows[-1].before == {"title": "2021年社工宣传周评选"}
    assert rows[-1].after == {"title": "新标题"}
    assert rows[-1].actor_label == organiser.email


def test_an_organiser_adds_a_category_with_its_rubric(client, organiser, post):
    post("/admin/campaigns/new", CAMPAIGN)
    response = post("/admin/campaigns/sw-2021/categories/new", CATEGORY)
    assert response.status_code == 302
    category = db.session.scalar(select(Category))
    assert (category.number_prefix, category.expert_weight, category.public_weight) == ("SW", 0.6, 0.4)
    assert [(c.name, c.max_points) for c in category.criteria] == [("专业能力", 60), ("服务成效", 40)]
    assert category.max_points == 100


@pytest.mark.parametrize("changes, message", [
    ({"expert_weight": "0.7"}, "两项权重之和必须为 1"),
    ({"expert_weight": "1.5", "public_weight": "-0.5"}, "请填写 0 至 1 之间的数"),
    ({"criteria-0-name": "", "criteria-0-max_points": "", "criteria-1-name": "",
      "criteria-1-description": "", "criteria-1-max_points": ""}, "至少需要一项评分细则"),
    ({"criteria-1-max_points": ""}, "请填写满分"),
    ({"criteria-1-max_points": "0"}, "请填写 1 至 1000 分"),
    ({"criteria-2-max_points": "10"}, "请填写评分项名称"),
    ({"votes_per_day": "0"}, "每人每天至少可投一票"),
    ({"reviewers_per_entry": "0"}, "每件作品至少需要一位专家"),
    ({"number_prefix": "S1"}, "一至六个大写字母"),
    ({"key": "Social Workers"}, "请使用小写字母、数字和下划线"),
    ({"kind": "poem"}, "不是有效的选择"),
    ({"winners": "0"}, "请填写 1 至 1000 之间的数"),
])
def test_an_invalid_category_is_refused_with_a_message_and_not_saved(client, organiser, post,
                                                                     changes, message):
    post("/admin/campaigns/new", CAMPAIGN)
    response = post("/admin/campaigns/sw-2021/categories/new", dict(CATEGORY, **changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert count(Category) == 0 and count(Criterion) == 0


def test_a_category_with_public_vote_only_needs_no_rubric(client, organiser, post):
    post("/admin/campaigns/new", CAMPAIGN)
    data = dict(CATEGORY, expert_weight="0", public_weight="1", reviewers_per_entry="0",
                **{"criteria-0-name": "", "criteria-0-max_points": "", "criteria-1-name": "",
                   "criteria-1-description": "", "criteria-1-max_points": ""})
    assert post("/admin/campaigns/sw-2021/categories/new", data).status_code == 302
    category = db.session.scalar(select(Category))
    assert category.has_public_vote and not category.has_review


def test_editing_a_rubric_updates_adds_and_removes_rows(client, organiser, post):
    post("/admin/campaigns/new", CAMPAIGN)
    post("/admin/campaigns/sw-2021/categories/new", CATEGORY)
    form = client.get("/admin/campaigns/sw-2021/categories/social_workers/edit").get_data(as_text=True)
    assert 'value="专业能力"' in form and 'name="criteria-3-name"' in form  # two spare rows
    first_id = db.session.scalar(select(Criterion.id).order_by(Criterion.position))
    data = dict(CATEGORY, **{"criteria-0-max_points": "50", "criteria-1-name": "",
                             "criteria-1-description": "", "criteria-1-max_points": "",
                             "criteria-2-name": "职业精神", "criteria-2-max_points": "50"})
    assert post("/admin/campaigns/sw-2021/categories/social_workers/edit", data).status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(select(Criterion).order_by(Criterion.position)).all()
    assert [(r.name, r.max_points) for r in rows] == [("专业能力", 50), ("职业精神", 50)]
    assert rows[0].id == first_id  # kept, not recreated


def test_two_categories_cannot_share_a_key_or_prefix(client, organiser, post):
    post("/admin/campaigns/new", CAMPAIGN)
    post("/admin/campaigns/sw-2021/categories/new", CATEGORY)
    again = post("/admin/campaigns/sw-2021/categories/new", dict(CATEGORY, number_prefix="XX"))
    assert again.status_code == 422 and "本活动已有其他类别使用此标识" in again.get_data(as_text=True)
    again = post("/admin/campaigns/sw-2021/categories/new", dict(CATEGORY, key="other"))
    assert again.status_code == 422 and "编号前缀" in again.get_data(as_text=True)
    assert count(Category) == 1


def test_deleting_a_category(client, organiser, post):
    post("/admin/campaigns/new", CAMPAIGN)
    post("/admin/campaigns/sw-2021/categories/new", CATEGORY)
    assert post("/admin/campaigns/sw-2021/categories/social_workers/delete", {}).status_code == 302
    assert count(Category) == 0 and count(Criterion) == 0
    assert "category.delete" in db.session.scalars(select(AuditLog.action)).all()


def test_a_category_with_entries_cannot_be_deleted(client, organiser, post, demo):
    response = post("/admin/campaigns/gz-2020-social-work-week/categories/hotlines/delete", {},
                    follow_redirects=True)
    assert "该类别已有参评作品，不能删除" in response.get_data(as_text=True)
    assert count(Category) == 5


def test_export_and_import_in_the_browser(client, organiser, post, demo):
    exported = client.get("/admin/campaigns/gz-2020-social-work-week/export")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"].endswith('gz-2020-social-work-week.yaml"')
    data = yaml.safe_load(exported.get_data(as_text=True))
    data["slug"] = "gz-copy"
    upload = io.BytesIO(yaml.safe_dump(data, allow_unicode=True).encode())
    response = post("/admin/campaigns/import", {"file": (upload, "活动.yaml")})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/campaigns/gz-copy"
    assert count(Campaign) == 2


def test_a_bad_file_imported_in_the_browser_lists_its_problems(client, organiser, post):
    upload = io.BytesIO(b"slug: BAD\ntitle: ''\ncategories: []\n")
    response = post("/admin/campaigns/import", {"file": (upload, "bad.yaml")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "文件未导入" in html and "请填写标题" in html and "<td>2</td>" in html
    assert count(Campaign) == 0


def test_the_audit_log_page_lists_changes_newest_first(client, organiser, post):
    post("/admin/campaigns/new", CAMPAIGN)
    post("/admin/campaigns/sw-2021/edit", dict(CAMPAIGN, title="改过的标题"))
    html = client.get("/admin/audit").get_data(as_text=True)
    table = str(BeautifulSoup(html, "html.parser").select_one("table.audit"))
    assert table.index("campaign.update") < table.index("campaign.create")
    assert "改过的标题" in table and organiser.email in table


def test_the_audit_page_shows_times_in_the_campaigns_zone_and_cuts_long_values(
        client, organiser):
    """The log keeps every value whole; its page shows a time as people read it (Beijing time)
    and the first 200 characters of a long text with its length, never a page of one value."""
    db.session.add(AuditLog(action="entry.update", object_type="entry", object_id="7",
                            actor_label="cli:root",
                            before={"summary": "短", "decided_at": None},
                            after={"summary": "长" * 5000,
                                   "decided_at": "2026-11-23T16:56:21.346650+00:00"}))
    db.session.commit()
    change = BeautifulSoup(client.get("/admin/audit").get_data(as_text=True),
                           "html.parser").select("table.audit tbody tr")[0].select("span.change")
    shown = {span.b.get_text(): span.get_text().split(": ", 1)[1] for span in change}
    assert shown["decided_at"] == "— → 2026-11-24 00:56"
    assert shown["summary"] == "短 → " + "长" * 200 + "…（共 5000 字）"


def test_the_audit_log_narrows_to_a_kind_of_change_a_person_and_an_object(client, organiser):
    """A real campaign logs thousands of changes: the organiser finds the voids of one category,
    or what one person changed, and pages through only those."""
    rows = [("vote.void", "category", "12", "chair@example.test"),
            ("vote.restore", "category", "12", "chair@example.test"),
            ("vote.void", "category", "13", "cli:root"),
            ("entry.update", "entry", "7", "agency@example.test")]
    db.session.add_all(AuditLog(action=action, object_type=kind, object_id=id_, actor_label=who,
                                after={"votes": 1}) for action, kind, id_, who in rows)
    db.session.add_all(AuditLog(action="review.update", object_type="review", object_id=str(n),
                                actor_label="expert@example.test", after={"status": "draft"})
                       for n in range(60))
    db.session.commit()

    def listed(url):
        soup = BeautifulSoup(client.get(url).get_data(as_text=True), "html.parser")
        return ([(tr.select("td")[2].get_text(" ", strip=True), tr.select("td")[1].get_text())
                 for tr in soup.select("table.audit tbody tr") if not tr.select(".empty")],
                [option["value"] for option in soup.select("select[name=action] option")],
                [a["href"] for a in soup.select(".pager a")])

    shown, actions, _pages = listed("/admin/audit?action=vote.void")
    assert shown == [("vote.void #13", "cli:root"), ("vote.void #12", "chair@example.test")]
    assert {"", "vote.void", "vote.restore", "entry.update", "review.update"} <= set(actions)
    shown, _actions, _pages = listed("/admin/audit?who=CHAIR@")
    assert shown == [("vote.restore #12", "chair@example.test"),
                     ("vote.void #12", "chair@example.test")]
    shown, _actions, _pages = listed("/admin/audit?object=category:12&action=vote.restore")
    assert shown == [("vote.restore #12", "chair@example.test")]
    assert listed("/admin/audit?who=%25")[0] == []  # a wildcard is a character, not "anything"
    page = client.get("/admin/audit?action=no.such").get_data(as_text=True)
    assert "没有符合条件的变更" in page and "共 0 条变更" in page
    shown, _actions, pages = listed("/admin/audit?action=review.update")
    assert len(shown) == 50 and pages == ["/admin/audit?page=2&action=review.update"]
    shown, _actions, _pages = listed(pages[0])
    assert len(shown) == 10 and {what for what, _who in shown} <= {
        f"review.update #{n}" for n in range(60)}
