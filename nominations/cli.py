"""Nomination commands, and the ``entries`` section of campaign files."""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from app import campaign_io
from app.cli import as_cli
from app.database import reading_first, utcnow
from app.extensions import db
from app.models import Category

from .exchange import ImportRefused, check_rows, create_entries, export_file
from .models import Entry, EntryStatus
from .services import assign_number
from .tabular import TableError, read_table

ENTRY_KEYS = ("category", "agency", "title", "summary", "status", "details")
FILE_STATUSES = {EntryStatus.DRAFT.value, EntryStatus.SUBMITTED.value, EntryStatus.APPROVED.value}

nominations_cli = AppGroup("nominations", help="Import and export nominations (CSV/XLSX).")


def load_entries(items, context):
    """Create the entries a campaign file lists (the demo's); returns how many."""
    created = 0
    for index, item in enumerate(items):
        path = ("entries", index)
        if not isinstance(item, dict):
            context.problem(path, _("expected an entry"))
            continue
        for key in item:
            if key not in ENTRY_KEYS:
                context.problem(path + (key,), _("unknown field"))
        category = context.category(str(item.get("category") or ""))
        agency = context.agencies.get(str(item.get("agency") or ""))
        title = str(item.get("title") or "").strip()
        status = str(item.get("status") or EntryStatus.APPROVED.value)
        details = item.get("details") or {}
        checks = [
            (category is None, "category", _("no category with this key in the file")),
            (agency is None, "agency", _("no agency of this name in the file")),
            (not title or len(title) > 120, "title", _("a title of 1 to 120 characters is needed")),
            (status not in FILE_STATUSES, "status", _("status must be draft, submitted or approved")),
            (not isinstance(details, dict), "details", _("expected named fields")),
        ]
        failed = [(key, message) for bad, key, message in checks if bad]
        for key, message in failed:
            context.problem(path + (key,), message)
        if failed:
            continue
        entry = Entry(category=category, agency=agency, title=title,
                      summary=str(item.get("summary") or ""), details=details,
                      status=EntryStatus(status))
        db.session.add(entry)
        db.session.flush()
        if entry.status != EntryStatus.DRAFT:
            assign_number(entry)
            entry.submitted_at = utcnow()
        created += 1
    return created


def category_by_keys(slug, key):
    """Category KEY of campaign SLUG, or a ClickException naming what is missing."""
    category = Category.by_keys(slug, key)
    if category is None:
        raise click.ClickException(f"no category {key!r} in campaign {slug!r}")
    return category


@nominations_cli.command("import")
@click.argument("slug")
@click.argument("key")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(slug, key, path):
    """Import the nominations of a CSV or XLSX file into category KEY of campaign SLUG.

    Every row is checked first; if any is wrong, the rows are listed and nothing is imported.
    """
    as_cli()
    category = category_by_keys(slug, key)
    try:
        header, rows = read_table(path.read_bytes(), path.name)
    except TableError as error:
        raise click.ClickException(f"{path}: {error}") from error
    with click.progressbar(length=len(rows), label="checking rows", file=sys.stderr) as bar:
        def progress(done, _total):
            bar.update(done - bar.pos)
        try:
            # Checked without the site's write lock, written in one short write (as the page).
            with reading_first(db.session):
                report, checked = check_rows(category, header, rows, progress)
            create_entries(category, report, checked, utcnow())
            db.session.commit()
        except ImportRefused as refused:
            report = refused.report
    for name in report.unknown_columns:
        click.echo(f"ignored column: {name}", err=True)
    if report.refused:
        for line, messages in report.refused:
            for message in messages:
                click.echo(f"{path}:{line}: {message}", err=True)
        click.echo(f"{len(report.refused)} of {len(rows)} rows refused; nothing imported", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"imported {len(report.created)} nominations into {slug}/{key}: "
               f"{report.created[0].number if report.created else '-'}"
               f" to {report.created[-1].number if report.created else '-'}")


@nominations_cli.command("export")
@click.argument("slug")
@click.argument("key")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="xlsx")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(slug, key, file_format, output):
    """Write the nominations of a category (all but drafts) with their status."""
    category = category_by_keys(slug, key)
    data, _mimetype = export_file(category, file_format)
    output.write_bytes(data)
    click.echo(f"wrote {output}")


def register(app):
    campaign_io.register_section("entries", load_entries)
    app.cli.add_command(nominations_cli)
