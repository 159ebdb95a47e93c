"""Each kind of entry has its form: valid input is kept, each bad field is named, nothing saved."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from nominations.models import Entry, EntryStatus

from .conftest import VALID


def entries():
    return db.session.scalar(select(func.count()).select_from(Entry))


@pytest.mark.parametrize("kind", sorted(VALID))
def test_a_valid_entry_of_each_kind_is_submitted_with_its_details(agency_client, nominate, kind):
    client, user = agency_client()
    response = nominate(client, kind)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    entry = db.session.scalar(select(Entry))
    assert entry.status == EntryStatus.SUBMITTED and entry.agency_id == user.agency_id
    assert entry.title == VALID[kind]["title"]
    for name, value in VALID[kind].items():
        if name not in ("title", "summary"):
            stored = entry.details[name]
            assert str(stored) == value or (value == "y" and stored is True), name


INVALID = [
    # kind, field, value, words of the message
    ("project", "beneficiaries", "many", "不是有效的整数"),
    ("project", "beneficiaries", "-1", "0 至 10000000"),
    ("project", "description", "", "提交前必须填写"),
    ("project", "period", "x" * 61, "60"),
    ("story", "text", "太短了", "至少需要200个字符"),
    ("story", "text", "字" * 8001, "8000"),
    ("story", "author", "", "提交前必须填写"),
    ("story", "summary", "", "提交前必须填写"),
    ("story", "summary", "简" * 501, "500"),
    ("story", "title", "", "请填写标题"),
    ("story", "title", "题" * 121, "120"),
    ("case", "anonymised", None, "提交前请确认"),
    ("case", "intervention", "", "提交前必须填写"),
    ("case", "outcome", "果" * 3001, "3000"),
    ("social_worker", "years_of_service", "61", "0 至 60"),
    ("social_worker", "years_of_service", "八年", "不是有效的整数"),
    ("social_worker", "certificate_level", "professor", "不是有效的选择"),
    ("social_worker", "certificate_level", "", "提交前必须填写"),
    ("social_worker", "name", "", "提交前必须填写"),
    ("hotline", "number", "call me", "只能使用数字"),
    ("hotline", "hours", "", "提交前必须填写"),
    ("hotline", "station", "站" * 121, "120"),
    ("report", "contact_phone", "<script>", "只能使用数字"),
    ("report", "impact", "", "提交前必须填写"),
    ("report", "activity", "动" * 5001, "5000"),
]


@pytest.mark.parametrize("kind, field, value, words", INVALID,
                         ids=[f"{k}-{f}-{i}" for i, (k, f, _v, _w) in enumerate(INVALID)])
def test_an_invalid_field_is_named_and_nothing_is_saved(agency_client, nominate, kind, field,
                                                       value, words):
    client, _user = agency_client()
    response = nominate(client, kind, **{field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert words in html, html[html.find("has-error") - 200:html.find("has-error") + 800]
    assert 'aria-invalid="true"' in html
    assert entries() == 0


def test_a_draft_needs_only_a_title(agency_client, nominate):
    client, _user = agency_client()
    response = nominate(client, "case", submit=False, summary="", background="", assessment="",
                        intervention="", outcome="", anonymised=None)
    assert response.status_code == 302
    entry = db.session.scalar(select(Entry))
    assert entry.status == EntryStatus.DRAFT and entry.number is None


def test_a_draft_still_respects_lengths_and_types(agency_client, nominate):
    client, _user = agency_client()
    response = nominate(client, "social_worker", submit=False, years_of_service="a lot")
    assert response.status_code == 422 and entries() == 0


def test_the_form_keeps_what_was_typed_when_it_is_refused(agency_client, nominate):
    client, _user = agency_client()
    html = nominate(client, "story", text="太短了").get_data(as_text=True)
    assert 'value="凌晨两点的电话"' in html and "王小明" in html
