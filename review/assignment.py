"""Who reviews what: a balanced, conflict-free assignment. Pure: plain ids in, plain ids out.

Slots are filled round by round (every entry gets its first expert, then its second...), the most
constrained entries first, each slot going to the eligible expert with the fewest entries so far.
Without exclusions every expert ends with the same number of entries, or one more. An expert is
never given an entry of their own agency or one they declared a conflict with; entries the panel
cannot cover are reported with the reason.
"""
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shortfall:
    entry: int
    missing: int
    panel: int
    own_agency: int
    conflicts: int


@dataclass
class Plan:
    #: (entry, expert) pairs to add; existing ones are kept as they are.
    new: list = field(default_factory=list)
    shortfalls: list = field(default_factory=list)


def plan_assignment(entries, experts, per_entry, existing=(), conflicts=()):
    """Plan new assignments.

    ``entries``: {entry id: agency id}; ``experts``: {expert id: agency id or None};
    ``existing``: (entry, expert) pairs already assigned (kept, counted in the load);
    ``conflicts``: (expert, entry) pairs never to assign.
    """
    conflicts = set(conflicts)
    assigned = {entry: set() for entry in entries}
    load = Counter({expert: 0 for expert in experts})
    for entry, expert in existing:
        if entry in assigned:
            assigned[entry].add(expert)
        if expert in load:
            load[expert] += 1

    def eligible(entry):
        agency = entries[entry]
        return [e for e in experts
                if e not in assigned[entry] and (e, entry) not in conflicts
                and (experts[e] is None or experts[e] != agency)]

    plan = Plan()
    order = sorted(entries, key=lambda entry: (len(eligible(entry)), entry))
    for _round in range(per_entry):
        for entry in order:
            if len(assigned[entry]) >= per_entry:
                continue
            candidates = eligible(entry)
            if not candidates:
                continue
            expert = min(candidates, key=lambda e: (load[e], e))
            assigned[entry].add(expert)
            load[expert] += 1
            plan.new.append((entry, expert))
    for entry in sorted(entries):
        missing = per_entry - len(assigned[entry])
        if missing > 0:
            plan.shortfalls.append(Shortfall(
                entry, missing, len(experts),
                sum(1 for e, a in experts.items() if a is not None and a == entries[entry]),
                sum(1 for e in experts if (e, entry) in conflicts)))
    return plan
