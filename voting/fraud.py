"""Vote-brushing (刷票) signals over plain vote records. Pure: no Flask, no database.

Each signal names the votes behind it, so that an organiser can look at them and void them
with a reason. The thresholds are documented on ``Thresholds``; a campaign's organisers may
change them on the vote monitoring page (``Campaign.fraud_thresholds``).

- ``regular``: votes from one network at near-constant intervals. People arrive at random
  (gaps roughly exponential, coefficient of variation about 1); a script's timer does not.
- ``network_burst``: many different voters from one /24 network within a short time.
- ``entry_burst``: an entry gets far more votes in a window than its own trailing baseline.
- ``one_entry_voters``: an entry drawing far more voters who vote once, for it alone, than the
  category does as a whole.
- ``failing_codes``: a network asks for many codes that are never confirmed (SMS pumping).
"""
from bisect import insort
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from statistics import median
from typing import NamedTuple


class VoteRecord(NamedTuple):
    """One valid vote as the signals see it. A named tuple: the monitoring makes 100,000 of them
    from rows per look, and a frozen dataclass took three times as long to make."""

    id: int
    voter: object
    entry: object
    at: float  #: seconds (epoch)
    net: str = ""  #: the /24 (or its keyed hash)
    agent: str = ""


@dataclass(frozen=True, slots=True)
class CodeRecord:
    net: str
    at: float
    confirmed: bool


@dataclass(frozen=True)
class Thresholds:
    #: consecutive gaps looked at together, and the coefficient of variation below which they
    #: are too regular to be people
    regular_run: int = 10
    regular_cv: float = 0.15
    #: different voters from one network within ``window`` seconds
    network_voters: int = 20
    window: float = 600.0
    #: votes for one entry in a window: at least ``burst_minimum`` and ``burst_factor`` times the
    #: median of its earlier non-empty windows
    burst_minimum: int = 30
    burst_factor: float = 5.0
    #: an entry's share of votes from voters who voted once, for it only, above the category's
    #: share by this much (many people vote once for a friend: only the excess is suspicious)
    one_entry_excess: float = 0.3
    one_entry_minimum: int = 20
    #: unconfirmed codes asked from one network (and their share of its requests)
    failing_codes: int = 10
    failing_share: float = 0.8

    @classmethod
    def of(cls, changed):
        """The defaults with ``changed`` ({name: number}, a campaign's) put in; names it does
        not know are passed over."""
        known = {f.name: type(f.default) for f in fields(cls)}
        return cls(**{name: known[name](value) for name, value in (changed or {}).items()
                      if name in known})


@dataclass
class Signal:
    kind: str
    key: object  #: the network or entry concerned
    vote_ids: list = field(default_factory=list)
    detail: dict = field(default_factory=dict)


def _by_network(votes):
    """{network: its votes}, leaving out votes without a known network."""
    groups = defaultdict(list)
    for vote in votes:
        if vote.net:
            groups[vote.net].append(vote)
    return groups


def regular_intervals(votes, t=Thresholds()):
    """Runs of ``regular_run`` gaps within one network whose spread is far below a person's:
    a coefficient of variation (population standard deviation / mean; 0 for gaps of no length)
    under ``regular_cv``.

    One pass per network: the run's sum and sum of squares slide with it, and a run that
    qualifies adds only the votes after the last one flagged (a script's network holds tens of
    thousands of votes in a day)."""
    signals, run = [], t.regular_run
    for net, group in _by_network(votes).items():
        group.sort(key=lambda v: (v.at, v.id))
        if len(group) <= run:
            continue
        gaps = [b.at - a.at for a, b in zip(group, group[1:], strict=False)]
        total, squares = sum(gaps[:run]), sum(gap * gap for gap in gaps[:run])
        flagged, flagged_until = [], 0
        for start in range(len(gaps) - run + 1):
            if start:
                leaving, entering = gaps[start - 1], gaps[start + run - 1]
                total += entering - leaving
                squares += entering * entering - leaving * leaving
            # sd / mean < cv, squared and times run²: exact for whole seconds, no root per run
            if total <= 0 or run * squares - total * total < (t.regular_cv * total) ** 2:
                flagged += group[max(start, flagged_until):start + run + 1]
                flagged_until = start + run + 1
        if flagged:
            signals.append(Signal("regular", net, sorted(v.id for v in flagged),
                                  {"votes": len(flagged), "gap": round(median(gaps), 1)}))
    return signals


