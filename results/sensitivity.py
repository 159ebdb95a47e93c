"""How much the winners depend on the choices: the same inputs ranked under other weights and
other aggregation methods. Pure: no Flask, no database.

Each scenario ranks the category exactly as DESIGN.md §3 says (``rank_category``), then compares
its winners with the winners under the category's own settings: the entries that would enter the
winners and the ones that would leave.
"""
from dataclasses import dataclass

from review.scoring import METHODS

from .ranking import rank_category

#: Public weights tried (the expert weight is 1 minus it): 0, 0.1, ..., 1.
WEIGHT_STEPS = tuple(step / 10 for step in range(11))


@dataclass(frozen=True)
class Scenario:
    method: str
    expert_weight: float
    public_weight: float
    #: The category's own settings.
    current: bool
    ranking: object
    winners: frozenset
    entering: tuple
    leaving: tuple

    @property
    def changes(self):
        return bool(self.entering or self.leaving)


def _scenario(inputs, method, expert_weight, public_weight, current, base_winners, order):
    entries, reviews, votes, winners = inputs
    ranking = rank_category(entries, reviews, votes, expert_weight, public_weight, method, winners)
    chosen = frozenset(row.entry for row in ranking.rows if row.winner)
    return Scenario(method, expert_weight, public_weight, current, ranking, chosen,
                    tuple(sorted(chosen - base_winners, key=order.get)),
                    tuple(sorted(base_winners - chosen, key=order.get)))


def explore(entries, reviews, votes, expert_weight, public_weight, method, winners,
            vary_methods=True, vary_weights=True):
    """The category's own ranking and the scenarios around it.

    Returns (base, by_method, by_weight): ``by_method`` keeps the weights and tries every method,
    ``by_weight`` keeps the method and tries every public weight of WEIGHT_STEPS. Either list is
    empty when it is not asked for (a category without reviews has no method to vary; one without
    both reviews and votes has no weight to vary).
    """
    inputs = (entries, reviews, votes, winners)
    base_ranking = rank_category(entries, reviews, votes, expert_weight, public_weight, method,
                                 winners)
    order = {row.entry: index for index, row in enumerate(base_ranking.rows)}
    base_winners = frozenset(row.entry for row in base_ranking.rows if row.winner)
    base = Scenario(method, expert_weight, public_weight, True, base_ranking, base_winners, (), ())
    by_method = [
        _scenario(inputs, other, expert_weight, public_weight, other == method, base_winners, order)
        for other in METHODS] if vary_methods else []
    by_weight = [
        _scenario(inputs, method, round(1 - step, 1), step,
                  abs(step - public_weight) < 1e-9 and abs(1 - step - expert_weight) < 1e-9,
                  base_winners, order)
        for step in WEIGHT_STEPS] if vary_weights else []
    return base, by_method, by_weight


def rank_paths(scenarios, limit):
    """Per entry, its rank in each scenario: the lines of a bump chart.

    Keeps the entries that are winners in at least one scenario (at most ``limit`` of them, best
    first under the first scenario that has them), so the chart shows who moves across the line.
    """
    ranks = [{row.entry: row.rank for row in scenario.ranking.rows} for scenario in scenarios]
    shown = []
    for scenario in scenarios:
        for row in scenario.ranking.rows:
            if row.winner and row.entry not in shown:
                shown.append(row.entry)
    return {entry: [rank.get(entry) for rank in ranks] for entry in shown[:limit]}
