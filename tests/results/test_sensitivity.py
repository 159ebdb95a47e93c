"""The sensitivity view: the same inputs under other weights and methods, who enters and leaves."""
from bs4 import BeautifulSoup

from results.sensitivity import WEIGHT_STEPS, explore
from review.scoring import ScoredReview

# A: experts love it, few votes; B: middling; C: the public's favourite, experts lukewarm.
ENTRIES = [("A", "A"), ("B", "B"), ("C", "C")]
REVIEWS = [ScoredReview("A", "x", 90.0), ScoredReview("A", "y", 90.0),
           ScoredReview("B", "x", 70.0), ScoredReview("B", "y", 60.0),
           ScoredReview("C", "x", 40.0), ScoredReview("C", "y", 50.0)]
VOTES = {"A": 10, "B": 50, "C": 100}


def test_weights_move_the_winners_as_computed_by_hand():
    base, by_method, by_weight = explore(ENTRIES, REVIEWS, VOTES, 0.5, 0.5, "mean", 1)
    # in use (0.5/0.5): A 45 + 5 = 50, B 32.5 + 25 = 57.5, C 22.5 + 50 = 72.5 -> C wins
    assert base.winners == {"C"}
    winners = {round(s.public_weight, 1): s.winners for s in by_weight}
    # public weight w: A = 90(1-w) + 10w, C = 45(1-w) + 100w (B is never first):
    # A > C  <=>  90 - 80w > 45 + 55w  <=>  w < 1/3
    assert winners[0.0] == winners[0.1] == winners[0.2] == winners[0.3] == {"A"}
    assert all(winners[w] == {"C"} for w in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0))
    row = next(s for s in by_weight if s.public_weight == 0.0)
    assert (row.entering, row.leaving, row.expert_weight) == (("A",), ("C",), 1.0)
    assert [s.current for s in by_weight] == [w == 0.5 for w in WEIGHT_STEPS]
    assert not next(s for s in by_weight if s.current).changes
    # every method gives the same winner here, and the one in use is marked
    assert [(s.method, s.current, s.changes) for s in by_method] == [
        ("mean", True, False), ("trimmed", False, False), ("zscore", False, False)]


def test_a_method_can_change_the_winners():
    # four reviews of B, one very low: the trimmed mean drops it and B overtakes A
    reviews = [ScoredReview("A", e, 80.0) for e in "wxyz"] + [
        ScoredReview("B", "w", 10.0), ScoredReview("B", "x", 95.0),
        ScoredReview("B", "y", 95.0), ScoredReview("B", "z", 95.0)]
    base, by_method, by_weight = explore([("A", "A"), ("B", "B")], reviews, {}, 1.0, 0.0,
                                         "mean", 1, vary_weights=False)
    assert base.winners == {"A"} and by_weight == []  # mean: A 80, B 73.75
    trimmed = next(s for s in by_method if s.method == "trimmed")
    assert (trimmed.entering, trimmed.leaving) == (("B",), ("A",))  # trimmed: B 95


def test_the_page_marks_who_enters_and_leaves(organiser_client):
    response = organiser_client.get("/results/manage/week/workers/sensitivity")
    assert response.status_code == 200
    page = BeautifulSoup(response.data, "html.parser")
    rows = {row.th.get_text(" ", strip=True).split(" (")[0]: row
            for row in page.select("table.sensitivity tbody tr")}
    # fixture: SW-001 expert 80, no votes; SW-002 expert 60, 4 votes; 0.6/0.4 -> SW-002 wins.
    # With public weight w: SW-001 80(1-w), SW-002 60(1-w) + 100w: SW-001 wins while w < 1/6.
    for weights in ("1.0 / 0.0", "0.9 / 0.1"):
        assert rows[weights].select_one(".enter").get_text(strip=True) == "+ SW-001"
        assert rows[weights].select_one(".leave").get_text(strip=True) == "− SW-002"
    for weights in ("0.8 / 0.2", "0.6 / 0.4", "0.0 / 1.0"):
        assert rows[weights].select(".enter, .leave") == []
    assert "current" in rows["0.6 / 0.4"]["class"]
    assert page.select_one("figure svg.chart polyline") is not None
    assert {row.th.get_text(" ", strip=True).split(" (")[0] for row in page.select(
        "table.sensitivity tbody tr") if "current" in row["class"]} == {"0.6 / 0.4", "专家评分平均值"}


def test_a_public_vote_only_category_has_nothing_to_vary(organiser_client, contest,
                                                         make_category):
    category, _entries, _organiser = contest
    make_category(category.campaign, key="lines", kind="hotline", expert_weight=0,
                  public_weight=1)
    html = organiser_client.get("/results/manage/week/lines/sensitivity").get_data(as_text=True)
    assert "只按公众投票排名" in html and "table" not in html.split("<main")[1]
