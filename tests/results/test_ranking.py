"""results.ranking against hand-computed tables, and its properties."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from results.ranking import rank_category
from review.scoring import ScoredReview


def reviews(table):
    """{entry: [r by expert 1, 2, ...]} -> ScoredReview list."""
    return [ScoredReview(entry, f"x{i}", score) for entry, scores in table.items()
            for i, score in enumerate(scores)]


def summary(ranking):
    return [(r.number, r.rank, r.winner, round(r.final, 4)) for r in ranking.rows]


ENTRIES = [("a", "N-001"), ("b", "N-002"), ("c", "N-003"), ("d", "N-004")]


def test_expert_only_with_trimmed_mean():
    # a: 90 80 70 60 -> drop 90 and 60 -> 75; b: 80 80 -> 80; c: 50 -> 50; d: none -> 0
    ranking = rank_category(ENTRIES, reviews({"a": [90, 80, 70, 60], "b": [80, 80], "c": [50]}),
                            {}, 1.0, 0.0, "trimmed", 2)
    assert summary(ranking) == [("N-002", 1, True, 80), ("N-001", 2, True, 75),
                                ("N-003", 3, False, 50), ("N-004", 4, False, 0)]
    assert [r.unreviewed for r in ranking.rows] == [False, False, False, True]
    assert not ranking.boundary_tie


def test_public_vote_only():
    ranking = rank_category(ENTRIES, [], {"a": 50, "b": 200, "c": 100}, 0.0, 1.0, "mean", 2)
    assert summary(ranking) == [("N-002", 1, True, 100), ("N-003", 2, True, 50),
                                ("N-001", 3, False, 25), ("N-004", 4, False, 0)]
    assert not any(r.unreviewed for r in ranking.rows)  # no review in this category


def test_no_votes_at_all_gives_public_score_zero():
    ranking = rank_category(ENTRIES[:2], [], {}, 0.0, 1.0, "mean", 1)
    assert [r.public for r in ranking.rows] == [0, 0]
    assert [r.rank for r in ranking.rows] == [1, 1] and ranking.boundary_tie


def test_mixed_weights():
    # expert: a 80, b 60, c 70; votes: a 10, b 40, c 20 -> public 25, 100, 50
    # final: a .6*80+.4*25 = 58; b .6*60+.4*100 = 76; c .6*70+.4*50 = 62
    ranking = rank_category(ENTRIES[:3], reviews({"a": [80], "b": [60], "c": [70]}),
                            {"a": 10, "b": 40, "c": 20}, 0.6, 0.4, "mean", 1)
    assert summary(ranking) == [("N-002", 1, True, 76), ("N-003", 2, False, 62),
                                ("N-001", 3, False, 58)]


def test_ties_share_a_rank_and_the_boundary_tie_makes_more_winners():
    ranking = rank_category(ENTRIES, reviews({"a": [90], "b": [80], "c": [80], "d": [70]}),
                            {}, 1.0, 0.0, "mean", 2)
    assert [(r.number, r.rank) for r in ranking.rows] == [
        ("N-001", 1), ("N-002", 2), ("N-003", 2), ("N-004", 4)]
    assert ranking.boundary_tie and ranking.winners == 3


def test_a_tie_inside_the_winners_is_not_flagged():
    ranking = rank_category(ENTRIES, reviews({"a": [80], "b": [80], "c": [70], "d": [60]}),
                            {}, 1.0, 0.0, "mean", 3)
    assert [r.rank for r in ranking.rows] == [1, 1, 3, 4]
    assert not ranking.boundary_tie and ranking.winners == 3


def test_equal_final_scores_are_broken_by_expert_score_then_votes():
    # a: expert 50, votes 100 -> public 100 -> f 75; b: expert 100, votes 0 -> f 50 + 0... use
    # weights 0.5/0.5: a = 25 + 50 = 75; b = 50 + 25 = 75 (votes 50); the expert score decides.
    ranking = rank_category(ENTRIES[:2], reviews({"a": [50], "b": [100]}), {"a": 100, "b": 50},
                            0.5, 0.5, "mean", 1)
    assert [(r.number, r.rank) for r in ranking.rows] == [("N-002", 1), ("N-001", 2)]
    # same final and same expert score: the votes decide
    ranking = rank_category(ENTRIES[:2], [], {"a": 10, "b": 10}, 1.0, 0.0, "mean", 1)
    assert [r.rank for r in ranking.rows] == [1, 1]


def test_scores_equal_after_rounding_to_four_decimals_tie():
    ranking = rank_category(ENTRIES[:2], reviews({"a": [70.00001], "b": [70.00002]}), {},
                            1.0, 0.0, "mean", 1)
    assert [r.rank for r in ranking.rows] == [1, 1]
    assert [r.number for r in ranking.rows] == ["N-001", "N-002"]  # listed by number


@pytest.mark.parametrize("method", ["mean", "trimmed", "zscore"])
def test_every_method_ranks(method):
    ranking = rank_category(ENTRIES, reviews({"a": [90, 10, 50], "b": [60, 60, 60], "c": [70]}),
                            {}, 1.0, 0.0, method, 2)
    assert sorted(r.number for r in ranking.rows) == [n for _e, n in ENTRIES]


entries_strategy = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 500),
                                      st.floats(0, 100, allow_nan=False)),
                            min_size=1, max_size=12)


def _inputs(rows):
    entries = [(i, f"N-{i:03d}") for i in range(len(rows))]
    votes = {i: v for i, (_x, v, _s) in enumerate(rows)}
    scored = reviews({i: [s] for i, (_x, _v, s) in enumerate(rows)})
    return entries, votes, scored


@given(entries_strategy, st.randoms(use_true_random=False))
def test_ranks_do_not_depend_on_input_order(rows, random):
    entries, votes, scored = _inputs(rows)
    shuffled_entries, shuffled_reviews = list(entries), list(scored)
    random.shuffle(shuffled_entries)
    random.shuffle(shuffled_reviews)
    first = rank_category(entries, scored, votes, 0.6, 0.4, "mean", 3)
    second = rank_category(shuffled_entries, shuffled_reviews, votes, 0.6, 0.4, "mean", 3)
    assert [(r.entry, r.rank, r.winner) for r in first.rows] == [
        (r.entry, r.rank, r.winner) for r in second.rows]


@given(entries_strategy, st.data())
def test_one_more_valid_vote_never_lowers_an_entrys_final_score(rows, data):
    entries, votes, scored = _inputs(rows)
    target = data.draw(st.sampled_from([e for e, _n in entries]))
    before = {r.entry: r.final for r in rank_category(entries, scored, votes, 0.6, 0.4, "mean",
                                                       3).rows}
    votes = {**votes, target: votes[target] + 1}
    after = {r.entry: r.final for r in rank_category(entries, scored, votes, 0.6, 0.4, "mean",
                                                      3).rows}
    assert after[target] >= before[target] - 1e-9
