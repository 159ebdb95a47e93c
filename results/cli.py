"""Results commands."""
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, Kind

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


def register(app):
    app.cli.add_command(results_cli)
