"""Drafts, submission and numbers, withdrawal, the nomination window, and who sees what."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Role
from nominations import services
from nominations.models import Entry, EntryStatus

from ..conftest import csrf_token


def the_entry():
    db.session.expire_all()
    return db.session.scalar(select(Entry).order_by(Entry.id.desc()))


def test_numbers_follow_the_category_prefix_and_are_never_reused(agency_client, nominate,
                                                                  category_of):
    client, _user = agency_client()
    for _ in range(3):
        assert nominate(client, "story").status_code == 302
    prefix = category_of("story").number_prefix
    numbers = db.session.scalars(select(Entry.number).order_by(Entry.id)).all()
    assert numbers == [f"{prefix}-001", f"{prefix}-002", f"{prefix}-003"]
    first = db.session.scalar(select(Entry).order_by(Entry.id))
    url = f"/agency/entries/{first.id}/withdraw"
    assert client.post(url, data={"csrf_token": csrf_token(client, "/agency/")}).status_code == 302
    assert nominate(client, "story").status_code == 302
    assert the_entry().number == f"{prefix}-004"


def test_concurrent_submissions_get_distinct_numbers(app, category_of, make_user):
    """The counter is one atomic UPDATE: parallel submissions never share a number."""
    category_id = category_of("story").id
    agency_user_id = make_user(Role.AGENCY).id
    db.session.commit()
    errors = []

    def submit_one():
        with app.test_request_context("/", method="POST"):
            try:
                from app.models import Category, User

                category = db.session.get(Category, category_id)
                user = db.session.get(User, agency_user_id)
                entry = services.start_entry(category, user, utcnow())
                services.save_entry(entry, "标题", "简介", {}, utcnow(), submit=True)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit_one) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = db.session.scalars(select(Entry.number)).all()
    assert len(numbers) == len(set(numbers)) == 12


def test_a_draft_is_submitted_later_and_keeps_its_id(agency_client, nominate):
    client, _user = agency_client()
    nominate(client, "story", submit=False)
    entry = the_entry()
    url = f"/agency/entries/{entry.id}"
    data = {"title": "改过的标题", "summary": "简介", "author": "作者", "text": "字" * 300,
            "submit": "1", "csrf_token": csrf_token(client, url)}
    assert client.post(url, data=data).status_code == 302
    entry = the_entry()
    assert (entry.title, entry.status) == ("改过的标题", EntryStatus.SUBMITTED) and entry.number


def test_saving_an_approved_entry_as_draft_takes_it_out_of_public_view(
        app, agency_client, nominate, organiser_client, campaign, category_of):
    client, _user = agency_client()
    nominate(client, "story")
    entry = the_entry()
    organiser_client.post(f"/moderation/entries/{entry.id}/approve", data={
        "csrf_token": csrf_token(organiser_client, f"/moderation/entries/{entry.id}")})
    public_url = f"/c/week/story/{entry.number}"
    assert app.test_client().get(public_url).status_code == 200
    url = f"/agency/entries/{entry.id}"
    client.post(url, data={"title": "新标题", "save": "1", "csrf_token": csrf_token(client, url)})
    assert the_entry().status == EntryStatus.DRAFT
    assert app.test_client().get(public_url).status_code == 404


def test_withdraw_and_restore(agency_client, nominate):
    client, _user = agency_client()
    nominate(client, "story")
    entry = the_entry()
    token = csrf_token(client, "/agency/")
    client.post(f"/agency/entries/{entry.id}/withdraw", data={"csrf_token": token})
    assert the_entry().status == EntryStatus.WITHDRAWN
    again = client.post(f"/agency/entries/{entry.id}/withdraw", data={"csrf_token": token},
                        follow_redirects=True)
    assert "该作品已经撤回" in again.get_data(as_text=True)
    client.post(f"/agency/entries/{entry.id}/restore", data={"csrf_token": token})
    restored = the_entry()
    assert restored.status == EntryStatus.DRAFT and restored.number == entry.number


@pytest.mark.parametrize("opens, closes", [(1, 5), (-5, -1)], ids=["not yet open", "closed"])
def test_outside_the_nomination_window_nothing_can_be_nominated(agency_client, make_campaign,
                                                                make_category, opens, closes):
    now = utcnow()
    campaign = make_campaign(nomination_opens=now + timedelta(days=opens),
                             nomination_closes=now + timedelta(days=closes))
    category = make_category(campaign, kind="story")
    client, _user = agency_client()
    url = f"/agency/nominate/{category.id}"
    response = client.get(url, follow_redirects=True)
    assert "该类别目前不在申报时间内" in response.get_data(as_text=True)
    data = {"title": "标题", "save": "1", "csrf_token": csrf_token(client, "/agency/")}
    client.post(url, data=data)
    assert db.session.scalar(select(Entry)) is None


def test_after_the_deadline_an_entry_is_read_only(agency_client, nominate, campaign):
    client, _user = agency_client()
    nominate(client, "story")
    entry = the_entry()
    token = csrf_token(client, "/agency/")
    campaign.nomination_closes = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(f"/agency/entries/{entry.id}").get_data(as_text=True)
    assert "申报已截止，作品不能再修改" in page and "<form method=\"post\" enctype" not in page
    client.post(f"/agency/entries/{entry.id}", data={"title": "迟到的修改", "save": "1",
                                                     "csrf_token": token})
    client.post(f"/agency/entries/{entry.id}/withdraw", data={"csrf_token": token})
    after = the_entry()
    assert (after.title, after.status) == (entry.title, EntryStatus.SUBMITTED)


def test_a_category_window_overrides_the_campaigns(agency_client, make_campaign, make_category):
    now = utcnow()
    campaign = make_campaign()
    early = make_category(campaign, kind="story", nomination_opens=now - timedelta(days=9),
                          nomination_closes=now - timedelta(days=2))
    assert not early.is_open("nomination", now)
    client, _user = agency_client()
    assert "该类别目前不在申报时间内" in client.get(f"/agency/nominate/{early.id}",
                                          follow_redirects=True).get_data(as_text=True)


def test_an_agency_never_sees_or_changes_another_agencys_entries(agency_client, nominate):
    owner, _ = agency_client()
    nominate(owner, "story", submit=False)
    entry = the_entry()
    other, _ = agency_client()
    token = csrf_token(other, "/agency/")
    assert other.get(f"/agency/entries/{entry.id}").status_code == 404
    for action in ("withdraw", "restore"):
        assert other.post(f"/agency/entries/{entry.id}/{action}",
                          data={"csrf_token": token}).status_code == 404
    assert other.post(f"/agency/entries/{entry.id}", data={
        "title": "偷改", "save": "1", "csrf_token": token}).status_code == 404
    assert entry.title not in other.get("/agency/").get_data(as_text=True)
    assert the_entry().title == entry.title


def test_a_pending_agency_cannot_nominate(app, make_user, category_of):
    from app.models import UserStatus

    user = make_user(Role.AGENCY, status=UserStatus.PENDING)
    with pytest.raises(services.NominationError):
        services.start_entry(category_of("story"), user, utcnow())


def test_other_roles_cannot_nominate(app, make_user, login, client, category_of):
    login(make_user(Role.EXPERT))
    assert client.get(f"/agency/nominate/{category_of('story').id}").status_code == 403


def test_every_change_is_in_the_audit_log(agency_client, nominate):
    from app.models import AuditLog

    client, user = agency_client()
    nominate(client, "story")
    rows = db.session.scalars(select(AuditLog).where(AuditLog.object_type == "entry")).all()
    assert {row.action for row in rows} >= {"entry.create"}
    assert all(row.actor_label == user.email for row in rows)
    assert any((row.after or {}).get("status") == "submitted" for row in rows)
