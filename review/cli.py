"""Review commands (score sheets), and the rubric guard."""
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from app import campaign_io
from app.admin import services as admin_services
from app.cli import as_cli
from app.database import utcnow
from app.extensions import db
from app.models import Role, User
from nominations.cli import category_by_keys
from nominations.models import Entry
from nominations.tabular import TableError, read_table

from .models import Review, ReviewStatus
from .services import ReviewError, add_to_panel, assign_reviewers
from .sheets import SheetRefused, export_sheet, import_sheet

reviews_cli = AppGroup("reviews", help="Score sheets for experts who score offline.")


def rubric_locked(category):
    """Scores exist for this category: its rubric's points must not change under them."""
    if category.id is None:
        return None
    started = db.session.scalar(select(Review.id).join(Entry).where(
        Entry.category_id == category.id,
        Review.status.in_([ReviewStatus.DRAFT, ReviewStatus.SUBMITTED])).limit(1))
    if started:
        return _("Experts have started scoring: the rubric's criteria and points can no longer "
                 "change.")
    return None


@reviews_cli.command("export")
@click.argument("slug")
@click.argument("key")
@click.option("--expert", "email", required=True, help="The expert's email.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(slug, key, email, output):
    """Write an expert's score sheet (XLSX) for category KEY of campaign SLUG."""
    category = category_by_keys(slug, key)
    expert = db.session.scalar(select(User).where(User.email == email.strip().lower(),
                                                  User.role == Role.EXPERT))
    if expert is None:
        raise click.ClickException(f"no expert {email!r}")
    output.write_bytes(export_sheet(category, expert))
    click.echo(f"wrote {output}")


@reviews_cli.command("import")
@click.argument("slug")
@click.argument("key")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(slug, key, path):
    """Record a filled-in score sheet; every row is checked, and a bad row stops it all."""
    as_cli()
    category = category_by_keys(slug, key)
    try:
        header, rows = read_table(path.read_bytes(), path.name)
        report = import_sheet(category, header, rows, utcnow())
        db.session.commit()
    except TableError as error:
        raise click.ClickException(f"{path}: {error}") from error
    except ReviewError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    except SheetRefused as refused:
        db.session.rollback()
        for line, messages in refused.report.refused:
            for message in messages:
                click.echo(f"{path}:{line}: {message}", err=True)
        click.echo(f"{len(refused.report.refused)} rows refused; nothing recorded", err=True)
        raise click.exceptions.Exit(1) from refused
    click.echo(f"recorded {len(report.recorded)} reviews from {path}")


def load_panels(items, context):
    """``panels`` of a campaign file: [{category: KEY, experts: [EMAIL...], assign: true}]."""
    placed = 0
    for index, item in enumerate(items):
        path = ("panels", index)
        if not isinstance(item, dict):
            context.problem(path, _("expected a category and its experts"))
            continue
        for key in item:
            if key not in ("category", "experts", "assign"):
                context.problem(path + (key,), _("unknown field"))
        category = context.category(str(item.get("category") or ""))
        if category is None or not category.has_review:
            context.problem(path + ("category",), _("no reviewed category with this key in the file"))
            continue
        emails = item.get("experts") or []
        if not isinstance(emails, list):
            context.problem(path + ("experts",), _("expected a list"))
            continue
        for position, email in enumerate(emails):
            expert = db.session.scalar(select(User).where(
                User.email == str(email).strip().lower(), User.role == Role.EXPERT))
            if expert is None:
                context.problem(path + ("experts", position), _("no expert account with this email"))
                continue
            add_to_panel(category, expert)
            placed += 1
        db.session.flush()
        if item.get("assign", True) and not context.problems:
            assign_reviewers(category)
    return placed


def register(app):
    campaign_io.register_section("panels", load_panels)
    if rubric_locked not in admin_services.RUBRIC_GUARDS:
        admin_services.RUBRIC_GUARDS.append(rubric_locked)
    app.cli.add_command(reviews_cli)
