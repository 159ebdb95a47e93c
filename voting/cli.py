"""Voting commands: the fraud report, the recount, voiding and restoring by receipt number."""
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app import campaign_io
from app.database import utcnow
from app.extensions import db
from app.models import Campaign, Category, Role, User

from . import fraud, services

votes_cli = AppGroup("votes", help="Public votes: fraud signals, recount, voids, purge.")


@votes_cli.command("report")
@click.argument("slug")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only the votes of this day (YYYY-MM-DD) in the campaign's time zone.")
def report_command(slug, day):
    """Print the fraud signals of each voted category of campaign SLUG (of the whole vote, or
    of one day with --day)."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    now = utcnow()
    codes = services.code_records(now - timedelta(days=1))
    since, until = services.day_bounds(day.date(), campaign.timezone) if day else (None, None)
    thresholds = fraud.Thresholds.of(campaign.fraud_thresholds)  # as the monitoring page's
    for category in campaign.categories:
        if not category.has_public_vote:
            continue
        votes = services.vote_records(category, since, until)
        signals = fraud.all_signals(votes, codes, thresholds)
        click.echo(f"{category.key}: {len(votes)} valid votes, {len(signals)} signals")
        for signal in signals:
            details = ", ".join(f"{k}={v}" for k, v in signal.detail.items())
            click.echo(f"  {signal.kind} {str(signal.key)[:16]}: {details}; "
                       f"votes {','.join(map(str, signal.vote_ids[:20]))}"
                       f"{'…' if len(signal.vote_ids) > 20 else ''}")


@votes_cli.command("recount")
@click.argument("slug")
@click.option("--fix", is_flag=True, help="Set the counters to the recounted values.")
def recount_command(slug, fix):
    """Recount the valid votes of campaign SLUG from the vote table and compare them with the live
    counters the pages show; exits 1 when they differ (and were not fixed)."""
    from app.cli import as_cli

    as_cli()
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"no campaign {slug!r}")
    differing_total = 0
    for category in campaign.categories:
        if not category.has_public_vote:
            continue
        differing = services.reconcile(category, fix)
        differing_total += len(differing)
        counted = sum(services.recount(category).values())
        click.echo(f"{category.key}: {counted} valid votes; "
                   + (f"{len(differing)} counters differ" if differing else "counters agree"))
        for entry, (counter, value) in sorted(differing.items())[:20]:
            click.echo(f"  entry {entry}: counter {counter}, vote table {value}")
    db.session.commit()
    if differing_total and not fix:
        raise click.exceptions.Exit(1)
    if differing_total:
        click.echo(f"fixed {differing_total} counters")


def _receipts_command(name, verb, change, refused_because, doc):
    """A command that changes votes of a category by their receipt numbers: ``change``
    (services.void_votes or restore_votes) with the reason and the organiser."""

    @votes_cli.command(name, help=doc)
    @click.argument("slug")
    @click.argument("key")
    @click.argument("vote_ids", nargs=-1, type=int)
    @click.option("--from-file", "id_file", type=click.File(encoding="utf-8"), default=None,
                  help="More receipt numbers, one per line (- for standard input).")
    @click.option("--reason", required=True, help="Why; kept in the audit log.")
    @click.option("--by", "email", required=True,
                  help="The organiser who decided it (an account).")
    def command(slug, key, vote_ids, id_file, reason, email):
        from app.cli import as_cli

        as_cli()
        category = Category.by_keys(slug, key)
        if category is None or not category.has_public_vote:
            raise click.ClickException(f"no voted category {key!r} in campaign {slug!r}")
        organiser = db.session.scalar(select(User).where(
            func.lower(User.email) == email.strip().lower(), User.role == Role.ORGANISER))
        if organiser is None:
            raise click.ClickException(f"no organiser account {email!r}")
        wanted = set(vote_ids)
        for number, line in enumerate(id_file or (), start=1):
            if line.strip():
                try:
                    wanted.add(int(line))
                except ValueError:
                    raise click.ClickException(
                        f"line {number}: not a receipt number: {line.strip()!r}") from None
        if not wanted:
            raise click.UsageError("give receipt numbers, or --from-file")
        try:
            changed = change(category, wanted, organiser, reason, utcnow(),
                             about=f"votes {name} (command line)")
        except services.VotingError as error:
            raise click.ClickException(str(error)) from error
        db.session.commit()
        refused = sorted(wanted - set(changed))
        click.echo(f"{key}: {len(changed)} votes {verb}")
        if refused:
            shown = ", ".join(map(str, refused[:20])) + (" …" if len(refused) > 20 else "")
            click.echo(f"refused {len(refused)} ({refused_because}): {shown}")

    return command


void_command = _receipts_command(
    "void", "voided", services.void_votes, "no valid vote of this category",
    """Void votes of category KEY of campaign SLUG by their receipt numbers (an objection's
    bought votes, say), with a reason: they stay on record and leave every tally. Prints what
    was voided and which numbers were refused: no valid vote of that category.""")
restore_command = _receipts_command(
    "restore", "restored", services.restore_votes, "no voided vote of this category",
    """Restore voided votes of category KEY of campaign SLUG by their receipt numbers (a void
    found wrong), with a reason: they count again in every tally, and the audit log keeps the
    void and the restore. Prints what was restored and which numbers were refused: no voided
    vote of that category.""")


def register(app):
    from .manage import dump_thresholds, load_thresholds

    campaign_io.register_setting("fraud_thresholds", load_thresholds, dump_thresholds)
    app.cli.add_command(votes_cli)
