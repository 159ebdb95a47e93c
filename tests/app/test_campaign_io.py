"""The YAML campaign importer and exporter (the demo campaign is such a file)."""
from datetime import timedelta

import pytest
import yaml
from flask_babel import force_locale
from sqlalchemy import func, select

from app.campaign_io import CampaignFileError, export_campaign, import_campaign
from app.database import utcnow
from app.extensions import db
from app.models import Agency, AuditLog, Campaign, Category, Criterion, User
from nominations.models import Entry, EntryStatus

from ..conftest import DEMO_FILE

MINIMAL = """\
slug: mini
title: 小型评选
windows:
  nomination: {opens: 2030-01-01 09:00, closes: 2030-01-10 18:00}
categories:
  - key: stories
    name: 故事
    kind: story
    number_prefix: GS
    winners: 3
    weights: {expert: 1, public: 0}
    rubric:
      - {name: 感染力, max_points: 60}
      - {name: 真实性, max_points: 40}
"""


def counts():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Campaign, Category, Criterion, Agency, User, Entry)
    }


def test_demo_file_imports_every_category_with_its_rules(demo):
    campaign = demo.campaign
    assert campaign.slug == "gz-2020-social-work-week"
    categories = {c.key: c for c in campaign.categories}
    assert [(c.position, c.key) for c in campaign.categories] == [
        (0, "projects"), (1, "stories"), (2, "cases"), (3, "social_workers"), (4, "hotlines")]
    assert {k: c.winners for k, c in categories.items()} == {
        "projects": 10, "stories": 10, "cases": 10, "social_workers": 20, "hotlines": 10}
    # expert review only; review + public vote; public vote only
    assert (categories["projects"].expert_weight, categories["projects"].public_weight) == (1, 0)
    assert (categories["social_workers"].expert_weight,
            categories["social_workers"].public_weight) == (0.6, 0.4)
    assert (categories["hotlines"].expert_weight, categories["hotlines"].public_weight) == (0, 1)
    assert categories["hotlines"].criteria == []
    assert [c.max_points for c in categories["projects"].criteria] == [25, 30, 30, 15]
    assert categories["cases"].blind_review is True
    assert categories["cases"].aggregation == "zscore"


def test_demo_windows_are_open_on_the_day_it_is_loaded(demo):
    now = utcnow()
    categories = {c.key: c for c in demo.campaign.categories}
    assert categories["projects"].current_phases(now) == ["nomination", "review"]
    assert categories["social_workers"].current_phases(now) == ["nomination", "review", "voting"]
    assert categories["hotlines"].current_phases(now) == ["nomination", "voting"]
    # "today-1d 09:00" is a wall-clock time in Asia/Shanghai
    opens = demo.campaign.local(demo.campaign.nomination_opens)
    assert (opens.hour, opens.minute) == (9, 0)
    assert opens.date() == (utcnow().astimezone(demo.campaign.tz) - timedelta(days=1)).date()


def test_demo_accounts_get_random_passwords_that_work(demo):
    assert set(demo.passwords) == {
        "organiser@demo.example", "agency@demo.example", "expert@demo.example",
        "expert2@demo.example", "expert3@demo.example"}
    assert len(set(demo.passwords.values())) == 5
    agency_user = db.session.scalar(select(User).where(User.email == "agency@demo.example"))
    assert agency_user.check_password(demo.passwords["agency@demo.example"])
    assert agency_user.agency.name == "木棉社会工作服务中心"


def test_demo_entries_are_numbered_per_category(demo):
    numbers = db.session.scalars(select(Entry.number).join(Category).where(
        Category.key == "social_workers").order_by(Entry.number)).all()
    assert numbers == ["SW-001", "SW-002", "SW-003"]
    assert demo.counts == {"entries": 13, "panels": 12}
    assert all(e.status == EntryStatus.APPROVED for e in db.session.scalars(select(Entry)))


