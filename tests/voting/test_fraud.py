"""The fraud signals on replays of synthetic traffic."""
import random
from fractions import Fraction
from statistics import median

from hypothesis import given, settings
from hypothesis import strategies as st

from voting.fraud import (
    CodeRecord,
    Thresholds,
    VoteRecord,
    all_signals,
    entry_bursts,
    failing_codes,
    network_bursts,
    one_entry_voters,
    regular_intervals,
    tally_without,
)


def people(count=1000, seed=7, start=0.0):
    """``count`` people voting at random (exponential gaps), from many networks and entries."""
    rng = random.Random(seed)
    votes, at = [], start
    for i in range(count):
        at += rng.expovariate(1 / 30)
        votes.append(VoteRecord(i, f"person{i}", f"E{rng.randrange(40)}", at,
                                f"10.{rng.randrange(200)}.{rng.randrange(250)}.0/24",
                                f"ua{rng.randrange(30)}"))
    return votes


def script(count=300, seed=11, start=0.0, first_id=100_000):
    """A script casting ``count`` votes at 10 +- 0.2 s from one /24, one new voter each."""
    rng = random.Random(seed)
    votes, at = [], start
    for i in range(count):
        at += 10 + rng.uniform(-0.2, 0.2)
        votes.append(VoteRecord(first_id + i, f"bot{i}", "E7", at, "203.0.113.0/24", "bot-ua"))
    return votes


def test_a_script_is_flagged_and_people_are_not():
    humans, bots = people(), script()
    flagged = set()
    for signal in all_signals(humans + bots):
        flagged.update(signal.vote_ids)
    bot_ids = {v.id for v in bots}
    human_ids = {v.id for v in humans}
    assert len(flagged & bot_ids) / len(bot_ids) >= 0.95
    assert len(flagged & human_ids) / len(human_ids) <= 0.01


def test_regular_intervals_alone_catch_the_timer():
    signals = regular_intervals(people() + script())
    assert [s.key for s in signals] == ["203.0.113.0/24"]
    assert len(signals[0].vote_ids) == 300 and signals[0].detail["gap"] == 10.0


def test_people_alone_raise_no_signal():
    assert all_signals(people(count=2000, seed=3)) == []


def test_many_voters_from_one_network_in_ten_minutes():
    votes = [VoteRecord(i, f"v{i}", f"E{i % 3}", i * 20.0, "198.51.100.0/24") for i in range(25)]
    signals = network_bursts(votes)
    assert signals and signals[0].detail["voters"] >= 20


def windows_of_many_voters(votes, t):
    """The definition, window by window: {network: (ids of the votes in a window of ``window``
    seconds ending at a vote, that holds ``network_voters`` voters or more; their voters)}."""
    found = {}
    for net in {v.net for v in votes if v.net}:
        group = sorted((v for v in votes if v.net == net), key=lambda v: v.at)
        ids = set()
        for end, last in enumerate(group):
            window = [v for v in group[:end + 1] if last.at - v.at <= t.window]
            if len({v.voter for v in window}) >= t.network_voters:
                ids.update(v.id for v in window)
        if ids:
            found[net] = (sorted(ids), len({v.voter for v in group if v.id in ids}))
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["net-a", "net-b", ""]),
                          st.integers(0, 2_000)), max_size=120),
       st.integers(2, 6), st.sampled_from([60.0, 300.0]))
def test_network_bursts_flag_exactly_the_votes_of_every_window_of_many_voters(
        draws, voters, window):
    """The one-pass count against the definition, on random traffic (repeat voters, ties in
    time, votes without a network, windows that overlap, touch or stand apart)."""
    t = Thresholds(network_voters=voters, window=window)
    votes = [VoteRecord(i, f"v{voter}", "E1", float(at), net)
             for i, (voter, net, at) in enumerate(draws)]
    found = {s.key: (s.vote_ids, s.detail["voters"]) for s in network_bursts(votes, t)}
    assert found == windows_of_many_voters(votes, t)


def runs_too_regular(votes, t):
    """The definition, run by run and in exact fractions: {network: ids of the votes of every
    run of ``regular_run`` gaps (by time, then id) whose population standard deviation is less
    than ``regular_cv`` times their mean, or whose mean is 0}."""
    found = {}
    for net in {v.net for v in votes if v.net}:
        group = sorted((v for v in votes if v.net == net), key=lambda v: (v.at, v.id))
        gaps = [Fraction(b.at) - Fraction(a.at) for a, b in zip(group, group[1:], strict=False)]
        ids = set()
        for start in range(len(gaps) - t.regular_run + 1):
            run = gaps[start:start + t.regular_run]
            mean = sum(run) / len(run)
            variance = sum((gap - mean) ** 2 for gap in run) / len(run)
            if mean <= 0 or variance < (Fraction(t.regular_cv) * mean) ** 2:
                ids.update(v.id for v in group[start:start + t.regular_run + 1])
        if ids:
            found[net] = sorted(ids)
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["net-a", "net-b", ""]),
                          st.sampled_from([0, 8, 9, 10, 10, 10, 10, 11, 12, 60, 300])),
                max_size=120),
       st.integers(2, 6), st.sampled_from([0.0625, 0.125, 0.25, 0.5]))
