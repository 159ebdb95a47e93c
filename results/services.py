"""A category's ranking from the database: submitted reviews and valid votes."""
import json
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from nominations.models import Entry, EntryStatus
from nominations.tabular import write_csv, write_xlsx
from review.models import Review, ReviewStatus
from review.services import approved_entries, scored_reviews
from voting.services import purge_metadata, recount, tallies

from .models import Objection, ObjectionOutcome, Publication, PublicationKind
from .ranking import rank_category
from .sensitivity import explore
from .snapshot import build, canonical, digest_of


def _inputs(category):
    """Approved entries, submitted reviews and valid votes. The votes are the counters the vote
    path keeps (no count over the vote table); publishing checks them against a recount."""
    entries = approved_entries(category)
    reviews = scored_reviews(category) if category.has_review else []
    votes = tallies(category) if category.has_public_vote else {}
    return entries, reviews, votes


def category_ranking(category):
    """The Ranking of ``category``'s approved entries (rows hold entry ids), and the entries."""
    entries, reviews, votes = _inputs(category)
    ranking = rank_category([(e.id, e.number) for e in entries], reviews, votes,
                            category.expert_weight, category.public_weight,
                            category.aggregation.value, category.winners)
    return ranking, {e.id: e for e in entries}


def category_sensitivity(category):
    """The category's ranking beside the same inputs under other methods and weights
    (results.sensitivity.explore), and the entries by id."""
    entries, reviews, votes = _inputs(category)
    explored = explore([(e.id, e.number) for e in entries], reviews, votes,
                       category.expert_weight, category.public_weight, category.aggregation.value,
                       category.winners, vary_methods=category.has_review,
                       vary_weights=category.has_review and category.has_public_vote)
    return explored, {e.id: e for e in entries}


def ranking_rows(category):
    """Header and rows (plain values) of a category's ranking, for tables and files."""
    ranking, entries = category_ranking(category)
    header = [_("Rank"), _("Number"), _("Title"), _("Agency"), _("Expert score"), _("Reviews"),
              _("Valid votes"), _("Public score"), _("Final score"), _("Winner"), _("Flags")]
    rows = []
    for row in ranking.rows:
        entry = entries[row.entry]
        flags = [_("unreviewed")] if row.unreviewed else []
        rows.append([row.rank, row.number, entry.title, entry.agency.name, round(row.expert, 4),
                     row.reviews, row.votes, round(row.public, 4), round(row.final, 4),
                     _("Yes") if row.winner else "", ", ".join(flags)])
    return header, rows, ranking


def export(categories, file_format):
    """The rankings of ``categories`` as text (table, csv, json) or bytes (xlsx)."""
    tables = [(category, *ranking_rows(category)) for category in categories]
    if file_format == "json":
        return json.dumps([{
            "category": category.key, "winners": ranking.winners,
            "boundary_tie": ranking.boundary_tie,
            "rows": [dict(zip(["rank", "number", "title", "agency", "expert", "reviews", "votes",
                               "public", "final", "winner", "flags"], row, strict=True))
                     for row in rows]} for category, _header, rows, ranking in tables],
            ensure_ascii=False, indent=2)
    if file_format == "xlsx":
        category, header, rows, _ranking = tables[0]
        return write_xlsx(header, rows, category.key)
    if file_format == "csv":
        category, header, rows, _ranking = tables[0]
        return write_csv(header, rows).decode("utf-8-sig")
    lines = []
    for category, header, rows, ranking in tables:
        lines.append(f"{category.key} · {category.name}"
                     + (f"  [{_('tie at the boundary')}]" if ranking.boundary_tie else ""))
        lines.append("  ".join(str(h) for h in header))
        lines += ["  ".join(str(value) for value in row) for row in rows]
        lines.append("")
    return "\n".join(lines)


def publish(category, kind, organiser, now):
    """Freeze the category's ranking as a new publication version (the older ones stay)."""
    entries = approved_entries(category)
    votes = recount(category) if category.has_public_vote else {}
    if category.has_public_vote and {e: n for e, n in tallies(category).items() if n} != votes:
        raise ResultsError(_("The live counters disagree with the vote table: run "
                             "“votes recount --fix” before publishing."))
    numbers = {e.id: e.number for e in entries}
    criteria = category.criteria if category.has_review else []
    reviews = []
    if criteria:
        rows = db.session.scalars(select(Review).where(
            Review.entry_id.in_(list(numbers)), Review.status == ReviewStatus.SUBMITTED)).all()
        pseudonyms = {expert: f"E{i}" for i, expert in enumerate(
            sorted({r.expert_id for r in rows}), start=1)}
        reviews = [{"entry": numbers[r.entry_id], "expert": pseudonyms[r.expert_id],
                    "points": [int(r.points.get(str(c.id), 0)) for c in criteria]} for r in rows]
    version = (db.session.scalar(select(func.max(Publication.version)).where(
        Publication.category_id == category.id)) or 0) + 1
    campaign = category.campaign
    data = build(
        {"slug": campaign.slug, "title": campaign.title, "timezone": campaign.timezone},
        {"key": category.key, "name": category.name, "kind": category.kind.value,
         "winners": category.winners, "expert_weight": category.expert_weight,
         "public_weight": category.public_weight, "aggregation": category.aggregation.value,
         "rubric": [{"name": c.name, "max_points": c.max_points} for c in criteria]},
        [{"number": e.number, "title": e.title, "agency": e.agency.name,
          "votes": votes.get(e.id, 0)} for e in entries],
        reviews, PublicationKind(kind).value, version, now.isoformat())
    text = canonical(data)
    publication = Publication(category=category, version=version, kind=PublicationKind(kind),
                              published_at=now, published_by_id=organiser.id, snapshot=text,
                              digest=digest_of(text))
    db.session.add(publication)
    db.session.flush()
    return publication


