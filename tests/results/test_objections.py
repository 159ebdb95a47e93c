"""The 公示 practice: objections during the window, answered with an outcome, then the final list."""
from datetime import timedelta

from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from results.models import Objection, ObjectionOutcome, Publication

from ..conftest import csrf_token

PREVIEW = "/results/manage/week/workers/"


def publish(client, kind):
    return client.post(PREVIEW + "publish", data={"kind": kind, "csrf_token": csrf_token(
        client, PREVIEW)}, follow_redirects=True)


def object_to(client, **data):
    url = "/results/week/workers/objections"
    data.setdefault("csrf_token", csrf_token(client, url))
    return client.post(url, data=data)


def test_objection_workflow_end_to_end(app, contest, organiser_client):
    assert "请先发布公示名单" in publish(organiser_client, "final").get_data(as_text=True)
    publish(organiser_client, "provisional")
    citizen = app.test_client()
    assert "提出异议" in citizen.get("/results/week/").get_data(as_text=True)
    sent = object_to(citizen, entry="SW-002", reason="票数异常", contact="13812345678")
    assert sent.status_code == 302
    objection = db.session.scalar(select(Objection))
    assert (objection.entry_number, objection.contact) == ("SW-002", "13812345678")
    assert "13812345678" not in citizen.get("/results/week/").get_data(as_text=True)
    # the organiser answering it is shown where votes are voided or restored by receipt number
    preview = organiser_client.get(PREVIEW).get_data(as_text=True)
    assert 'href="/vote/manage/week/workers/fraud#receipts"' in preview

    # the final list waits for the window and for the answer
    assert "异议期尚未结束" in publish(organiser_client, "final").get_data(as_text=True)
    publication = db.session.scalar(select(Publication))
    publication.published_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert "1 条异议尚未答复" in publish(organiser_client, "final").get_data(as_text=True)
    answered = organiser_client.post(f"/results/manage/objections/{objection.id}", data={
        "outcome": "dismissed", "answer": "经核查，投票正常。",
        "csrf_token": csrf_token(organiser_client, PREVIEW)}, follow_redirects=True)
    assert "答复已记录" in answered.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Objection, objection.id).outcome == ObjectionOutcome.DISMISSED
    assert "已发布第 2 版" in publish(organiser_client, "final").get_data(as_text=True)
    assert "最终结果" in citizen.get("/results/week/").get_data(as_text=True)


def test_objections_are_refused_after_the_window_or_for_unlisted_entries(app, contest,
                                                                        organiser_client):
    publish(organiser_client, "provisional")
    citizen = app.test_client()
    unknown = object_to(citizen, entry="SW-999", reason="x", contact="a@b.c")
    assert unknown.status_code == 422
    publication = db.session.scalar(select(Publication))
    publication.published_at = utcnow() - timedelta(days=8)
    db.session.commit()
    late = object_to(citizen, entry="SW-001", reason="迟到的异议", contact="a@b.c")
    assert late.status_code == 422 and "异议已截止" in late.get_data(as_text=True)
    assert db.session.scalar(select(Objection)) is None


def test_objections_are_rate_limited(app, contest, organiser_client):
    publish(organiser_client, "provisional")
    app.config["OBJECTION_LIMIT_PER_IP"] = "2/hour"
    citizen = app.test_client()
    codes = [object_to(citizen, entry="SW-001", reason=f"异议{i}", contact="a@b.c").status_code
             for i in range(3)]
    assert codes == [302, 302, 429]


def test_each_objection_has_its_own_answer_form(app, contest, organiser_client):
    """Two objections waiting: two answer forms, each label bound to its own field, no id twice
    on the page; the second form answers the second objection."""
    from collections import Counter

    from bs4 import BeautifulSoup

    publish(organiser_client, "provisional")
    citizen = app.test_client()
    for entry in ("SW-001", "SW-002"):
        assert object_to(citizen, entry=entry, reason="票数异常",
                         contact="13812345678").status_code == 302
    soup = BeautifulSoup(organiser_client.get(PREVIEW).get_data(as_text=True), "html.parser")
    ids = Counter(element["id"] for element in soup.find_all(id=True))
    assert [id_ for id_, count in ids.items() if count > 1] == []
    forms = soup.select("form[action^='/results/manage/objections/']")
    assert len(forms) == 2
    for form in forms:
        for label in form.find_all("label"):
            assert form.find(id=label["for"]) is not None, label
    first, second = db.session.scalars(select(Objection).order_by(Objection.id)).all()
    fields = {field["name"]: field.get("value", "") for field in forms[1].select("input")}
    organiser_client.post(forms[1]["action"], data=fields | {"outcome": "upheld",
                                                               "answer": "已核实"})
    db.session.expire_all()
    assert (first.outcome, second.outcome) == (None, ObjectionOutcome.UPHELD)
