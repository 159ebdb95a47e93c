"""The ranking from the database: submitted reviews, valid votes only; page, CLI and files agree."""
import io
import json

import pytest
from openpyxl import load_workbook

from app.database import utcnow
from app.extensions import db
from app.models import Agency, Role
from nominations.models import Entry, EntryStatus
from results.services import category_ranking
from review.models import Review, ReviewStatus
from voting import services as voting
from voting.models import Voter

from ..conftest import PASSWORD, csrf_token


@pytest.fixture
def contest(app, make_campaign, make_category, make_user):
    """Three social workers; reviews and votes chosen so that the numbers are easy to check."""
    campaign = make_campaign(slug="week")
    category = make_category(campaign, key="workers", kind="social_worker", expert_weight=0.6,
                             public_weight=0.4, votes_per_day=3, winners=1, aggregation="mean")
    agency = Agency(name="机构")
    entries = [Entry(category=category, agency=agency, title=f"社工{i}", number=f"SW-00{i}",
                     status=EntryStatus.APPROVED) for i in (1, 2, 3)]
    db.session.add_all(entries)
    expert = make_user(Role.EXPERT)
    first, second = category.criteria
    # SW-001: 80 (submitted); SW-002: 60 (submitted); SW-003: a draft only -> unreviewed
    for entry, points, status in ((entries[0], (50, 30), ReviewStatus.SUBMITTED),
                                  (entries[1], (40, 20), ReviewStatus.SUBMITTED),
                                  (entries[2], (60, 40), ReviewStatus.DRAFT)):
        db.session.add(Review(entry=entry, expert=expert, status=status,
                              points={str(first.id): points[0], str(second.id): points[1]}))
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        ids = []
        for i in range(4):
            voter = Voter(phone_hmac=f"r-{i:03d}".ljust(64, "x"))
            db.session.add(voter)
            db.session.flush()
            for entry in (entries[1], entries[2]) if i < 2 else (entries[1],):
                ids.append(voting.cast_vote(voter.id, entry.id, utcnow()).vote_id)
        db.session.commit()
        # one of SW-003's two votes is voided: it must not count
        organiser = make_user(Role.ORGANISER)
        sw3 = [v for v in ids if db.session.get(voting.Vote, v).entry_id == entries[2].id]
        voting.void_votes(category, sw3[:1], organiser, "测试", utcnow())
        db.session.commit()
    return category, entries, organiser


def test_the_ranking_counts_submitted_reviews_and_valid_votes_only(contest):
    category, entries, _organiser = contest
    ranking, _entries = category_ranking(category)
    rows = {row.number: row for row in ranking.rows}
    # votes: SW-002 4, SW-003 1 (one voided), SW-001 0 -> public 100, 25, 0
    assert (rows["SW-002"].votes, rows["SW-003"].votes, rows["SW-001"].votes) == (4, 1, 0)
    assert rows["SW-001"].final == pytest.approx(0.6 * 80)
    assert rows["SW-002"].final == pytest.approx(0.6 * 60 + 0.4 * 100)
    assert rows["SW-003"].final == pytest.approx(0.4 * 25) and rows["SW-003"].unreviewed
    assert [r.number for r in ranking.rows] == ["SW-002", "SW-001", "SW-003"]
    assert [r.winner for r in ranking.rows] == [True, False, False]


@pytest.fixture
def organiser_client(app, contest):
    _category, _entries, organiser = contest
    client = app.test_client()
    client.post("/auth/login", data={"email": organiser.email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client)})
    return client


def test_the_preview_page_and_the_files_hold_the_same_numbers(organiser_client):
    html = organiser_client.get("/results/manage/week/workers/").get_data(as_text=True)
    assert "<strong>76.00</strong>" in html and "<strong>48.00</strong>" in html
    assert "未评审" in html
    as_json = json.loads(organiser_client.get("/results/manage/week/workers/ranking.json").data)
    assert [(r["number"], r["final"]) for r in as_json[0]["rows"]] == [
        ("SW-002", 76.0), ("SW-001", 48.0), ("SW-003", 10.0)]
    sheet = load_workbook(io.BytesIO(organiser_client.get(
        "/results/manage/week/workers/ranking.xlsx").data)).active
    assert [row[8] for row in sheet.iter_rows(min_row=2, values_only=True)] == [76.0, 48.0, 10.0]
    as_csv = organiser_client.get("/results/manage/week/workers/ranking.csv").data.decode(
        "utf-8-sig")
    assert as_csv.splitlines()[1].split(",")[:2] == ["1", "SW-002"]


def test_results_show_on_the_command_line(app, contest, runner, tmp_path):
    table = runner.invoke(args=["results", "show", "week"])
    assert table.exit_code == 0 and "SW-002" in table.output
    out = tmp_path / "r.json"
    result = runner.invoke(args=["results", "show", "week", "--category", "workers",
                                 "--format", "json", "-o", str(out)])
    assert result.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))[0]["rows"][0]["number"] == "SW-002"
    bad = runner.invoke(args=["results", "show", "week", "--format", "xlsx"])
    assert bad.exit_code == 1


@pytest.mark.parametrize("role", [Role.AGENCY, Role.EXPERT])
def test_the_preview_is_for_organisers_only(app, contest, make_user, role):
    user = make_user(role)
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                     "csrf_token": csrf_token(client)})
    assert client.get("/results/manage/week/workers/").status_code == 403
    assert client.get("/results/manage/week/workers/ranking.json").status_code == 403


def test_a_report_category_has_no_ranking(organiser_client, make_category, contest):
    category = contest[0]
    make_category(category.campaign, key="reports", kind="report")
    assert organiser_client.get("/results/manage/week/reports/").status_code == 404