def latest_publications(campaign):
    """{category: its newest publication} for the campaign's published categories."""
    latest = {}
    for publication in db.session.scalars(select(Publication).join(Publication.category).where(
            Publication.category.has(campaign_id=campaign.id)).order_by(Publication.version)):
        latest[publication.category] = publication
    return latest


def publication_progress(categories):
    """For the organiser's campaign page, read at once for ``categories``: {category id: its
    newest publication as (version, kind, published at)}, without the snapshots, and
    {category id: objections to its lists still waiting for an answer}."""
    ids = [category.id for category in categories]
    latest = {}
    for category_id, version, kind, published_at in db.session.execute(
            select(Publication.category_id, Publication.version, Publication.kind,
                   Publication.published_at)
            .where(Publication.category_id.in_(ids)).order_by(Publication.version)):
        latest[category_id] = (version, kind, published_at)
    waiting = dict(db.session.execute(
        select(Publication.category_id, func.count())
        .join(Objection, Objection.publication_id == Publication.id)
        .where(Publication.category_id.in_(ids), Objection.outcome.is_(None))
        .group_by(Publication.category_id)).all())
    return latest, waiting


class ResultsError(Exception):
    """A refusal with a message for the user."""


def objection_deadline(publication):
    return publication.published_at + timedelta(days=publication.category.campaign.objection_days)


def lodge_objection(publication, entry_number, reason, contact, now):
    """Anyone may object to a listed entry of a provisional list during its objection window."""
    if publication.kind != PublicationKind.PROVISIONAL or now >= objection_deadline(publication):
        raise ResultsError(_("Objections to this list are closed."))
    numbers = {row["number"] for row in json.loads(publication.snapshot)["entries"]}
    if entry_number not in numbers:
        raise ResultsError(_("This entry is not on the list."))
    objection = Objection(publication=publication, entry_number=entry_number,
                          reason=reason.strip(), contact=contact.strip(), created_at=now)
    db.session.add(objection)
    db.session.flush()
    return objection


def answer_objection(objection, organiser, outcome, answer, now):
    if objection.outcome is not None:
        raise ResultsError(_("This objection is already answered."))
    objection.outcome = ObjectionOutcome(outcome)
    objection.answer, objection.answered_by_id, objection.answered_at = answer.strip(), organiser.id, now


def check_can_finalise(category, now):
    """The final list waits for the latest provisional list's objection window and answers."""
    provisional = db.session.scalar(select(Publication).where(
        Publication.category_id == category.id, Publication.kind == PublicationKind.PROVISIONAL)
        .order_by(Publication.version.desc()).limit(1))
    if provisional is None:
        raise ResultsError(_("Publish the provisional list (公示) first."))
    if now < objection_deadline(provisional):
        raise ResultsError(_("The objection window is still open."))
    open_count = db.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.publication_id == provisional.id, Objection.outcome.is_(None)))
    if open_count:
        raise ResultsError(_("%(count)d objections still need an answer.", count=open_count))



def published_winners(campaign, kinds):
    """[(category, publication, [(rank, entry)])]: the winners of the newest publication of each
    category of ``kinds``, in rank order, as approved entries (an entry withdrawn since is left
    out). Only what was published counts, never the live ranking."""
    books = []
    for category, publication in sorted(latest_publications(campaign).items(),
                                        key=lambda item: (item[0].position, item[0].id)):
        if category.kind not in kinds:
            continue
        ranks = {row["number"]: row["rank"] for row in json.loads(publication.snapshot)["ranking"]
                 if row["winner"]}
        found = db.session.scalars(select(Entry).options(
            selectinload(Entry.agency), selectinload(Entry.attachments)).where(
            Entry.category_id == category.id, Entry.number.in_(list(ranks)),
            Entry.status == EntryStatus.APPROVED)).all()
        winners = sorted(((ranks[entry.number], entry) for entry in found),
                         key=lambda pair: (pair[0], pair[1].number))
        books.append((category, publication, winners))
    return books


def voter_data_due(campaign, days):
    """When the voters' raw metadata of ``campaign`` may go: ``days`` after the last final list of
    its public-vote categories (evidence for objections is kept until then); None while a
    public-vote category has no final list yet."""
    finals = []
    for category in campaign.categories:
        if not category.has_public_vote:
            continue
        final = db.session.scalar(select(func.min(Publication.published_at)).where(
            Publication.category_id == category.id, Publication.kind == PublicationKind.FINAL))
        if final is None:
            return None
        finals.append(final)
    return max(finals) + timedelta(days=days) if finals else None


def purge_voter_data(campaign, now, days):
    """Purge the voters' raw metadata once due (voting.services.purge_metadata)."""
    due = voter_data_due(campaign, days)
    if due is None:
        raise ResultsError(_("Not yet: the final list of every voted category comes first."))
    if now < due:
        raise ResultsError(_("Not yet: the voters' data may be purged from %(date)s.",
                             date=campaign.local(due).strftime("%Y-%m-%d")))
    return purge_metadata(campaign, due - timedelta(days=days))
