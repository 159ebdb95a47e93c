"""The fraud signals on replays of synthetic traffic."""
import random

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
