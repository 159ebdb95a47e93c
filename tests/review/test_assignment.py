"""The assignment plan: balanced, never an expert's own agency or a declared conflict."""
from collections import Counter

from review.assignment import plan_assignment


def loads(plan, existing=()):
    return Counter(expert for _entry, expert in [*existing, *plan.new])


def per_entry(plan, existing=()):
    assigned = {}
    for entry, expert in [*existing, *plan.new]:
        assigned.setdefault(entry, set()).add(expert)
    return assigned


def test_every_entry_gets_its_experts_and_the_load_is_balanced():
    entries = {entry: 100 + entry % 3 for entry in range(10)}
    experts = {1: None, 2: None, 3: None, 4: None}
    plan = plan_assignment(entries, experts, 3)
    assert plan.shortfalls == []
    assert all(len(experts_of) == 3 for experts_of in per_entry(plan).values())
    counts = loads(plan)
    assert sum(counts.values()) == 30
    assert max(counts.values()) - min(counts.values()) <= 1


def test_an_expert_never_gets_their_own_agencys_entries_or_a_conflict():
    entries = {1: "A", 2: "A", 3: "B", 4: "C"}
    experts = {10: "A", 11: "B", 12: None, 13: None}
    plan = plan_assignment(entries, experts, 2, conflicts=[(12, 3)])
    for entry, expert in plan.new:
        assert experts[expert] != entries[entry]
        assert (expert, entry) != (12, 3)
    assert plan.shortfalls == []


def test_a_panel_too_small_is_reported_with_the_reasons():
    entries = {1: "A", 2: "B"}
    experts = {10: "A", 11: None}
    plan = plan_assignment(entries, experts, 2, conflicts=[(11, 2)])
    short = {s.entry: s for s in plan.shortfalls}
    assert short[1].missing == 1 and short[1].own_agency == 1 and short[1].panel == 2
    assert short[2].missing == 1 and short[2].conflicts == 1


def test_a_rerun_keeps_what_exists_and_fills_only_what_is_missing():
    entries = {1: None, 2: None, 3: None}
    experts = {10: None, 11: None, 12: None}
    existing = [(1, 10), (1, 11), (2, 12)]
    plan = plan_assignment(entries, experts, 2, existing=existing)
    assert all(entry != 1 for entry, _expert in plan.new)
    assigned = per_entry(plan, existing)
    assert {entry: len(e) for entry, e in assigned.items()} == {1: 2, 2: 2, 3: 2}
    assert len(plan.new) == 3
    again = plan_assignment(entries, experts, 2, existing=[*existing, *plan.new])
    assert again.new == [] and again.shortfalls == []


def test_the_plan_is_deterministic():
    entries = {e: None for e in range(20)}
    experts = {x: None for x in range(5)}
    assert plan_assignment(entries, experts, 3).new == plan_assignment(entries, experts, 3).new
