"""DESIGN.md §3 steps 1-2 against hand-computed values, and properties of the three methods."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.scoring import (
    ScoredReview,
    competition_ranks,
    expert_scores,
    leniency,
    review_score,
    trimmed_score,
)


def reviews(*rows):
    return [ScoredReview(entry, expert, score) for entry, expert, score in rows]


def test_review_score_is_the_share_of_the_maximum():
    assert review_score([20, 25], [30, 40]) == pytest.approx(100 * 45 / 70)
    assert review_score([0, 0], [30, 40]) == 0
    assert review_score([30, 40], [30, 40]) == 100


def test_mean():
    scores = expert_scores(reviews(("a", 1, 80), ("a", 2, 70), ("a", 3, 90), ("b", 1, 55)), "mean")
    assert scores == {"a": pytest.approx(80), "b": pytest.approx(55)}


@pytest.mark.parametrize("values, expected", [
    ([80, 70, 90, 60], 75),   # drop 90 and 60
    ([80, 70, 90], 80),       # n = 3: only the middle one is left
    ([80, 70], 75),           # n < 3: the plain mean
    ([55], 55),               # a single review
    ([50, 50, 50], 50),       # ties at both ends: one of each is dropped
    ([100, 100, 0, 0], 50),
])
def test_trimmed_drops_one_highest_and_one_lowest(values, expected):
    assert trimmed_score(values) == pytest.approx(expected)
    rows = reviews(*[("e", expert, value) for expert, value in enumerate(values)])
    assert expert_scores(rows, "trimmed") == {"e": pytest.approx(expected)}


def test_zscore_by_hand():
    # X: 80 and 60 -> mu 70, sigma 10, z = +1 and -1.  Y: 90 and 90 -> sigma 0, z = 0.
    # e1 = 50 + 10 x mean(1, 0) = 55; e2 = 50 + 10 x mean(-1, 0) = 45.
    # Z has a single review -> sigma 0 -> z 0 -> e3 = 50.
    rows = reviews(("e1", "X", 80), ("e2", "X", 60), ("e1", "Y", 90), ("e2", "Y", 90),
                   ("e3", "Z", 100))
    assert expert_scores(rows, "zscore") == {
        "e1": pytest.approx(55), "e2": pytest.approx(45), "e3": pytest.approx(50)}


def test_zscore_is_clamped_to_0_100():
    # One 100 among 36 zeros: mu = 100/37, sigma = 600/37, z = 6 -> 50 + 60 = 110 -> 100;
    # each zero: z = -1/6 -> 50 - 10/6.
    rows = reviews(("top", "W", 100), *[(f"e{i}", "W", 0) for i in range(36)])
    scores = expert_scores(rows, "zscore")
    assert scores["top"] == 100
    assert scores["e0"] == pytest.approx(50 - 10 / 6)


def test_zscore_treats_float_noise_as_no_spread():
    third = 100 * 2 / 3
    rows = reviews(*[(f"e{i}", "V", third) for i in range(7)])
    assert set(expert_scores(rows, "zscore").values()) == {50.0}


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError):
        expert_scores([], "median")


def test_competition_ranks():
    assert competition_ranks([90, 80, 80, 70]) == [1, 2, 2, 4]
    assert competition_ranks([5, 5, 5]) == [1, 1, 1]
    assert competition_ranks([]) == []


def test_leniency_compares_each_expert_with_the_panel():
    rows = reviews(("a", "hard", 40), ("b", "hard", 50), ("a", "soft", 80), ("b", "soft", 60))
    by_expert = {row.expert: row for row in leniency(rows, margin=15, minimum=5)}
    hard, soft = by_expert["hard"], by_expert["soft"]
    assert (hard.mean, soft.mean, hard.panel_mean) == (45, 70, 57.5)
    assert hard.spread == pytest.approx(5) and soft.spread == pytest.approx(10)
    # on "a" they differ by 40 (> 15), on "b" by 10
    assert hard.disagreement == soft.disagreement == 0.5
    assert hard.too_few and soft.too_few


review_rows = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 4),
              st.floats(0, 100, allow_nan=False, allow_infinity=False)),
    min_size=1, max_size=40, unique_by=lambda row: (row[0], row[1]))


@given(review_rows, st.randoms(use_true_random=False), st.sampled_from(["mean", "trimmed", "zscore"]))
def test_the_methods_do_not_depend_on_the_order_of_reviews(rows, random, method):
    shuffled = list(rows)
    random.shuffle(shuffled)
    first = expert_scores(reviews(*rows), method)
    second = expert_scores(reviews(*shuffled), method)
    assert first.keys() == second.keys()
    for entry in first:
        assert first[entry] == pytest.approx(second[entry], abs=1e-9)


@given(review_rows, st.sampled_from(["mean", "trimmed", "zscore"]))
def test_the_methods_stay_within_0_and_100(rows, method):
    for score in expert_scores(reviews(*rows), method).values():
        assert -1e-9 <= score <= 100 + 1e-9
