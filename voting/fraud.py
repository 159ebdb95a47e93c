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
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields
from math import sqrt
from statistics import median


@dataclass(frozen=True, slots=True)
class VoteRecord:
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


def _cv(values):
    mean = sum(values) / len(values)
    if mean <= 0:
        return 0.0
    return sqrt(sum((v - mean) ** 2 for v in values) / len(values)) / mean


def _by_network(votes):
    """{network: its votes}, leaving out votes without a known network."""
    groups = defaultdict(list)
    for vote in votes:
        if vote.net:
            groups[vote.net].append(vote)
    return groups


def regular_intervals(votes, t=Thresholds()):
    """Runs of ``regular_run`` gaps within one network whose spread is far below a person's."""
    signals = []
    for net, group in _by_network(votes).items():
        group.sort(key=lambda v: (v.at, v.id))
        if len(group) <= t.regular_run:
            continue
        gaps = [b.at - a.at for a, b in zip(group, group[1:], strict=False)]
        flagged = set()
        for start in range(len(gaps) - t.regular_run + 1):
            window = gaps[start:start + t.regular_run]
            if _cv(window) < t.regular_cv:
                flagged.update(v.id for v in group[start:start + t.regular_run + 1])
        if flagged:
            signals.append(Signal("regular", net, sorted(flagged),
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
    """Windows in which an entry's votes jump far above its own earlier windows."""
    signals = []
    by_entry = defaultdict(lambda: defaultdict(list))
    for vote in votes:
        by_entry[vote.entry][int(vote.at // t.window)].append(vote)
    for entry, windows in by_entry.items():
        flagged, history = [], []
        for index in sorted(windows):
            count = len(windows[index])
            baseline = median(history) if history else 0
            if count >= t.burst_minimum and count >= t.burst_factor * max(baseline, 1):
                flagged += [v.id for v in windows[index]]
            history.append(count)
        if flagged:
            signals.append(Signal("entry_burst", entry, sorted(flagged), {"votes": len(flagged)}))
    return signals


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
