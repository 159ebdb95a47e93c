"""Voting commands: the fraud report."""
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.database import utcnow
from app.extensions import db
from app.models import Campaign

from . import fraud, services

votes_cli = AppGroup("votes", help="Public votes: fraud signals.")


@votes_cli.command("report")
@click.argument("slug")
def report_command(slug):
    """Print the fraud signals of each voted category of campaign SLUG."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    now = utcnow()
    codes = services.code_records(now - timedelta(days=1))
    for category in campaign.categories:
        if not category.has_public_vote:
            continue
        votes = services.vote_records(category)
        signals = fraud.all_signals(votes, codes)
        click.echo(f"{category.key}: {len(votes)} valid votes, {len(signals)} signals")
        for signal in signals:
            details = ", ".join(f"{k}={v}" for k, v in signal.detail.items())
            click.echo(f"  {signal.kind} {str(signal.key)[:16]}: {details}; "
                       f"votes {','.join(map(str, signal.vote_ids[:20]))}"
                       f"{'…' if len(signal.vote_ids) > 20 else ''}")


@votes_cli.command("purge")
@click.argument("slug")
@click.option("--days", type=int, default=None,
              help="Days after the vote closes (default: VOTE_METADATA_RETENTION_DAYS).")
def purge_command(slug, days):
    """Remove the voters' raw metadata of campaign SLUG (hashed networks, user agents, the code
    log); the counts, the voids and their reasons stay."""
    from flask import current_app

    from app.cli import as_cli

    as_cli()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    days = current_app.config["VOTE_METADATA_RETENTION_DAYS"] if days is None else days
    try:
        votes, codes = services.purge_metadata(campaign, utcnow(), days)
        db.session.commit()
    except services.VotingError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"purged metadata of {votes} votes and {codes} verification codes")


def register(app):
    app.cli.add_command(votes_cli)