def network_bursts(votes, t=Thresholds()):
    """Windows in which one network brings ``network_voters`` or more different voters.

    One pass per network: the window's voters are counted as it slides, and as windows start
    and end in order, a window that qualifies adds only the votes after the last one flagged
    (a script's network holds tens of thousands of votes in a day)."""
    signals = []
    for net, group in _by_network(votes).items():
        group.sort(key=lambda v: v.at)
        inside, flagged, start, flagged_until = Counter(), [], 0, 0
        for end, vote in enumerate(group):
            inside[vote.voter] += 1
            while vote.at - group[start].at > t.window:
                leaving = group[start].voter
                inside[leaving] -= 1
                if not inside[leaving]:
                    del inside[leaving]
                start += 1
            if len(inside) >= t.network_voters:
                flagged += group[max(start, flagged_until):end + 1]
                flagged_until = end + 1
        if flagged:
            signals.append(Signal("network_burst", net, sorted(v.id for v in flagged),
                                  {"votes": len(flagged),
                                   "voters": len({v.voter for v in flagged})}))
    return signals


def entry_bursts(votes, t=Thresholds()):
    """Windows in which an entry's votes jump far above its own earlier windows. The windows
    are counted first; only the votes of the windows that qualify are gathered."""
    counts = Counter((vote.entry, int(vote.at // t.window)) for vote in votes)
    windows = defaultdict(list)  # entry -> its non-empty windows
    for entry, index in counts:
        windows[entry].append(index)
    bursts = {}  # entry -> its windows that qualify
    for entry, indexes in windows.items():
        history = []  # the earlier windows' counts, kept sorted for their median
        for index in sorted(indexes):
            count = counts[entry, index]
            baseline = _median_of_sorted(history) if history else 0
            if count >= t.burst_minimum and count >= t.burst_factor * max(baseline, 1):
                bursts.setdefault(entry, set()).add(index)
            insort(history, count)
    flagged = defaultdict(list)
    for vote in votes:
        if vote.entry in bursts and int(vote.at // t.window) in bursts[vote.entry]:
            flagged[vote.entry].append(vote.id)
    return [Signal("entry_burst", entry, sorted(flagged[entry]), {"votes": len(flagged[entry])})
            for entry in bursts]


def _median_of_sorted(values):
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def one_entry_voters(votes, t=Thresholds()):
    """Entries whose votes come mostly from voters who came once, for that entry alone."""
    by_voter = defaultdict(list)
    for vote in votes:
        by_voter[vote.voter].append(vote)
    lone = defaultdict(list)
    total = defaultdict(int)
    for vote in votes:
        total[vote.entry] += 1
    for _voter, own in by_voter.items():
        if len(own) == 1:
            lone[own[0].entry].append(own[0].id)
    overall = sum(len(ids) for ids in lone.values()) / max(1, len(votes))
    signals = []
    for entry, ids in lone.items():
        share = len(ids) / total[entry]
        if len(ids) >= t.one_entry_minimum and share - overall >= t.one_entry_excess:
            signals.append(Signal("one_entry_voters", entry, sorted(ids),
                                  {"votes": len(ids), "share": round(share, 2),
                                   "category_share": round(overall, 2)}))
    return signals


def failing_codes(codes, t=Thresholds()):
    """Networks that ask for many codes and confirm almost none."""
    by_net = defaultdict(list)
    for code in codes:
        by_net[code.net].append(code)
    signals = []
    for net, group in by_net.items():
        failed = sum(1 for c in group if not c.confirmed)
        if failed >= t.failing_codes and failed / len(group) >= t.failing_share:
            signals.append(Signal("failing_codes", net, [], {"codes": len(group), "failed": failed}))
    return signals


def all_signals(votes, codes=(), t=Thresholds()):
    return [*regular_intervals(votes, t), *network_bursts(votes, t), *entry_bursts(votes, t),
            *one_entry_voters(votes, t), *failing_codes(codes, t)]


def tally_without(votes, flagged_ids, counts=None):
    """{entry: (votes, votes without the flagged ones)}: the tally before and after. ``counts``
    is the whole tally ({entry: votes}) where ``votes`` are only some of them (a period's)."""
    if counts is None:
        counts = Counter(vote.entry for vote in votes)
    removed = Counter(vote.entry for vote in votes if vote.id in flagged_ids)
    return {entry: (count, count - removed[entry]) for entry, count in counts.items() if count}
