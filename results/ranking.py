"""A category's ranking, exactly as DESIGN.md §3 steps 3-6 say. Pure: no Flask, no database.

    public score   p = 100 x v / v_max  (0 where v_max = 0), v = the entry's valid votes
    final score    f = expert_weight x expert + public_weight x public
    order          f, then the expert score, then valid votes, all descending, compared after
                   rounding to 4 decimals; entries still equal share a rank (1, 2, 2, 4) and are
                   listed by public number
    winners        every entry whose rank <= winners; a tie across that boundary makes more
                   winners and is flagged

The expert score comes from review.scoring (step 2); an entry without submitted reviews scores 0
and is flagged unreviewed when the category has an expert weight.
"""
from dataclasses import dataclass

from review.scoring import competition_ranks, expert_scores


@dataclass(frozen=True)
class RankedEntry:
    entry: object
    number: str
    expert: float
    reviews: int
    unreviewed: bool
    votes: int
    public: float
    final: float
    rank: int
    winner: bool


@dataclass(frozen=True)
class Ranking:
    rows: list
    #: More winners than the category's number because of a tie at the boundary.
    boundary_tie: bool
    winners: int


def _key(value):
    return round(value, 4)


def rank_category(entries, reviews, votes, expert_weight, public_weight, method, winners):
    """Rank ``entries`` [(entry, number)] from ``reviews`` [ScoredReview] and ``votes`` {entry: n}.

    Only what is given counts: pass valid votes only and submitted reviews only.
    """
    expert = expert_scores(reviews, method) if reviews else {}
    review_counts = {}
    for review in reviews:
        review_counts[review.entry] = review_counts.get(review.entry, 0) + 1
    v_max = max((votes.get(entry, 0) for entry, _number in entries), default=0)
    scored = []
    for entry, number in entries:
        e = expert.get(entry, 0.0)
        v = votes.get(entry, 0)
        p = 100.0 * v / v_max if v_max else 0.0
        f = expert_weight * e + public_weight * p
        scored.append((entry, number, e, v, p, f))
    scored.sort(key=lambda s: (-_key(s[5]), -_key(s[2]), -s[3], s[1]))
    ranks = competition_ranks([(_key(s[5]), _key(s[2]), s[3]) for s in scored])
    rows = [
        RankedEntry(entry, number, e, review_counts.get(entry, 0),
                    expert_weight > 0 and entry not in expert, v, p, f, rank, rank <= winners)
        for (entry, number, e, v, p, f), rank in zip(scored, ranks, strict=True)
    ]
    count = sum(1 for row in rows if row.winner)
    return Ranking(rows, count > winners, count)
