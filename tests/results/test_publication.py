"""Publication freezes a verifiable snapshot; later changes do not move it; edits are caught."""
import json

import pytest
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import AuditLog
from review.models import Review
from voting import services as voting
from voting.models import Voter

from ..conftest import csrf_token

PREVIEW = "/results/manage/week/workers/"


def publish(client, kind="provisional"):
    return client.post(PREVIEW + "publish", data={"kind": kind,
                                                  "csrf_token": csrf_token(client, PREVIEW)})


def download(client, version=1):
    return client.get(f"/results/week/workers/v{version}.json")


def test_nothing_is_public_before_publication(app, contest, organiser_client):
    page = app.test_client().get("/results/week/").get_data(as_text=True)
    assert "尚未公布结果" in page
    assert app.test_client().get("/results/week/workers/v1.json").status_code == 404


def test_a_published_snapshot_does_not_move_when_votes_and_reviews_change(
        app, contest, organiser_client):
    category, entries, _organiser = contest
    assert publish(organiser_client).status_code == 302
    before = download(app.test_client()).data
    with app.test_request_context("/", method="POST"):
        for i in range(5):
            voter = Voter(phone_hmac=f"late-{i}".ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            voting.cast_vote(voter.id, entries[0].id, utcnow())
        db.session.commit()
    for review in db.session.scalars(select(Review)):
        review.points = {key: 0 for key in review.points}
    db.session.commit()
    assert download(app.test_client()).data == before
    page = app.test_client().get("/results/week/").get_data(as_text=True)
    assert "公示" in page and "SW-002" in page and json.loads(before)["digest"] in page


def test_publishing_again_adds_a_version_and_keeps_the_old(app, contest, organiser_client):
    contest[0].campaign.objection_days = 0  # no objection window: the final list may follow
    db.session.commit()
    publish(organiser_client)
    publish(organiser_client, "final")
    first, second = json.loads(download(app.test_client(), 1).data), json.loads(
        download(app.test_client(), 2).data)
    assert (first["snapshot"]["kind"], second["snapshot"]["kind"]) == ("provisional", "final")
    assert "v2" in organiser_client.get(PREVIEW).get_data(as_text=True)
    assert "最终结果" in app.test_client().get("/results/week/").get_data(as_text=True)


def test_results_verify_confirms_a_snapshot_and_refutes_an_edited_one(app, contest,
                                                                       organiser_client, runner,
                                                                       tmp_path):
    publish(organiser_client)
    document = json.loads(download(app.test_client()).data)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["results", "verify", str(good)])
    assert result.exit_code == 0 and result.output.startswith("confirmed: week/workers version 1")

    # Someone edits a vote count (and re-computes the digest to hide it): the recount disagrees.
    from results.snapshot import canonical, digest_of

    forged = json.loads(json.dumps(document))
    forged["snapshot"]["entries"][0]["votes"] += 100
    forged["digest"] = digest_of(canonical(forged["snapshot"]))
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["results", "verify", str(bad)])
    assert result.exit_code == 1 and "refuted: SW-001" in result.output

    # Someone edits the published ranking but not the digest: the digest disagrees.
    tampered = json.loads(json.dumps(document))
    tampered["snapshot"]["ranking"][0]["final"] = 99.0
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["results", "verify", str(path)])
    assert result.exit_code == 1 and "digest does not match" in result.output


def test_the_snapshot_holds_every_input_under_pseudonyms(app, contest, organiser_client):
    publish(organiser_client)
    snapshot = json.loads(download(app.test_client()).data)["snapshot"]
    assert {r["expert"] for r in snapshot["reviews"]} == {"E1"}
    assert all("@" not in json.dumps(r) for r in snapshot["reviews"])
    assert [e["votes"] for e in snapshot["entries"]] == [0, 4, 1]  # voided vote excluded
    assert snapshot["category"]["expert_weight"] == 0.6 and snapshot["category"]["rubric"]


@pytest.mark.parametrize("kind", ["provisional", "final"])
def test_only_organisers_publish(app, contest, make_user, kind):
    from app.models import Role

    from ..conftest import PASSWORD

    user = make_user(Role.EXPERT)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client)})
    assert client.post(PREVIEW + "publish", data={
        "kind": kind, "csrf_token": csrf_token(client, "/auth/home")}).status_code == 403


def test_the_audit_log_names_a_publication_by_its_digest_not_its_whole_snapshot(
        app, contest, organiser_client):
    """A city's snapshot with every review is about 450 KB: the publication keeps it, the
    log keeps its digest, and the audit page stays small."""
    publish(organiser_client)
    document = json.loads(download(app.test_client()).data)
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "publication.create"))
    assert row.after["digest"] == document["digest"] and row.after["version"] == 1
    assert "snapshot" not in row.after
    assert document["digest"] in organiser_client.get("/admin/audit").get_data(as_text=True)
