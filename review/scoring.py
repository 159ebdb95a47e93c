"""Expert scores, exactly as DESIGN.md §3 steps 1-2 say. Pure functions: no Flask, no database.

    review score   r = 100 x sum(points) / sum(max points)
    mean           the arithmetic mean of an entry's r
    trimmed        n >= 3: drop one highest and one lowest r, then the mean; n < 3: the mean
    zscore         per expert, over all their submitted reviews in the category: mean mu and
                   population standard deviation sigma; z = (r - mu) / sigma, or 0 where sigma = 0;
                   entry score = clamp(50 + 10 x mean(z), 0, 100)

An entry without submitted reviews has no score here; the ranking gives it 0 and flags it.
"""
from collections import defaultdict
from dataclasses import dataclass
from math import fsum, sqrt

METHODS = ("mean", "trimmed", "zscore")


@dataclass(frozen=True)
class ScoredReview:
    """One submitted review reduced to what the formulas need."""

    entry: object
    expert: object
    score: float  #: r, 0..100


def review_score(points, max_points):
    """r = 100 x sum(points) / sum(max points) of a rubric."""
    total_max = sum(max_points)
    if total_max <= 0:
        raise ValueError("a rubric needs a positive maximum")
    return 100.0 * sum(points) / total_max


def _mean(values):
    return fsum(values) / len(values)


def mean_score(scores):
    return _mean(scores)


def trimmed_score(scores):
    """Without one highest and one lowest when there are three or more (去掉最高分和最低分)."""
    if len(scores) < 3:
        return _mean(scores)
    ordered = sorted(scores)
    return _mean(ordered[1:-1])


def expert_statistics(reviews):
    """{expert: (mu, sigma)} over each expert's reviews (population standard deviation)."""
    by_expert = defaultdict(list)
    for review in reviews:
        by_expert[review.expert].append(review.score)
    stats = {}
    for expert, scores in by_expert.items():
        mu = _mean(scores)
        sigma = sqrt(fsum((s - mu) ** 2 for s in scores) / len(scores))
        stats[expert] = (mu, sigma)
    return stats


def z_value(score, mu, sigma):
    # sigma below rounding noise counts as 0: an expert who gave everything the same score
    return 0.0 if sigma < 1e-12 else (score - mu) / sigma


def expert_scores(reviews, method):
    """{entry: expert score} for the entries that have submitted reviews, by ``method``."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    by_entry = defaultdict(list)
    if method == "zscore":
        stats = expert_statistics(reviews)
        for review in reviews:
            mu, sigma = stats[review.expert]
            by_entry[review.entry].append(z_value(review.score, mu, sigma))
        return {entry: min(100.0, max(0.0, 50.0 + 10.0 * _mean(zs)))
                for entry, zs in by_entry.items()}
    for review in reviews:
        by_entry[review.entry].append(review.score)
    combine = mean_score if method == "mean" else trimmed_score
    return {entry: combine(scores) for entry, scores in by_entry.items()}


def competition_ranks(keys):
    """Competition ranks (1, 2, 2, 4) of items already sorted best first by ``keys``:
    equal keys share a rank."""
    ranks = []
    for index, key in enumerate(keys):
        if index and key == keys[index - 1]:
            ranks.append(ranks[-1])
        else:
            ranks.append(index + 1)
    return ranks


@dataclass(frozen=True)
class Leniency:
    """How an expert scores compared with the panel."""

    expert: object
    reviews: int
    mean: float
    spread: float  #: population standard deviation of the expert's r
    panel_mean: float
    panel_spread: float
    #: Share of the expert's reviews that differ from the others' mean on the same entry by
    #: more than the margin (None when no entry of theirs has another review).
    disagreement: float | None
    #: Fewer reviews than a z-score needs to mean much.
    too_few: bool


def leniency(reviews, margin=15.0, minimum=5):
    """One Leniency per expert, from all submitted reviews of a category."""
    if not reviews:
        return []
    all_scores = [r.score for r in reviews]
    panel_mean = _mean(all_scores)
    panel_spread = sqrt(fsum((s - panel_mean) ** 2 for s in all_scores) / len(all_scores))
    by_entry = defaultdict(list)
    for review in reviews:
        by_entry[review.entry].append(review)
    result = []
    for expert, (mu, sigma) in expert_statistics(reviews).items():
        own = [r for r in reviews if r.expert == expert]
        compared = differing = 0
        for review in own:
            others = [o.score for o in by_entry[review.entry] if o.expert != expert]
            if others:
                compared += 1
                differing += abs(review.score - _mean(others)) > margin
        result.append(Leniency(expert, len(own), mu, sigma, panel_mean, panel_spread,
                               differing / compared if compared else None, len(own) < minimum))
    return result
