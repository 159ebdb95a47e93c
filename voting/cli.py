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


def register(app):
    app.cli.add_command(votes_cli)
