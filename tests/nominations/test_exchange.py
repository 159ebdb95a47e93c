"""Bulk import of nominations (CSV, XLSX) with a row-by-row report, and exports."""
import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Agency
from nominations.models import Entry, EntryStatus

from ..conftest import csrf_token, write_lock_is_free


@pytest.fixture
def agencies(app):
    for name in ("木棉社会工作服务中心", "珠江社区服务社"):
        db.session.add(Agency(name=name))
    db.session.commit()


def csv_bytes(rows):
    output = io.StringIO()
    csv.writer(output).writerows(rows)
    return output.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


GOOD = [
    ["agency", "title", "summary", "name", "years_of_service", "certificate_level", "deeds"],
    ["木棉社会工作服务中心", "陈晓岚", "简介", "陈晓岚", "8", "intermediate", "事迹"],
    ["珠江社区服务社", "黄志明", "简介", "黄志明", "5", "assistant", "事迹"],
]


def send(client, rows, filename="nominations.csv", maker=csv_bytes):
    url = "/moderation/week/social_worker/import"
    return client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "file": (io.BytesIO(maker(rows)), filename)},
                       content_type="multipart/form-data")


def count():
    return db.session.scalar(select(func.count()).select_from(Entry))


@pytest.mark.parametrize("maker, filename", [(csv_bytes, "a.csv"), (xlsx_bytes, "a.xlsx")])
def test_a_good_file_creates_numbered_submitted_entries(organiser_client, category_of, agencies,
                                                        maker, filename):
    category = category_of("social_worker")
    response = send(organiser_client, GOOD, filename, maker)
    assert response.status_code == 200
    assert "已导入 2 条申报" in response.get_data(as_text=True)
    entries = db.session.scalars(select(Entry).order_by(Entry.number)).all()
    assert [e.number for e in entries] == [f"{category.number_prefix}-001",
                                           f"{category.number_prefix}-002"]
    assert all(e.status == EntryStatus.SUBMITTED for e in entries)
    assert entries[0].details["certificate_level"] == "intermediate"
    assert entries[0].details["years_of_service"] == 8


def test_columns_may_be_named_by_their_chinese_labels(organiser_client, category_of, agencies):
    category_of("social_worker")
    rows = [["机构", "标题", "简介", "状态", "姓名", "从业年限", "职业资格等级", "主要事迹"],
            ["木棉社会工作服务中心", "陈晓岚", "简介", "approved", "陈晓岚", "8", "senior", "事迹"]]
    assert send(organiser_client, rows).status_code == 200
    entry = db.session.scalar(select(Entry))
    assert entry.status == EntryStatus.APPROVED and entry.details["name"] == "陈晓岚"


def test_bad_rows_are_reported_and_nothing_is_imported(organiser_client, category_of, agencies):
    category_of("social_worker")
    rows = GOOD + [
        ["不存在的机构", "某人", "简介", "某人", "3", "assistant", "事迹"],
        ["珠江社区服务社", "", "简介", "无名", "3", "assistant", "事迹"],
        ["珠江社区服务社", "张三", "简介", "张三", "99", "assistant", "事迹"],
        ["珠江社区服务社", "李四", "简介", "李四", "3", "doctor", ""],
    ]
    response = send(organiser_client, rows)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "未导入任何内容" in html and "4 行有问题" in html
    for line, words in ((4, "没有已注册的机构"), (5, "请填写标题"), (6, "0 至 60"), (7, "不是有效的选择")):
        assert f"<td>{line}</td>" in html and words in html
    assert "<td>2</td>" not in html  # the good rows are not blamed
    assert count() == 0


@pytest.mark.parametrize("content, filename", [
    (b"\xff\xfe\x00garbage", "a.csv"),
    (b"PK\x03\x04 not really a workbook", "a.xlsx"),
    (b"", "empty.csv"),
])
def test_an_unreadable_file_is_refused_with_a_message(organiser_client, category_of, content,
                                                      filename):
    category_of("social_worker")
    url = "/moderation/week/social_worker/import"
    response = organiser_client.post(url, data={"csrf_token": csrf_token(organiser_client, url),
                                                "file": (io.BytesIO(content), filename)},
                                     content_type="multipart/form-data")
    assert response.status_code == 422
    assert "无法读取文件" in response.get_data(as_text=True)