def test_import_is_audited(demo):
    actions = db.session.scalars(select(AuditLog.action)).all()
    assert "campaign.create" in actions
    assert actions.count("category.create") == 5
    created = db.session.scalar(select(AuditLog).where(AuditLog.action == "user_account.create"))
    assert created.after["password_hash"] == "[redacted]"
    assert created.object_id == str(created.after["id"])


def test_export_then_import_gives_the_same_campaign(demo):
    text = export_campaign(demo.campaign)
    data = yaml.safe_load(text)
    assert data["categories"][3]["weights"] == {"expert": 0.6, "public": 0.4}
    original = yaml.safe_load(text)
    data["slug"] = "copy-of-demo"
    copy = import_campaign(yaml.safe_dump(data, allow_unicode=True)).campaign
    db.session.commit()
    again = yaml.safe_load(export_campaign(copy))
    again["slug"] = original["slug"]
    assert again == original


def test_fraud_thresholds_travel_with_the_campaign_file(app):
    """A campaign's thresholds (voting's own setting) are read in the page's names and units
    and written back the same way; a campaign on the defaults writes none."""
    text = MINIMAL + "fraud_thresholds: {network_voters: 50, window_minutes: 20}\n"
    campaign = import_campaign(text).campaign
    db.session.commit()
    assert campaign.fraud_thresholds == {"network_voters": 50, "window": 1200.0}
    assert yaml.safe_load(export_campaign(campaign))["fraud_thresholds"] == {
        "network_voters": 50, "window_minutes": 20, "burst_minimum": 30, "burst_factor": 5,
        "one_entry_minimum": 20, "one_entry_excess": 30, "failing_codes": 10}
    plain = import_campaign(replace(MINIMAL, "slug: mini", "slug: plain")).campaign
    db.session.commit()
    assert plain.fraud_thresholds == {}
    assert "fraud_thresholds" not in yaml.safe_load(export_campaign(plain))


def test_a_minimal_file_gets_defaults(app):
    campaign = import_campaign(MINIMAL).campaign
    db.session.commit()
    assert campaign.timezone == "Asia/Shanghai"
    assert campaign.objection_days == 7
    assert campaign.is_public is False
    category = campaign.categories[0]
    assert (category.reviewers_per_entry, category.aggregation, category.tally_visibility) == (
        3, "mean", "live")
    assert campaign.local(campaign.nomination_opens).strftime("%Y-%m-%d %H:%M") == "2030-01-01 09:00"


def replace(text, old, new):
    assert old in text, old
    return text.replace(old, new, 1)


