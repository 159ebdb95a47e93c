"""Results commands."""
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Kind
from voting.cli import votes_cli

from . import services

results_cli = AppGroup("results", help="Rankings of the categories.")


@results_cli.command("show")
@click.argument("slug")
@click.option("--category", "key", default=None, help="One category (default: all ranked ones).")
@click.option("--format", "file_format", type=click.Choice(["table", "csv", "xlsx", "json"]),
              default="table")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def show_command(slug, key, file_format, output):
    """Print or write the current ranking of campaign SLUG (every component per entry)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    categories = [c for c in campaign.categories if c.kind != Kind.REPORT
                  and (key is None or c.key == key)]
    if not categories:
        raise click.ClickException(f"no ranked category {key!r} in {slug!r}")
    if file_format in ("csv", "xlsx") and len(categories) > 1:
        raise click.ClickException("csv and xlsx hold one category: give --category")
    data = services.export(categories, file_format)
    if file_format == "xlsx" and output is None:
        raise click.ClickException("xlsx needs --output")
    if output:
        output.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        click.echo(f"wrote {output}")
    else:
        click.echo(data)


@results_cli.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(path):
    """Recompute the ranking of a downloaded snapshot and check its digest."""
    import json

    from .snapshot import verify

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{path}: not a JSON file") from error
    ok, problems = verify(document)
    if ok:
        snapshot = document["snapshot"]
        click.echo(f"confirmed: {snapshot['campaign']['slug']}/{snapshot['category']['key']} "
                   f"version {snapshot['version']} ({snapshot['kind']}), digest {document['digest']}")
        return
    for problem in problems:
        click.echo(f"refuted: {problem}", err=True)
    raise click.exceptions.Exit(1)


# `votes purge` belongs with the votes, but when it may run depends on the final lists, which
# the voting package cannot see (imports only run downwards): it is attached to that group here.
@votes_cli.command("purge")
@click.argument("slug")
@click.option("--days", type=int, default=None,
              help="Days after the final lists (default: VOTE_METADATA_RETENTION_DAYS).")
def purge_command(slug, days):
    """Remove the voters' raw metadata of campaign SLUG (hashed networks, user agents, the code
    log) once the final lists are published and the retention period is over; the counts, the
    voids and their reasons stay."""
    from flask import current_app

    from app.cli import as_cli
    from app.database import utcnow

    as_cli()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    days = current_app.config["VOTE_METADATA_RETENTION_DAYS"] if days is None else days
    try:
        votes, codes = services.purge_voter_data(campaign, utcnow(), days)
        db.session.commit()
    except services.ResultsError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"purged metadata of {votes} votes and {codes} verification codes")


def register(app):
    app.cli.add_command(results_cli)