def test_exports_hold_the_entries_with_their_status(organiser_client, category_of, agencies):
    category_of("social_worker")
    send(organiser_client, GOOD + [["珠江社区服务社", "=HYPERLINK(\"http://x\")", "简介", "某",
                                    "1", "none", "事迹"]])
    as_csv = organiser_client.get("/moderation/week/social_worker/export.csv")
    assert as_csv.headers["Content-Disposition"] == 'attachment; filename="week-social_worker.csv"'
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "状态", "机构", "标题"]
    assert [r[3] for r in rows[1:]] == ["陈晓岚", "黄志明", "'=HYPERLINK(\"http://x\")"]
    assert {r[1] for r in rows[1:]} == {"submitted"}
    as_xlsx = organiser_client.get("/moderation/week/social_worker/export.xlsx")
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [r[0] for r in values[1:]] == [r[0] for r in rows[1:]]


def test_cli_import_and_export(app, runner, category_of, agencies, tmp_path):
    category_of("social_worker")
    source = tmp_path / "in.xlsx"
    source.write_bytes(xlsx_bytes(GOOD))
    result = runner.invoke(args=["nominations", "import", "week", "social_worker", str(source)])
    assert result.exit_code == 0, result.output
    assert "imported 2 nominations" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([GOOD[0], ["无此机构", "某人", "简介", "某", "1", "none", "事迹"]]))
    result = runner.invoke(args=["nominations", "import", "week", "social_worker", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: " in result.output and "nothing imported" in result.output
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["nominations", "export", "week", "social_worker", "--format",
                                 "csv", "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_bytes().decode("utf-8-sig").count("\n") == 3
    assert count() == 2


def test_a_file_is_checked_while_the_sites_other_writes_go_on(organiser_client, runner,
                                                            category_of, agencies, tmp_path,
                                                            monkeypatch):
    """Reading and checking a file of thousands of rows takes seconds (about 0.25 s per 1,000
    rows): from the page and from the command line, another writer gets the site's write lock
    at once meanwhile (before, the import held it from the sign-in's query on, and every other
    change waited, and on SQLite failed after the busy timeout). The entries are then written."""
    import nominations.cli as cli
    import nominations.views.moderation as moderation
    from nominations.exchange import check_rows

    free = []

    def watched(*args, **kwargs):
        free.append(write_lock_is_free())
        return check_rows(*args, **kwargs)

    monkeypatch.setattr(moderation, "check_rows", watched)
    monkeypatch.setattr(cli, "check_rows", watched)
    category_of("social_worker")
    assert send(organiser_client, GOOD).status_code == 200
    source = tmp_path / "in.csv"
    source.write_bytes(csv_bytes([GOOD[0], *[[*row[:1], row[1] + "二", *row[2:]]
                                             for row in GOOD[1:]]]))
    result = runner.invoke(args=["nominations", "import", "week", "social_worker", str(source)])
    assert result.exit_code == 0, result.output
    assert free == [True, True] and count() == 4


def test_the_guangxi_reports_can_be_exported(app, runner, tmp_path):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    out = tmp_path / "reports.xlsx"
    result = runner.invoke(args=["nominations", "export", "gx-2020-children-week", "reports",
                                 "-o", str(out)])
    assert result.exit_code == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the one submitted report; the draft stays private
    assert rows[1][3] == "邕江社工“守护儿童”宣传周活动总结"


def test_an_import_numbers_its_entries_after_those_already_numbered_in_few_statements(
        organiser_client, category_of, agencies):
    """A city's import holds thousands of rows, all written under the site's write lock: they
    are numbered in the file's order after the category's last number, the counter raised once
    for all of them, and each row costs at most one statement (its INSERT; PostgreSQL takes
    them together). It was four a row."""
    from ..app.test_growing_lists import statements

    category = category_of("social_worker")

    def imported(count, start):
        rows = [GOOD[0]] + [[GOOD[1 + n % 2][0], f"社工{start + n}", *GOOD[1][2:]]
                            for n in range(count)]
        with statements() as sent:
            assert f"已导入 {count} 条申报" in send(organiser_client, rows).get_data(as_text=True)
        return len(sent)

    few, many = imported(2, 0), imported(20, 2)
    assert many - few <= 18
    numbered = db.session.execute(select(Entry.number, Entry.title).order_by(Entry.id)).all()
    assert numbered == [(f"{category.number_prefix}-{n + 1:03d}", f"社工{n}") for n in range(22)]
