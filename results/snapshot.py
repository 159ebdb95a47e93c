"""Snapshots of a ranking that anyone can check: canonical JSON, its SHA-256, and a recount.

Pure apart from the data handed in: ``build`` takes plain values, ``verify`` needs only the file.
"""
import hashlib
import json

from review.scoring import ScoredReview, review_score

from .ranking import rank_category

FORMAT = "award-platform/snapshot/1"


def canonical(data):
    """The one text a snapshot is hashed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest_of(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ranking_inputs(data):
    """Entries, reviews (r recomputed from the points) and votes as the ranking takes them."""
    category = data["category"]
    maxima = [c["max_points"] for c in category["rubric"]]
    entries = [(e["number"], e["number"]) for e in data["entries"]]
    reviews = [ScoredReview(r["entry"], r["expert"], review_score(r["points"], maxima))
               for r in data["reviews"]]
    votes = {e["number"]: e["votes"] for e in data["entries"]}
    return entries, reviews, votes


def ranking_of(data):
    """The ranking rows the snapshot's own inputs give, rounded as published."""
    category = data["category"]
    entries, reviews, votes = _ranking_inputs(data)
    ranking = rank_category(entries, reviews, votes, category["expert_weight"],
                            category["public_weight"], category["aggregation"],
                            category["winners"])
    rows = [{"number": r.number, "rank": r.rank, "expert": round(r.expert, 4),
             "public": round(r.public, 4), "final": round(r.final, 4), "votes": r.votes,
             "reviews": r.reviews, "winner": r.winner, "unreviewed": r.unreviewed}
            for r in ranking.rows]
    return rows, ranking.boundary_tie


def build(campaign, category, entries, reviews, kind, version, published_at):
    """The snapshot data: ``entries`` [{number, title, agency, votes}], ``reviews``
    [{entry: number, expert: pseudonym, points: [...]}] (valid votes and submitted reviews)."""
    data = {
        "format": FORMAT,
        "campaign": campaign,
        "category": category,
        "kind": kind,
        "version": version,
        "published_at": published_at,
        "entries": sorted(entries, key=lambda e: e["number"]),
        "reviews": sorted(reviews, key=lambda r: (r["entry"], r["expert"])),
    }
    data["ranking"], data["boundary_tie"] = ranking_of(data)
    return data


def verify(document):
    """Check a downloaded snapshot file {"snapshot": ..., "digest": ...}: (ok, problems)."""
    problems = []
    snapshot = document.get("snapshot") if isinstance(document, dict) else None
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT:
        return False, ["not a snapshot of this platform"]
    if digest_of(canonical(snapshot)) != document.get("digest"):
        problems.append("the digest does not match the snapshot: it was changed after publication")
    rows, boundary_tie = ranking_of(snapshot)
    if rows != snapshot.get("ranking"):
        published = {r["number"]: r for r in snapshot.get("ranking", [])}
        for row in rows:
            if published.get(row["number"]) != row:
                problems.append(f"{row['number']}: the inputs give {row}, "
                                f"the snapshot says {published.get(row['number'])}")
    if boundary_tie != snapshot.get("boundary_tie"):
        problems.append("the boundary tie flag does not follow from the inputs")
    return not problems, problems
