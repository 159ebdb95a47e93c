"""Organisers moderate a queue per category; the agency sees the reason for a rejection."""
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import AuditLog, Role, UserStatus
from nominations.models import Entry, EntryStatus

from ..conftest import csrf_token


@pytest.fixture
def submitted(agency_client, nominate):
    """Three submitted stories by one agency and a draft; returns (agency client, entries)."""
    client, _user = agency_client()
    for title in ("凌晨两点的电话", "楼道里的接力", "社区守望者"):
        nominate(client, "story", title=title)
    nominate(client, "story", title="尚未提交的草稿", submit=False)
    return client, db.session.scalars(select(Entry).order_by(Entry.id)).all()


QUEUE = "/moderation/week/story/"


def test_the_queue_lists_submitted_entries_and_never_drafts(organiser_client, submitted):
    html = organiser_client.get(QUEUE).get_data(as_text=True)
    assert "凌晨两点的电话" in html and "社区守望者" in html
    assert "尚未提交的草稿" not in html
    tabs = [" ".join(a.get_text().split()) for a in BeautifulSoup(html, "html.parser").select(
        "nav.tabs a")]
    assert tabs[0] == "已提交，待审核 (3)" and tabs[1] == "已通过 (0)"


@pytest.mark.parametrize("query, expected", [
    ("楼道", ["楼道里的接力"]),
    ("002", ["楼道里的接力"]),
    ("测试机构", ["凌晨两点的电话", "楼道里的接力", "社区守望者"]),
    ("100%", []),
    ("' OR 1=1 --", []),
])
def test_the_queue_can_be_searched(organiser_client, submitted, query, expected):
    html = organiser_client.get(QUEUE, query_string={"q": query}).get_data(as_text=True)
    titles = ["凌晨两点的电话", "楼道里的接力", "社区守望者"]
    assert [t for t in titles if t in html] == expected


def test_approve_and_reject_with_a_reason_the_agency_sees(organiser_client, submitted):
    agency, entries = submitted
    first, second = entries[0], entries[1]
    token = csrf_token(organiser_client, f"/moderation/entries/{first.id}")
    assert organiser_client.post(f"/moderation/entries/{first.id}/approve",
                                 data={"csrf_token": token}).status_code == 302
    no_reason = organiser_client.post(f"/moderation/entries/{second.id}/reject",
                                      data={"csrf_token": token, "reason": "  "})
    assert no_reason.status_code == 422 and "请填写原因" in no_reason.get_data(as_text=True)
    organiser_client.post(f"/moderation/entries/{second.id}/reject",
                          data={"csrf_token": token, "reason": "照片涉及服务对象隐私"})
    db.session.expire_all()
    assert db.session.get(Entry, first.id).status == EntryStatus.APPROVED
    rejected = db.session.get(Entry, second.id)
    assert (rejected.status, rejected.rejection_reason) == (EntryStatus.REJECTED, "照片涉及服务对象隐私")
    assert "照片涉及服务对象隐私" in agency.get("/agency/").get_data(as_text=True)
    approved_html = organiser_client.get(QUEUE, query_string={"status": "approved"}).get_data(
        as_text=True)
    assert "凌晨两点的电话" in approved_html and "楼道里的接力" not in approved_html
    decisions = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "entry.update", AuditLog.object_id == str(second.id))).all()
    assert any(row.after.get("status") == "rejected" for row in decisions)
    # the entry's page leads to its own changes in the audit log: the agency's, the decision
    page = organiser_client.get(f"/moderation/entries/{second.id}").get_data(as_text=True)
    link = f"/admin/audit?object=entry:{second.id}"
    assert f'href="{link}"' in page
    log = organiser_client.get(link).get_data(as_text=True)
    assert "照片涉及服务对象隐私" in log and f"entry.update</code> #{second.id}" in log
    assert f"</code> #{first.id}<" not in log


def test_a_resubmission_clears_the_old_reason(organiser_client, submitted):
    agency, entries = submitted
    entry = entries[0]
    token = csrf_token(organiser_client, f"/moderation/entries/{entry.id}")
    organiser_client.post(f"/moderation/entries/{entry.id}/reject",
                          data={"csrf_token": token, "reason": "请补充照片"})
    url = f"/agency/entries/{entry.id}"
    agency.post(url, data={"title": entry.title, "summary": "简介", "author": "作者",
                           "text": "字" * 300, "submit": "1", "csrf_token": csrf_token(agency, url)})
    db.session.expire_all()
    again = db.session.get(Entry, entry.id)
    assert (again.status, again.rejection_reason) == (EntryStatus.SUBMITTED, "")


