"""The vote beside the floor, in turns: requests/s and the machine's CPU per request.

    python -m benchmarks.cpu [--rounds 8] [--seconds 5] [--database-url URL] [--redis-url URL]
                             [--compare DIR ...] [--reference]

benchmarks.http gives the issue's figure: three runs of 10 s, each after a floor run. Here the
floor and the vote take turns in more and shorter runs under the same wrk load (32
connections), all servers up at once, and each run also reads the CPU the whole machine spent
(/proc/stat) and the share of PostgreSQL and Redis. With ``--compare DIR`` the vote is also
served from another checkout of the project (for instance ``git worktree add /tmp/before
HEAD~1``), in the same turns, on the same database: a change is then measured against the code
before it, run for run. With ``--reference`` (PostgreSQL and Redis) the reference votes of
benchmarks/reference.py take turns too: the vote's two round trips with no framework around them
(``statement``), and the same limits before a one-row insert into a table with no index
(``insert``): how far a vote of this weight, and the least durable vote, go on this machine.

Prints every run and, per server, the median over the rounds of its ratio to the floor run just
before it: by requests/s, by CPU per request (the floor's over the vote's), and by CPU per
request without what PostgreSQL and Redis spent (what the web host alone would spend with them on
hosts of their own). A diagnostic for comparing changes; the issue's figures are those of
benchmarks.http, everything on one machine.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from .harness import (
    LOAD_LIMITS,
    PROJECT_ROOT,
    Server,
    app_env,
    close_connections,
    make_load_campaign,
    make_voters,
    own_database,
)
from .http import write_vote_script, wrk

TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy():
    """CPU seconds the machine has spent on anything but idling and waiting for I/O."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, *_rest = map(
            int, stat.readline().split()[1:])
    return (user + nice + system + irq + softirq) / TICKS


def group_cpu():
    """CPU seconds of each running PostgreSQL and Redis process ({(group, pid): seconds})."""
    spent = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:  # gone since the listing
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        for group in GROUPS:
            if name.startswith(group):
                spent[group, pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return spent


#: The servers whose CPU is given apart (by the names of their processes).
GROUPS = ("postgres", "redis")


def group_delta(before, after):
    """CPU seconds each group spent between two ``group_cpu`` readings. A process that ended in
    between (an autovacuum worker) is left out, rather than subtracted: what it spent since the
    first reading is lost, a little less than the truth, never a negative share."""
    spent = dict.fromkeys(GROUPS, 0.0)
    for (group, pid), seconds in after.items():
        spent[group] += seconds - before.get((group, pid), 0.0)
    return spent


def run(url, seconds, script=None, offset=0):
    """One wrk run: (requests/s, requests, machine CPU ms per request, {group: ms per request},
    non-2xx)."""
    busy, groups = machine_busy(), group_cpu()
    figures = wrk(url, seconds, script=script, args=(offset,) if script else ())
    requests = max(1, figures["requests"])
    per_group = {name: 1000 * spent / requests
                 for name, spent in group_delta(groups, group_cpu()).items()}
    return (figures["rps"], figures["requests"], 1000 * (machine_busy() - busy) / requests,
            per_group, figures["non_2xx"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--compare", action="append", default=[], metavar="DIR",
                        help="another checkout of the project whose vote takes turns too")
    parser.add_argument("--reference", action="store_true",
                        help="the reference votes (benchmarks/reference.py) take turns too")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: scripts/services start installs it (Debian's package)")
    from multiprocessing import cpu_count

    from app.extensions import db

    from . import reference
    from .load import make_app

    workers = args.workers or cpu_count() * 2 + 1
    roots = [PROJECT_ROOT, *(Path(root).resolve() for root in args.compare)]
    with (tempfile.TemporaryDirectory(prefix="award-cpu-") as instance,
          own_database(args.database_url) as database_url):
        app = make_app(Path(instance), database_url, args.redis_url)
        with app.test_request_context("/", method="POST"):
            _category_id, entry_ids = make_load_campaign(1000, 10**6)
            voters = make_voters(1000, prefix="cpu")
            db.session.remove()
        if args.reference:
            app.config.update(LOAD_LIMITS)  # the keys and amounts of the servers' limits
            references = reference.prepare(app, voters, Path(instance))
        close_connections(app)
        script = write_vote_script(Path(instance) / "vote.lua", voters, entry_ids)
        servers = [("floor", Server({}, Path(instance) / "floor.log", workers,
                                    app="benchmarks.floor:app"), None)]
        for number, root in enumerate(roots):
            name = "vote" if number == 0 else f"vote@{root}"
            servers.append((name, Server(app_env(app), Path(instance) / f"app{number}.log",
                                         workers, settings=LOAD_LIMITS, root=root), script))
        for kind, env in references.items() if args.reference else ():
            servers.append((kind, Server(env, Path(instance) / f"reference-{kind}.log", workers,
                                         app="benchmarks.reference:app"), script))
        # Each vote run starts where the runs before it stopped in the voters' orders
        # (http.VOTE_SCRIPT): a place is a (voter, entry) pair of one of wrk's threads, and a
        # thread sends at most the run's requests, so no pair comes twice. The warm-ups take
        # their places too. A run is not begun unless as many places as the last one took are left.
        places, offset, last = len(voters) // 2 * len(entry_ids), 0, 0
        results = {name: [] for name, _server, _script in servers}
        try:
            for _name, server, vote in servers:
                server.start(probe="/" if vote is None else "/healthz")
                warm = wrk(server.url + "/", 2, script=vote, args=(offset,) if vote else ())
                if vote:
                    offset += warm["requests"]
            for number in range(args.rounds):
                for name, server, vote in servers:
                    if vote and offset + last > places:
                        sys.exit("every voter has voted for every entry today: fewer rounds or "
                                 "seconds")
                    rate, requests, busy, groups, bad = run(server.url + "/", args.seconds, vote,
                                                            offset if vote else 0)
                    if vote:
                        offset, last = offset + requests, requests
                    results[name].append((rate, busy, busy - sum(groups.values())))
                    print(f"round {number + 1} {name:9} {rate:7.0f} req/s  CPU {busy:.3f} ms/req"
                          f"  (PostgreSQL {groups['postgres']:.3f}, Redis {groups['redis']:.3f})"
                          + (f"  {bad} non-2xx" if bad else ""), flush=True)
        finally:
            for _name, server, _script in servers:
                server.stop()
    floors = results.pop("floor")
    print(f"{workers} workers, {args.rounds} rounds of {args.seconds} s; ratio to the floor run "
          "before it, median (min-max):")
    for name, runs in results.items():
        by_rate = [vote[0] / floor[0] for vote, floor in zip(runs, floors, strict=True)]
        by_cpu = [floor[1] / vote[1] for vote, floor in zip(runs, floors, strict=True)]
        # What a web host alone would spend, PostgreSQL and Redis on hosts of their own.
        by_web = [floor[2] / vote[2] for vote, floor in zip(runs, floors, strict=True)]
        print(f"{name}: requests/s {_spread(by_rate)}; CPU per request {_spread(by_cpu)}; "
              f"CPU per request without PostgreSQL's and Redis's {_spread(by_web)}")
    return 0


def _spread(ratios):
    return f"{statistics.median(ratios):.1%} ({min(ratios):.1%}-{max(ratios):.1%})"


if __name__ == "__main__":
    sys.exit(main())