def test_regular_intervals_flag_exactly_the_votes_of_every_run_too_regular(draws, run, cv):
    """The one-pass sums against the definition, on random traffic: timers, people, ties in
    time, networks apart and votes without one. (Thresholds a binary fraction holds exactly:
    the definition and the code then agree on a run exactly at the threshold too.)"""
    t = Thresholds(regular_run=run, regular_cv=cv)
    at, votes = {}, []
    for i, (net, gap) in enumerate(draws):
        at[net] = at.get(net, 0) + gap
        votes.append(VoteRecord(i, f"v{i}", "E1", float(at[net]), net))
    found = {s.key: s.vote_ids for s in regular_intervals(votes, t)}
    assert found == runs_too_regular(votes, t)


def bursts_by_definition(votes, t):
    """{entry: ids of the votes of each window of ``window`` seconds with at least
    ``burst_minimum`` votes and ``burst_factor`` times the median of the entry's earlier
    non-empty windows}."""
    found = {}
    for entry in {v.entry for v in votes}:
        windows = {}
        for vote in votes:
            if vote.entry == entry:
                windows.setdefault(int(vote.at // t.window), []).append(vote.id)
        ids, history = [], []
        for index in sorted(windows):
            count = len(windows[index])
            if count >= t.burst_minimum and count >= t.burst_factor * max(
                    median(history) if history else 0, 1):
                ids += windows[index]
            history.append(count)
        if ids:
            found[entry] = sorted(ids)
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["E1", "E2"]), st.integers(0, 3_000)), max_size=150),
       st.integers(1, 6), st.sampled_from([1.5, 2.0, 5.0]))
def test_entry_bursts_flag_exactly_the_windows_far_above_their_own_median(draws, minimum, factor):
    t = Thresholds(burst_minimum=minimum, burst_factor=factor, window=100.0)
    votes = [VoteRecord(i, f"v{i}", entry, float(at)) for i, (entry, at) in enumerate(draws)]
    found = {s.key: s.vote_ids for s in entry_bursts(votes, t)}
    assert found == bursts_by_definition(votes, t)


def test_a_run_exactly_as_regular_as_the_threshold_is_not_flagged():
    """Gaps of 9 and 11 s: mean 10, standard deviation 1, a coefficient of variation of 0.1."""
    votes = [VoteRecord(i, f"v{i}", "E1", at, "net-a") for i, at in enumerate([0.0, 9.0, 20.0])]
    assert regular_intervals(votes, Thresholds(regular_run=2, regular_cv=0.1)) == []
    flagged = regular_intervals(votes, Thresholds(regular_run=2, regular_cv=0.1001))
    assert [s.vote_ids for s in flagged] == [[0, 1, 2]]


def test_the_baseline_of_an_even_number_of_windows_is_the_mean_of_its_middle_two():
    """Windows of 2 and 4 votes, then 6: the baseline is 3, and 6 is twice it."""
    counts = [(0, 2), (1, 4), (2, 6)]
    votes = [VoteRecord(f"{window}-{i}", f"v{window}-{i}", "E1", window * 600.0 + i)
             for window, count in counts for i in range(count)]
    (signal,) = entry_bursts(votes, Thresholds(burst_minimum=5, burst_factor=2.0))
    assert signal.vote_ids == sorted(f"2-{i}" for i in range(6))
    assert entry_bursts(votes, Thresholds(burst_minimum=5, burst_factor=2.01)) == []


def test_a_burst_for_one_entry_against_its_own_baseline():
    steady = [VoteRecord(i, f"v{i}", "E1", i * 120.0) for i in range(50)]  # 5 per 10 minutes
    burst = [VoteRecord(1000 + i, f"b{i}", "E1", 6000 + i * 5.0) for i in range(60)]
    signals = entry_bursts(steady + burst)
    assert len(signals) == 1 and set(signals[0].vote_ids) >= {v.id for v in burst}


def test_new_voters_who_vote_for_one_entry_only():
    lone = [VoteRecord(i, f"new{i}", "E9", float(i)) for i in range(30)]
    regular = [VoteRecord(100 + i, f"r{i // 3}", f"E{i % 3}", float(i)) for i in range(60)]
    signals = one_entry_voters(lone + regular)
    assert [(s.key, len(s.vote_ids)) for s in signals] == [("E9", 30)]


def test_failing_codes_from_one_network():
    codes = [CodeRecord("192.0.2.0/24", float(i), i % 10 == 0) for i in range(40)]
    codes += [CodeRecord("10.0.0.0/24", float(i), True) for i in range(40)]
    assert [s.key for s in failing_codes(codes)] == ["192.0.2.0/24"]


def test_tally_before_and_after_the_flagged_votes():
    votes = [VoteRecord(1, "a", "E1", 0), VoteRecord(2, "b", "E1", 1), VoteRecord(3, "c", "E2", 2)]
    assert tally_without(votes, {2}) == {"E1": (2, 1), "E2": (1, 1)}