def test_a_draft_cannot_be_moderated(organiser_client, submitted):
    draft = submitted[1][-1]
    assert organiser_client.get(f"/moderation/entries/{draft.id}").status_code == 404
    token = csrf_token(organiser_client, QUEUE)
    organiser_client.post(f"/moderation/entries/{draft.id}/approve", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Entry, draft.id).status == EntryStatus.DRAFT


@pytest.mark.parametrize("role", [Role.AGENCY, Role.EXPERT])
def test_only_organisers_moderate(app, submitted, make_user, login, client, role):
    login(make_user(role))
    entry = submitted[1][0]
    assert client.get(QUEUE).status_code == 403
    assert client.post(f"/moderation/entries/{entry.id}/approve",
                       data={"csrf_token": csrf_token(client, "/auth/home")}).status_code == 403


def mails_to(caplog, email):
    """The mails the console sender logged for ``email``, each as its whole logged text."""
    return [record.getMessage() for record in caplog.records
            if record.name == "app.mail" and record.getMessage().startswith(f"mail to {email}:")]


def test_the_agency_hears_of_each_decision_by_mail(app, organiser_client, submitted, make_user,
                                                  caplog):
    """Every active account of the agency is told: an approval with the public page, a
    rejection with its reason and how long it can be revised; deciding the same again mails
    nobody, and a disabled account or an expert of the agency hears nothing."""
    _agency, entries = submitted
    first, second = entries[0], entries[1]
    member = first.agency.members[0]
    colleague = make_user(Role.AGENCY, agency=first.agency)
    departed = make_user(Role.AGENCY, agency=first.agency, status=UserStatus.DISABLED)
    expert = make_user(Role.EXPERT, agency=first.agency)  # an expert of the agency reviews, not nominates
    token = csrf_token(organiser_client, f"/moderation/entries/{first.id}")
    with caplog.at_level("INFO", logger="app.mail"):
        organiser_client.post(f"/moderation/entries/{first.id}/approve", data={"csrf_token": token})
        organiser_client.post(f"/moderation/entries/{second.id}/reject",
                              data={"csrf_token": token, "reason": "照片涉及服务对象隐私"})
        organiser_client.post(f"/moderation/entries/{first.id}/approve", data={"csrf_token": token})
    for email in (member.email, colleague.email):
        approved, rejected = mails_to(caplog, email)
        assert f"已通过审核：{first.number} 凌晨两点的电话" in approved
        assert f"http://127.0.0.1:5000/c/week/story/{first.number}" in approved
        assert f"未通过审核：{second.number} 楼道里的接力" in rejected
        assert "原因：照片涉及服务对象隐私" in rejected
        closes = first.category.campaign.local(first.category.window("nomination")[1])
        assert f"{closes:%Y-%m-%d %H:%M} 前可修改后重新提交" in rejected
        assert f"http://127.0.0.1:5000/agency/entries/{second.id}" in rejected
    assert mails_to(caplog, departed.email) == mails_to(caplog, expert.email) == []


def test_after_the_deadline_a_rejection_says_nominations_are_closed(app, organiser_client,
                                                                   submitted, caplog):
    _agency, entries = submitted
    entry = entries[0]
    entry.category.nomination_closes = utcnow() - timedelta(minutes=1)
    db.session.commit()
    token = csrf_token(organiser_client, f"/moderation/entries/{entry.id}")
    with caplog.at_level("INFO", logger="app.mail"):
        organiser_client.post(f"/moderation/entries/{entry.id}/reject",
                              data={"csrf_token": token, "reason": "材料不全"})
    rejected, = mails_to(caplog, entry.agency.members[0].email)
    assert "原因：材料不全" in rejected and "申报已截止" in rejected
    assert "/agency/entries/" not in rejected


def test_a_refused_decision_mails_nobody(app, organiser_client, submitted, caplog):
    """A rejection without a reason changes nothing, so it tells nobody anything."""
    _agency, entries = submitted
    token = csrf_token(organiser_client, f"/moderation/entries/{entries[0].id}")
    with caplog.at_level("INFO", logger="app.mail"):
        response = organiser_client.post(f"/moderation/entries/{entries[0].id}/reject",
                                          data={"csrf_token": token, "reason": " "})
    assert response.status_code == 422
    assert mails_to(caplog, entries[0].agency.members[0].email) == []
