"""Offline scoring: an XLSX score sheet per expert, filled in and imported row by row."""
import io

from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from review.models import Review, ReviewStatus

from ..conftest import csrf_token

URL = "/review/manage/week/stories/"


def sheet_rows(organiser, expert):
    response = organiser.get(f"{URL}sheet/{expert.id}.xlsx")
    assert response.status_code == 200
    return [list(row) for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(
        values_only=True)]


def as_xlsx(rows):
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(organiser, rows):
    return organiser.post(URL + "sheet", data={
        "csrf_token": csrf_token(organiser, URL), "file": (io.BytesIO(as_xlsx(rows)), "s.xlsx")},
        content_type="multipart/form-data")


def statuses(expert):
    db.session.expire_all()
    return [r.status for r in db.session.scalars(select(Review).where(Review.expert_id == expert.id))]


def test_a_filled_sheet_records_submitted_reviews(setup, panel, organiser):
    expert = setup.experts[1]
    rows = sheet_rows(organiser, expert)
    assert rows[0] == ["评审", "编号", "标题", "专业性 (0-60)", "成效 (0-40)", "评语"]
    assert len(rows) == 4
    for row in rows[1:]:
        row[3:6] = [50, 30, "纸质评分"]
    response = upload(organiser, rows)
    assert response.status_code == 302
    assert statuses(expert) == [ReviewStatus.SUBMITTED] * 3
    review = db.session.scalar(select(Review).where(Review.expert_id == expert.id))
    assert (review.source, review.comment, review.total(setup.category.criteria)) == (
        "sheet", "纸质评分", 80)


def test_a_sheet_with_a_bad_row_records_nothing(setup, panel, organiser):
    expert = setup.experts[1]
    rows = sheet_rows(organiser, expert)
    rows[1][3:5] = [50, 30]
    rows[2][3:5] = [61, 30]          # over the maximum
    rows[3][3:5] = ["五十", 30]       # not a number
    response = upload(organiser, rows)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "评分表未导入" in html and "<td>3</td>" in html and "<td>4</td>" in html
    assert "请给 0 至 60 分" in html and "需要填写整数分" in html
    assert statuses(expert) == [ReviewStatus.ASSIGNED] * 3


def test_a_sheet_cannot_overwrite_a_submitted_review_or_swap_entries(setup, panel, organiser):
    expert = setup.experts[1]
    rows = sheet_rows(organiser, expert)
    for row in rows[1:]:
        row[3:5] = [10, 10]
    assert upload(organiser, rows).status_code == 302
    again = upload(organiser, rows)
    assert again.status_code == 422 and "需组织方先退回" in again.get_data(as_text=True)
    fresh = sheet_rows(organiser, setup.experts[2])
    fresh[1][1] = "GS-999"
    fresh[1][3:5] = [1, 1]
    swapped = upload(organiser, fresh[:2])
    assert "作品编号与评审不符" in swapped.get_data(as_text=True)


def test_a_foreign_header_is_refused(setup, panel, organiser):
    response = upload(organiser, [["编号", "分数"], ["GS-001", 90]])
    assert response.status_code == 422 and "第一行必须是评分表原有的表头" in response.get_data(
        as_text=True)


def test_cli_export_and_import(app, runner, setup, panel, tmp_path):
    expert = setup.experts[2]
    out = tmp_path / "sheet.xlsx"
    result = runner.invoke(args=["reviews", "export", "week", "stories", "--expert", expert.email,
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    for row in workbook.active.iter_rows(min_row=2):
        row[3].value, row[4].value = 40, 41
    workbook.save(out)
    result = runner.invoke(args=["reviews", "import", "week", "stories", str(out)])
    assert result.exit_code == 1 and "请给 0 至 40 分" in result.output
    for row in workbook.active.iter_rows(min_row=2):
        row[4].value = 20
    workbook.save(out)
    result = runner.invoke(args=["reviews", "import", "week", "stories", str(out)])
    assert result.exit_code == 0, result.output
    assert "recorded 3 reviews" in result.output
    assert statuses(expert) == [ReviewStatus.SUBMITTED] * 3


def test_a_sheet_is_recorded_in_as_many_statements_for_two_experts_as_for_one(
        setup, panel, organiser):
    """A panel's sheets come back together, thousands of rows: no row reads its entry or
    review on its own (the entries were read one by one, under the site's write lock)."""
    from ..app.test_growing_lists import statements

    def recorded(experts):
        rows = [sheet_rows(organiser, experts[0])[0]]
        for expert in experts:
            rows += [row[:3] + [50, 30, "纸质评分"] for row in sheet_rows(organiser, expert)[1:]]
        with statements() as sent:
            assert upload(organiser, rows).status_code == 302
        return len(rows) - 1, len(sent)

    one_rows, one = recorded(setup.experts[:1])
    two_rows, two = recorded(setup.experts[1:])
    assert two_rows > one_rows and two == one
