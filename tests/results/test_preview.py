"""The ranking from the database: submitted reviews, valid votes only; page, CLI and files agree."""
import io
import json
import re

import pytest
from openpyxl import load_workbook

from app.models import Role
from results.services import category_ranking

from ..conftest import PASSWORD, csrf_token


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


def test_the_preview_pages_its_ranking_and_keeps_publishing_in_reach(app, organiser_client):
    """A category of a thousand entries: the ranking comes a page at a time, in rank order,
    the publish buttons under each page rather than under a thousand rows."""
    app.config["ADMIN_PAGE_SIZE"] = 1  # two rows a page
    first = organiser_client.get("/results/manage/week/workers/").get_data(as_text=True)
    second = organiser_client.get("/results/manage/week/workers/?page=2").get_data(
        as_text=True)
    numbers = [re.findall(r'<td class="nowrap">(SW-\d+)</td>', html) for html in (first, second)]
    assert numbers == [["SW-002", "SW-001"], ["SW-003"]]
    assert "第 1 页，共 2 页" in first and "共 3 件作品；完整排名见上方的下载文件。" in first
    for html in (first, second):
        assert 'name="kind" value="final"' in html


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


