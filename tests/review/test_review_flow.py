"""Panels and assignment in the browser, scoring, locking, conflicts, blind review, reminders."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Role
from nominations.models import Entry, EntryStatus
from review.models import Conflict, Review, ReviewStatus

from ..conftest import csrf_token
from .conftest import sign_in


def reviews_of(expert):
    db.session.expire_all()
    return db.session.scalars(select(Review).where(Review.expert_id == expert.id)
                              .order_by(Review.id)).all()


def score_data(category, points, client, url, submit=True, comment="好"):
    data = {f"c{c.id}": value for c, value in zip(category.criteria, points, strict=False)}
    data.update({"comment": comment, "csrf_token": csrf_token(client, url)})
    data["submit" if submit else "save"] = "1"
    return data


def test_assignment_covers_every_entry_without_own_agency(setup, panel):
    html = panel.get_data(as_text=True)
    assert "新分配 8 份" in html and "每件审核通过的作品都已分配专家" in html
    affiliated = setup.experts[0]
    agency_a = setup.agencies[0].id
    assert all(r.entry.agency_id != agency_a for r in reviews_of(affiliated))
    # The affiliated expert can take only agency B's two entries; the others share the rest.
    assert [len(reviews_of(expert)) for expert in setup.experts] == [2, 3, 3]


def test_a_panel_too_small_is_reported(setup, organiser):
    url = "/review/manage/week/stories/"
    organiser.post(url + "panel", data={"expert": setup.experts[0].id,
                                        "csrf_token": csrf_token(organiser, url)})
    html = organiser.post(url + "assign", data={"csrf_token": csrf_token(organiser, url)}
                          ).get_data(as_text=True)
    assert "4 件作品专家人数不足" in html
    assert "还差 2 位：评审组共 1 位专家，其中 1 位来自该作品所属机构" in html


def test_an_expert_sees_only_their_own_assignments(app, setup, panel):
    first, second = setup.experts[1], setup.experts[2]
    client = sign_in(app, first)
    html = client.get("/review/").get_data(as_text=True)
    mine = reviews_of(first)
    for review in mine:
        assert review.entry.number in html
    others = [r for r in reviews_of(second) if r.entry_id not in {m.entry_id for m in mine}]
    for review in reviews_of(second):
        assert client.get(f"/review/{review.id}").status_code == 404
    for review in others:
        assert review.entry.number not in html


def test_draft_then_submit_then_locked(app, setup, panel):
    expert = setup.experts[1]
    client = sign_in(app, expert)
    review = reviews_of(expert)[0]
    url = f"/review/{review.id}"
    category = setup.category
    assert client.post(url, data=score_data(category, [50], client, url, submit=False)
                       ).status_code == 302
    saved = reviews_of(expert)[0]
    assert saved.status == ReviewStatus.DRAFT
    assert saved.points == {str(category.criteria[0].id): 50}
    missing = client.post(url, data=score_data(category, [50], client, url))
    assert "提交前每一项都需要评分" in missing.get_data(as_text=True)
    too_many = client.post(url, data=score_data(category, [50, 41], client, url))
    assert too_many.status_code == 422 and "请给 0 至 40 分" in too_many.get_data(as_text=True)
    negative = client.post(url, data=score_data(category, [-1, 40], client, url))
    assert negative.status_code == 422
    assert client.post(url, data=score_data(category, [55, 35], client, url)).status_code == 302
    locked = reviews_of(expert)[0]
    assert locked.status == ReviewStatus.SUBMITTED and locked.total(category.criteria) == 90
    again = client.post(url, data=score_data(category, [1, 1], client, url))
    assert "该评审已提交并锁定" in again.get_data(as_text=True)
    assert reviews_of(expert)[0].points == locked.points


def test_an_organiser_reopens_a_submitted_review(app, setup, panel, organiser):
    expert = setup.experts[1]
    client = sign_in(app, expert)
    review = reviews_of(expert)[0]
    url = f"/review/{review.id}"
    client.post(url, data=score_data(setup.category, [55, 35], client, url))
    organiser.post(f"/review/manage/reviews/{review.id}/reopen",
                   data={"csrf_token": csrf_token(organiser, "/review/manage/week/stories/")})
    assert reviews_of(expert)[0].status == ReviewStatus.DRAFT
    assert client.post(url, data=score_data(setup.category, [60, 40], client, url)
                       ).status_code == 302
    assert reviews_of(expert)[0].total(setup.category.criteria) == 100


def test_after_the_review_window_nothing_changes(app, setup, panel, organiser):
    expert = setup.experts[1]
    client = sign_in(app, expert)
    review = reviews_of(expert)[0]
    url = f"/review/{review.id}"
    token = csrf_token(client, url)
    client.post(url, data=score_data(setup.category, [55, 35], client, url))
    setup.campaign.review_closes = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "该评审已锁定" in page
    organiser.post(f"/review/manage/reviews/{review.id}/reopen",
                   data={"csrf_token": csrf_token(organiser, "/review/manage/week/stories/")})
    assert reviews_of(expert)[0].status == ReviewStatus.SUBMITTED
    other = reviews_of(expert)[1]
    client.post(f"/review/{other.id}", data={f"c{c.id}": 1 for c in setup.category.criteria}
                | {"csrf_token": token, "submit": "1"})
    assert reviews_of(expert)[1].status == ReviewStatus.ASSIGNED


def test_a_conflict_hands_the_entry_to_another_expert_for_good(app, setup, organiser):
    url = "/review/manage/week/stories/"
    for expert in setup.experts:
        organiser.post(url + "panel", data={"expert": expert.id,
                                            "csrf_token": csrf_token(organiser, url)})
    setup.category.reviewers_per_entry = 1
    db.session.commit()
    organiser.post(url + "assign", data={"csrf_token": csrf_token(organiser, url)})
    expert = setup.experts[1]
    review = reviews_of(expert)[0]
    entry_id = review.entry_id
    client = sign_in(app, expert)
    response = client.post(f"/review/{review.id}/conflict", data={
        "reason": "认识该机构负责人", "csrf_token": csrf_token(client, f"/review/{review.id}")})
    assert response.status_code == 302
    assert entry_id not in {r.entry_id for r in reviews_of(expert)}
    db.session.expire_all()
    holders = db.session.scalars(select(Review.expert_id).where(Review.entry_id == entry_id)).all()
    assert len(holders) == 1 and holders[0] != expert.id
    assert db.session.scalar(select(Conflict).where(Conflict.entry_id == entry_id)).reason == (
        "认识该机构负责人")
    organiser.post(url + "assign", data={"csrf_token": csrf_token(organiser, url)})
    assert entry_id not in {r.entry_id for r in reviews_of(expert)}


def test_blind_review_hides_agency_and_names(app, setup, panel):
    setup.category.blind_review = True
    db.session.commit()
    expert = setup.experts[1]
    client = sign_in(app, expert)
    review = reviews_of(expert)[0]
    html = client.get(f"/review/{review.id}").get_data(as_text=True)
    assert review.entry.agency.name not in html
    assert review.entry.details["author"] not in html
    assert "匿名评审" in html
    setup.category.blind_review = False
    db.session.commit()
    assert review.entry.agency.name in client.get(f"/review/{review.id}").get_data(as_text=True)


def test_reminders_go_to_experts_with_work_left(app, setup, panel, organiser, caplog):
    expert = setup.experts[1]
    client = sign_in(app, expert)
    for review in reviews_of(expert):
        url = f"/review/{review.id}"
        client.post(url, data=score_data(setup.category, [50, 30], client, url))
    with caplog.at_level("INFO", logger="app.mail"):
        response = organiser.post("/review/manage/week/stories/remind", data={
            "csrf_token": csrf_token(organiser, "/review/manage/week/stories/")},
            follow_redirects=True)
    assert "已向 2 位尚有待评作品的专家发送提醒" in response.get_data(as_text=True)
    assert setup.experts[0].email in caplog.text and setup.experts[2].email in caplog.text
    assert f"mail to {expert.email}" not in caplog.text


def test_progress_leniency_and_methods_pages(app, setup, panel, organiser):
    for expert, points in zip(setup.experts, ([60, 40], [30, 20], [45, 30]), strict=True):
        client = sign_in(app, expert)
        for review in reviews_of(expert):
            url = f"/review/{review.id}"
            client.post(url, data=score_data(setup.category, points, client, url))
    manage = organiser.get("/review/manage/week/stories/").get_data(as_text=True)
    assert "甲专家" in manage and "2 / 2" in manage
    leniency = organiser.get("/review/manage/week/stories/leniency").get_data(as_text=True)
    assert "甲专家" in leniency and "评审少于 5 份" in leniency
    methods = organiser.get("/review/manage/week/stories/methods").get_data(as_text=True)
    for entry in setup.entries:
        assert entry.number in methods
    for name in ("专家评分平均值", "去掉一个最高分和一个最低分后取平均", "按专家标准化（z 分数）"):
        assert name in methods

    app.config["ADMIN_PAGE_SIZE"] = 1  # two rows a page: every entry once, in rank order
    pages = [organiser.get(f"/review/manage/week/stories/methods?page={n}").get_data(
        as_text=True) for n in (1, 2)]
    paged = [re.findall(r'<td class="nowrap">([A-Z]+-\d+)</td>', html) for html in pages]
    assert sorted(paged[0] + paged[1]) == sorted(e.number for e in setup.entries)
    assert len(paged[0]) == 2 and "第 1 页" in pages[0]


def test_progress_counts_each_experts_reviews_by_status_in_this_category_only(
        app, setup, panel, make_category):
    from collections import Counter

    from review import services

    drafter, submitter = setup.experts[0], setup.experts[1]
    client = sign_in(app, drafter)
    first, second = reviews_of(drafter)[:2]
    client.post(f"/review/{first.id}", data=score_data(
        setup.category, [40, 20], client, f"/review/{first.id}", submit=False))
    client.post(f"/review/{second.id}", data=score_data(
        setup.category, [40, 20], client, f"/review/{second.id}"))
    client = sign_in(app, submitter)
    for review in reviews_of(submitter):
        client.post(f"/review/{review.id}", data=score_data(
            setup.category, [30, 20], client, f"/review/{review.id}"))
    other = make_category(setup.campaign, key="cases", kind="case")
    stranger = Entry(category=other, agency=setup.agencies[1], title="别类作品", number="AL-001",
                     status=EntryStatus.APPROVED, summary="简介", details={})
    db.session.add_all([stranger, Review(entry=stranger, expert=drafter,
                                         status=ReviewStatus.SUBMITTED)])
    db.session.commit()

    by_expert, by_entry = services.progress(setup.category)

    expected_experts, expected_entries = {}, Counter()
    for review in db.session.scalars(select(Review).where(Review.entry_id.in_(
            [entry.id for entry in setup.entries]))):
        expected_experts.setdefault(review.expert_id, Counter())[review.status.value] += 1
        if review.status == ReviewStatus.SUBMITTED:
            expected_entries[review.entry_id] += 1
    assert dict(by_expert) == expected_experts
    assert by_entry == expected_entries
    assert by_expert[drafter.id]["draft"] == 1 and by_expert[drafter.id]["submitted"] == 1
    assert by_expert[submitter.id]["submitted"] == len(reviews_of(submitter))
    assert stranger.id not in by_entry


def test_manual_assignment_respects_the_same_exclusions(setup, panel, organiser):
    url = "/review/manage/week/stories/"
    affiliated = setup.experts[0]
    own_entry = setup.entries[0]
    response = organiser.post(url + "assign-one", data={
        "entry": own_entry.id, "expert": affiliated.id, "csrf_token": csrf_token(organiser, url)},
        follow_redirects=True)
    assert "专家不评审本机构的作品" in response.get_data(as_text=True)


def test_the_rubric_cannot_change_once_scores_exist(app, setup, panel, organiser):
    expert = setup.experts[1]
    client = sign_in(app, expert)
    review = reviews_of(expert)[0]
    url = f"/review/{review.id}"
    client.post(url, data=score_data(setup.category, [50], client, url, submit=False))
    edit = "/admin/campaigns/week/categories/stories/edit"
    category = setup.category
    data = {"name": category.name, "key": "stories", "number_prefix": category.number_prefix,
            "kind": "story", "winners": "2", "position": "0", "expert_weight": "1",
            "public_weight": "0", "aggregation": "mean", "reviewers_per_entry": "2",
            "votes_per_day": "0", "tally_visibility": "live",
            "criteria-0-name": "专业性", "criteria-0-max_points": "50",
            "criteria-1-name": "成效", "criteria-1-max_points": "50",
            "csrf_token": csrf_token(organiser, edit)}
    response = organiser.post(edit, data=data)
    assert response.status_code == 422
    assert "专家已开始评分" in response.get_data(as_text=True)


def test_invited_expert_sets_a_password_and_signs_in(app, organiser, caplog):
    import re

    with caplog.at_level("INFO", logger="app.mail"):
        response = organiser.post("/admin/experts/invite", data={
            "name": "新专家", "email": "new.expert@example.com", "agency": "0",
            "csrf_token": csrf_token(organiser, "/admin/experts/invite")})
    assert response.status_code == 302
    link = re.search(r"http://127\.0\.0\.1:5000(/auth/invitation/\S+)", caplog.text).group(1)
    visitor = app.test_client()
    refused = visitor.post("/auth/login", data={"email": "new.expert@example.com",
                                                "password": "whatever123",
                                                "csrf_token": csrf_token(visitor)})
    assert refused.status_code == 200
    done = visitor.post(link, data={"password": "expert password 1",
                                    "confirm": "expert password 1",
                                    "csrf_token": csrf_token(visitor, link)})
    assert done.status_code == 302
    signed_in = visitor.post("/auth/login", data={"email": "new.expert@example.com",
                                                  "password": "expert password 1",
                                                  "csrf_token": csrf_token(visitor)})
    assert signed_in.status_code == 302
    assert visitor.get(link).status_code == 302  # the link works once


@pytest.mark.parametrize("role", [Role.AGENCY, Role.EXPERT])
def test_only_organisers_manage_reviews(app, setup, make_user, role):
    client = sign_in(app, make_user(role))
    assert client.get("/review/manage/week/stories/").status_code == 403


def test_the_methods_table_marks_entries_whose_winning_depends_on_the_method(app, setup, panel):
    """Hand-made scores: GS-001 wins by the mean but not once the extremes are dropped."""
    from review.views.manage import method_table

    by_entry = {}
    for review in db.session.scalars(select(Review)):
        by_entry.setdefault(review.entry.number, []).append(review)
    criteria = setup.category.criteria
    # every entry has two reviews; totals out of 100
    wanted = {"GS-001": (100, 0), "GS-002": (45, 45), "GS-003": (60, 60), "GS-004": (10, 10)}
    for number, totals in wanted.items():
        for review, total in zip(by_entry[number], totals, strict=True):
            review.points = {str(criteria[0].id): min(total, 60),
                             str(criteria[1].id): max(0, total - 60)}
            review.status = ReviewStatus.SUBMITTED
    db.session.commit()
    rows = {row["entry"].number: row for row in method_table(setup.category)}
    assert rows["GS-003"]["mean"] == (60.0, 1, True)
    assert rows["GS-001"]["mean"] == (50.0, 2, True)
    assert rows["GS-002"]["mean"] == (45.0, 3, False)
    assert rows["GS-004"]["reviews"] == 2 and not rows["GS-004"]["changes"]


def test_the_entries_list_of_a_large_category_is_paged_searched_and_kept_in_place(
        setup, panel, organiser):
    """A city's category holds a thousand entries, each with its experts' forms: the overview
    lists 50 at a time (a thousand made a page of 2 MB), finds one by number, title or agency,
    shows only those short of experts, and an action sends the organiser back where they were."""
    from nominations.models import Entry, EntryStatus

    agency = setup.agencies[1]
    db.session.add_all([Entry(category=setup.category, agency=agency, title=f"新作品{i}",
                              number=f"GS-{i:03d}", status=EntryStatus.APPROVED, summary="简介",
                              details={"author": "作者", "text": "正文"})
                        for i in range(100, 160)])
    db.session.commit()
    url = "/review/manage/week/stories/"

    def numbers(html):
        return re.findall(r'<td class="nowrap"[^>]*>(GS-\d+)</td>', html)

    first = organiser.get(url).get_data(as_text=True)
    assert "64 件审核通过的作品" in first
    assert numbers(first) == ["GS-001", "GS-002", "GS-003", "GS-004"] + [
        f"GS-{i:03d}" for i in range(100, 146)]
    second = organiser.get(url + "?page=2").get_data(as_text=True)
    assert numbers(second) == [f"GS-{i:03d}" for i in range(146, 160)]
    assert numbers(organiser.get(url + "?q=gs-123").get_data(as_text=True)) == ["GS-123"]
    short = organiser.get(url + "?short=1").get_data(as_text=True)
    assert numbers(short)[:2] == ["GS-100", "GS-101"] and "GS-001" not in numbers(short)

    review = db.session.scalar(select(Review).where(Review.entry_id == setup.entries[0].id))
    response = organiser.post(
        f"/review/manage/reviews/{review.id}/remove?page=1&q=GS-00", data={
            "csrf_token": csrf_token(organiser, url)})
    assert response.status_code == 302 and response.location.endswith(
        "/review/manage/week/stories/?page=1&q=GS-00")
