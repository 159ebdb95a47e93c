"""A category's ranking from the database: submitted reviews and valid votes."""
import json

from flask_babel import gettext as _

from nominations.tabular import write_csv, write_xlsx
from review.services import approved_entries, scored_reviews
from voting.services import recount

from .ranking import rank_category


def category_ranking(category):
    """The Ranking of ``category``'s approved entries (rows hold entry ids), and the entries."""
    entries = approved_entries(category)
    reviews = scored_reviews(category) if category.has_review else []
    votes = recount(category) if category.has_public_vote else {}
    ranking = rank_category([(e.id, e.number) for e in entries], reviews, votes,
                            category.expert_weight, category.public_weight,
                            category.aggregation.value, category.winners)
    return ranking, {e.id: e for e in entries}


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
