"""The command line: accounts, campaign files, the demo."""
import os
import stat
from pathlib import Path

import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, Role, User

from ..conftest import DEMO_FILE


def test_users_create_reads_the_password_from_stdin(runner):
    result = runner.invoke(args=["users", "create", "--role", "organiser", "--email",
                                 "Boss@Example.org", "--name", "秘书处", "--password-stdin"],
                           input="a strong password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.role == Role.ORGANISER and user.check_password("a strong password")
    assert "a strong password" not in result.output


def test_users_create_prompts_twice_for_the_password(runner):
    result = runner.invoke(args=["users", "create", "--role", "expert", "--email", "e@example.org"],
                           input="a strong password\na strong password\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "e@example.org")).role == Role.EXPERT


def test_users_create_has_no_password_argument(runner):
    result = runner.invoke(args=["users", "create", "--role", "expert", "--email", "e@example.org",
                                 "--password", "a strong password"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_users_create_refuses_a_short_password_a_taken_email_and_a_lone_agency(runner, make_user):
    short = runner.invoke(args=["users", "create", "--role", "expert", "--email", "e@example.org",
                                "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "10 characters" in short.output
    taken = make_user(Role.EXPERT)
    again = runner.invoke(args=["users", "create", "--role", "expert", "--email", taken.email,
                                "--password-stdin"], input="a strong password\n")
    assert again.exit_code == 1 and "该电子邮箱已注册" in again.output
    lone = runner.invoke(args=["users", "create", "--role", "agency", "--email", "a@example.org",
                               "--password-stdin"], input="a strong password\n")
    assert lone.exit_code == 1 and "--agency" in lone.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_users_create_an_agency_member(runner):
    result = runner.invoke(args=["users", "create", "--role", "agency", "--email", "a@example.org",
                                 "--agency", "白云社工站", "--password-stdin"],
                           input="a strong password\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).agency.name == "白云社工站"


def test_campaign_import_and_export(runner, tmp_path):
    result = runner.invoke(args=["campaign", "import", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    assert "imported campaign gz-2020-social-work-week: 5 categories" in result.output
    assert "entries: 13" in result.output
    out = tmp_path / "out.yaml"
    result = runner.invoke(args=["campaign", "export", "gz-2020-social-work-week", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["theme"] == "红棉守护，社工逆行"
    printed = runner.invoke(args=["campaign", "export", "gz-2020-social-work-week"])
    assert printed.output == out.read_text(encoding="utf-8")


def test_campaign_import_of_a_bad_file_names_file_line_and_field(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: ok-slug\ntitle: 标题\ncategories:\n  - key: x\n    kind: poem\n",
                   encoding="utf-8")
    result = runner.invoke(args=["campaign", "import", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:5: categories[0].kind:" in result.output
    assert "nothing imported" in result.output
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_campaign_export_of_an_unknown_slug(runner):
    result = runner.invoke(args=["campaign", "export", "nope"])
    assert result.exit_code == 1 and "no campaign 'nope'" in result.output


def test_demo_load_prints_passwords_once_and_keeps_them_private(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert first.output.count("password ") == 5
    kept = os.path.join(app.instance_path, "demo-accounts.txt")
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    lines = Path(kept).read_text(encoding="utf-8").split()
    assert "organiser@demo.example" in lines
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert "already loaded" in second.output and "password" not in second.output
    slugs = set(db.session.scalars(select(Campaign.slug)))
    assert slugs == {"gz-2020-social-work-week", "gx-2020-children-week"}


def test_cli_changes_are_audited_as_the_cli(runner):
    from app.models import AuditLog

    runner.invoke(args=["campaign", "import", str(DEMO_FILE)])
    labels = set(db.session.scalars(select(AuditLog.actor_label)))
    assert labels and all(label.startswith("cli:") for label in labels)