BAD_FILES = [
    # (what is wrong, the file, expected (line, field) among the problems, words in the message)
    ("not YAML", "slug: mini\ntitle: x\n\tkind: y\n", (3, "-"), "YAML"),
    ("not a mapping", "- just a list\n", (1, "-"), "slug"),
    ("unknown field", replace(MINIMAL, "title: 小型评选\n", "title: 小型评选\ncolour: red\n"),
     (3, "colour"), "unknown"),
    ("missing title", replace(MINIMAL, "title: 小型评选\n", ""), (1, "title"), "title"),
    ("bad slug", replace(MINIMAL, "slug: mini", "slug: Mini Campaign"), (1, "slug"), "hyphens"),
    ("bad timezone", replace(MINIMAL, "title: 小型评选\n", "title: 小型评选\ntimezone: Mars/Base\n"),
     (3, "timezone"), "time zone"),
    ("window closes before it opens",
     replace(MINIMAL, "closes: 2030-01-10 18:00", "closes: 2029-12-31 18:00"),
     (4, "windows.nomination.closes"), "after"),
    ("window without a close", replace(MINIMAL, ", closes: 2030-01-10 18:00", ""),
     (4, "windows.nomination.closes"), "both"),
    ("a time that is not one", replace(MINIMAL, "opens: 2030-01-01 09:00", "opens: next monday"),
     (4, "windows.nomination.opens"), "datetime"),
    ("weights do not add up", replace(MINIMAL, "{expert: 1, public: 0}", "{expert: 0.7, public: 0.4}"),
     (11, "categories[0].weights.public"), "add up"),
    ("unknown kind", replace(MINIMAL, "kind: story", "kind: poem"), (8, "categories[0].kind"), "choice"),
    ("rubric points not a number", replace(MINIMAL, "max_points: 40", "max_points: forty"),
     (14, "categories[0].rubric[1].max_points"), "integer"),
    ("reviewed category without rubric",
     MINIMAL.split("    rubric:")[0], (6, "categories[0].rubric"), "rubric"),
    ("duplicate key", replace(MINIMAL, "title: 小型评选\n", "title: 小型评选\ntitle: 又一个\n"),
     (3, "title"), "twice"),
    ("two categories with one key",
     MINIMAL + MINIMAL.split("categories:\n")[1].replace("number_prefix: GS", "number_prefix: GX"),
     (15, "categories[1].key"), "key"),
    ("no categories", MINIMAL.split("categories:")[0], (1, "categories"), "category"),
    ("account with an unknown role", MINIMAL + "accounts:\n  - {email: a@b.test, role: admin}\n",
     (16, "accounts[0].role"), "organiser"),
    ("entry in an unknown category",
     MINIMAL + "agencies:\n  - {name: 某机构}\n"
     "entries:\n  - {category: poems, agency: 某机构, title: 标题}\n",
     (18, "entries[0].category"), "category"),
    ("a threshold out of range", MINIMAL + "fraud_thresholds: {network_voters: 1}\n",
     (15, "fraud_thresholds.network_voters"), "between 2 and 100000"),
    ("an unknown threshold", MINIMAL + "fraud_thresholds: {voters: 50}\n",
     (15, "fraud_thresholds.voters"), "unknown"),
    ("thresholds not named", MINIMAL + "fraud_thresholds: [50]\n", (15, "fraud_thresholds"),
     "named"),
]


@pytest.mark.parametrize("what, text, where, words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_names_the_line_and_field_and_writes_nothing(app, what, text, where, words):
    before = counts()
    with force_locale("en"), pytest.raises(CampaignFileError) as caught:
        import_campaign(text)
    db.session.rollback()
    found = [(p.line, p.field) for p in caught.value.problems]
    assert where in found, caught.value.problems
    message = next(p.message for p in caught.value.problems if (p.line, p.field) == where)
    assert words.lower() in message.lower(), message
    assert counts() == before


def test_messages_are_in_chinese_by_default(app):
    with pytest.raises(CampaignFileError) as caught:
        import_campaign(replace(MINIMAL, "{expert: 1, public: 0}", "{expert: 0.7, public: 0.4}"))
    assert "两项权重之和必须为 1" in str(caught.value)


def test_an_existing_slug_is_refused_and_nothing_is_written(app, demo):
    before = counts()
    with pytest.raises(CampaignFileError) as caught:
        import_campaign(DEMO_FILE.read_text(encoding="utf-8"))
    db.session.rollback()
    assert [(p.line, p.field) for p in caught.value.problems][0][1] == "slug"
    assert counts() == before


def test_a_late_problem_rolls_back_what_was_already_created(app):
    """Agencies and accounts come after the campaign: a bad account undoes all of it."""
    text = MINIMAL + (
        "agencies:\n  - {name: 新机构}\n"
        "accounts:\n  - {email: ok@b.test, role: expert}\n  - {email: bad, role: expert}\n")
    before = counts()
    with pytest.raises(CampaignFileError) as caught:
        import_campaign(text)
    assert [(p.line, p.field) for p in caught.value.problems] == [(19, "accounts[1].email")]
    db.session.commit()  # even a caller that commits finds nothing written
    assert counts() == before
