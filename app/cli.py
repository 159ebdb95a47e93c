"""Command-line interface: ``flask --app wsgi <group> <command>``."""
import getpass
import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from . import campaign_io, mail
from .auth import services as account_services
from .config import PROJECT_ROOT
from .extensions import db
from .models import Agency, Campaign, Role
from .models.audit import set_actor

users_cli = AppGroup("users", help="Manage staff accounts.")
campaign_cli = AppGroup("campaign", help="Import and export campaign files (YAML).")
demo_cli = AppGroup("demo", help="The demo campaigns.")
mail_cli = AppGroup("mail", help="The outbox: mails waiting to leave.")

DEMO_FILES = ("demo/gz-2020-social-work-week.yaml", "demo/gx-2020-children-week.yaml")
DEMO_ACCOUNTS_FILE = "demo-accounts.txt"


def as_cli():
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    set_actor(None, f"cli:{who}")


@users_cli.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email", required=True)
@click.option("--name", default=None, help="Display name (default: the email).")
@click.option("--agency", "agency_name", default=None, help="Agency (required for --role agency).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(role, email, name, agency_name, password_stdin):
    """Create an account. The password is asked for, never given as an argument."""
    as_cli()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.ClickException("the password needs at least 10 characters")
    agency = None
    if agency_name:
        agency = db.session.scalar(select(Agency).where(Agency.name == agency_name))
        if agency is None:
            agency = Agency(name=agency_name)
            db.session.add(agency)
    elif role == Role.AGENCY:
        raise click.ClickException("an agency account needs --agency")
    try:
        user = account_services.create_user(email, name or email, role, password, agency)
    except account_services.EmailTaken as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email} (id {user.id})")


@campaign_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_campaign_command(path):
    """Create a campaign from a YAML file; any problem is reported and nothing is written."""
    as_cli()
    result = _import_file(path)
    _report(result)


def _import_file(path):
    try:
        result = campaign_io.import_campaign(path.read_text(encoding="utf-8"))
        db.session.commit()
    except UnicodeDecodeError as error:
        db.session.rollback()
        raise click.ClickException(f"{path}: not UTF-8 text") from error
    except campaign_io.CampaignFileError as error:
        db.session.rollback()
        click.echo(f"{path}: {len(error.problems)} problem(s), nothing imported:", err=True)
        for problem in error.problems:
            click.echo(f"  {path}:{problem.line}: {problem.field}: {problem.message}", err=True)
        raise click.exceptions.Exit(1) from error
    return result


def _report(result):
    campaign = result.campaign
    click.echo(f"imported campaign {campaign.slug}: {len(campaign.categories)} categories")
    for name, count in result.counts.items():
        click.echo(f"  {name}: {count}")
    for email, password in result.passwords.items():
        click.echo(f"  account {email}  password {password}")


@campaign_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_campaign_command(slug, output):
    """Write a campaign as YAML (to standard output, or to --output)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    text = campaign_io.export_campaign(campaign)
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@demo_cli.command("load")
def load_demo():
    """Load the demo campaigns unless they are there; print new accounts' passwords once.

    The passwords are also kept in instance/demo-accounts.txt (readable by the owner only).
    """
    as_cli()
    accounts_file = Path(current_app.instance_path) / DEMO_ACCOUNTS_FILE
    for relative in DEMO_FILES:
        path = PROJECT_ROOT / relative
        slug = campaign_io.parse_yaml(path.read_text(encoding="utf-8"))[0].get("slug")
        if db.session.scalar(select(Campaign).where(Campaign.slug == slug)) is not None:
            click.echo(f"demo campaign {slug} is already loaded")
            continue
        result = _import_file(path)
        _report(result)
        if result.passwords:
            fd = os.open(accounts_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                for email, password in result.passwords.items():
                    handle.write(f"{email}\t{password}\n")
            click.echo(f"these passwords are kept in {accounts_file}")


@click.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The copy to write (default: instance/backups/platform-<time>.db).")
def backup_command(output):
    """Copy the SQLite database consistently while the site keeps running."""
    from .backup import BackupError, backup_sqlite, default_target, sqlite_path

    try:
        source = sqlite_path(db.engine)
        target = output or default_target(current_app.instance_path)

        def progress(_status, remaining, total):
            click.echo(f"  {total - remaining}/{total} pages", err=True)

        summary = backup_sqlite(source, target, progress=progress)
    except (BackupError, OSError) as error:
        raise click.ClickException(str(error)) from error
    rows = ", ".join(f"{name} {count}" for name, count in summary["tables"].items()
                     if name in ("vote", "entry", "review", "publication", "audit_log"))
    click.echo(f"backed up {source} to {target}: {summary['bytes']} bytes, "
               f"{summary['pages']} pages, integrity ok ({rows})")


@mail_cli.command("send")
def send_waiting_mail():
    """Send every waiting mail now, whatever its wait after a failed try (cron may run it every
    few minutes), and forget the mails finished more than MAIL_KEEP_DAYS ago. Exits 1 if some
    did not leave."""
    forgotten = mail.forget_finished()
    waiting = mail.retry_now()
    db.session.commit()
    if forgotten:
        click.echo(f"{forgotten} mail(s) sent or given up over "
                   f"{current_app.config['MAIL_KEEP_DAYS']} days ago forgotten")
    click.echo(f"{waiting} mail(s) waiting")

    def report(done):
        click.echo(f"... {done.taken} taken: {done.sent} sent, {done.retrying} to be tried again, "
                   f"{done.abandoned} given up")

    done = mail.deliver_all(report)
    click.echo(f"sent {done.sent}, to be tried again {done.retrying}, given up {done.abandoned}")
    if done.retrying or done.abandoned:
        raise click.exceptions.Exit(1)


def register(app):
    for group in (users_cli, campaign_cli, demo_cli, mail_cli):
        app.cli.add_command(group)
    app.cli.add_command(backup_command)
