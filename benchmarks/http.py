"""HTTP benchmarks of the production profile on loopback, each beside the framework floor.

    python -m benchmarks.http [--only vote,tally,entry,gallery,voter_entry,page_vote,receipt]
                              [--database-url URL]
                              [--redis-url URL] [--votes 1000000] [--workers N] [--seconds 10]

gunicorn (gunicorn.conf.py: sync workers, as many as it sets for this machine) serves the app on
a fresh database with 1,000 entries and 1,000,000 votes; the floor is benchmarks/floor.py under
the same server, up beside it. wrk (Debian's package) loads each: a 2 s warm-up, then the median
of 3 runs of 10 s at 32 connections, each run just after a run of the floor: the ratio is the
median of the three runs' ratios to their floor run (the machine's speed drifts from one minute
to the next; a floor measured once, minutes before, moved the ratio by a quarter). Prints
requests/s, p50 and p99 for each, the floor, the ratio, the goal of issue 8, and the peak memory
of the workers after the vote load.

Besides the issue's four, the citizen's vote through the pages, as most citizens vote:
``voter_entry``, an entry's page as a signed-in voter opens it (never from the public cache: it
shows the voter's votes left); ``page_vote``, its vote button as the phone sends it (the form's
CSRF token, the voter's cookie; answered by a redirect to the receipt); ``receipt``, the receipt
page that redirect opens. Issue 8 sets them no goal; a vote through the pages is one of each.
"""
import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from .harness import (
    LOAD_LIMITS,
    Server,
    app_env,
    close_connections,
    durability,
    make_load_campaign,
    make_voters,
    own_database,
)

GOALS = {"vote": 0.30, "tally": 0.40, "entry": 0.25, "gallery": 0.25}
REGRESSION = {"vote": 0.15}
P99_GOALS_MS = {"vote": 50, "tally": 50}

#: How the vote scripts walk: each of wrk's threads takes its own voters in turn, then moves on to
#: the next entry; ``init``'s argument says where a run starts (``vote_offsets``). Threads are
#: kept in ``all`` for ``done`` to add up what each counted.
WALK = """
local entries = {%(entries)s}
local counter = 0
local offset = 0
local threads = 0
local all = {}
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
  table.insert(all, thread)
end
function init(args)
  offset = tonumber(args[1] or "0")
end
function next_vote(voters)
  local n = counter + offset
  counter = counter + 1
  local per_thread = math.floor(voters / %(threads)d)
  return (n %% per_thread) * %(threads)d + tid + 1, math.floor(n / per_thread) %% #entries + 1
end
"""

VOTE_SCRIPT = WALK + """
local tokens = {%(tokens)s}
function request()
  local voter, entry = next_vote(#tokens)
  return wrk.format("POST", "/api/v1/votes",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[voter]},
    '{"entry_id":' .. entries[entry] .. '}')
end
"""


#: The citizen's vote on an entry's page: the vote button's form (the session's CSRF token, the
#: voter's cookie), voters walking the entries as VOTE_SCRIPT's. The button answers 302 whether
#: the vote went through (to its receipt) or not (back to the entry, with the reason): the script
#: counts the answers that do not lead to a receipt, and prints them at the end.
PAGE_VOTE_SCRIPT = WALK + """
local cookies = {%(cookies)s}
refused = 0
function request()
  local voter, entry = next_vote(#cookies)
  return wrk.format("POST", "/vote/entries/" .. entries[entry],
    {["Content-Type"] = "application/x-www-form-urlencoded",
     ["Cookie"] = "%(session)s; %(cookie)s=" .. cookies[voter]}, "csrf_token=%(token)s")
end
function response(status, headers, body)
  local location = headers["Location"] or ""
  if status ~= 302 or not string.find(location, "/vote/receipts/", 1, true) then
    refused = refused + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(all) do
    total = total + thread:get("refused")
  end
  io.write(string.format("refused: %%d\\n", total))
end
"""

#: The receipt page each of those votes leads to, as its voter opens it.
RECEIPT_SCRIPT = """
local votes = {%(votes)s}
local cookies = {%(cookies)s}
local counter = 0
function request()
  counter = counter + 1
  local i = counter %% #votes + 1
  return wrk.format("GET", "/vote/receipts/" .. votes[i], {["Cookie"] = "%(cookie)s=" .. cookies[i]})
end
"""


#: An entry's page as a signed-in voter sees it (the vote panel with the votes left today): never
#: from the public cache, which serves visitors without cookies only (app/cache.py).
VOTER_ENTRY_SCRIPT = """
local cookies = {%(cookies)s}
local counter = 0
function request()
  counter = counter + 1
  return wrk.format("GET", "%(path)s", {["Cookie"] = "%(cookie)s=" .. cookies[counter %% #cookies + 1]})
end
"""


def write_voter_entry_script(path, app, voters, page):
    """wrk's script of voters [(id, token)] opening the entry page ``page``: ``path``."""
    from voting.session import COOKIE, sign_voter

    with app.test_request_context("/"):
        cookies = [sign_voter(voter_id) for voter_id, _token in voters]
    path.write_text(VOTER_ENTRY_SCRIPT % {
        "cookies": ",".join(f'"{cookie}"' for cookie in cookies), "path": page,
        "cookie": COOKIE})
    return path


def write_page_vote_script(path, app, voters, entry_ids):
    """wrk's script of voters [(id, token)] pressing the vote button of ``entry_ids``'s pages
    (PAGE_VOTE_SCRIPT), with one session's CSRF token for all: ``path``."""
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from voting.session import COOKIE, sign_voter

    with app.test_request_context("/"):
        token = generate_csrf()
        signed = app.session_interface.get_signing_serializer(app).dumps(dict(session))
        cookies = [sign_voter(voter_id) for voter_id, _token in voters]
    path.write_text(PAGE_VOTE_SCRIPT % {
        "cookies": ",".join(f'"{cookie}"' for cookie in cookies),
        "entries": ",".join(map(str, entry_ids)), "threads": 2,
        "session": f"{app.config['SESSION_COOKIE_NAME']}={signed}", "token": token,
        "cookie": COOKIE})
    return path


def write_receipt_script(path, app, category_id, limit=20_000):
    """wrk's script opening the receipts of the category's votes (the latest ``limit``), each
    with its voter's cookie (RECEIPT_SCRIPT): ``path``."""
    from app.extensions import db
    from voting.models import Vote
    from voting.session import COOKIE, sign_voter

    with app.test_request_context("/"):
        votes = db.session.execute(db.select(Vote.id, Vote.voter_id).where(
            Vote.category_id == category_id).order_by(Vote.id.desc()).limit(limit)).all()
        cookies = [sign_voter(voter_id) for _id, voter_id in votes]
        db.session.remove()
    close_connections(app)
    path.write_text(RECEIPT_SCRIPT % {
        "votes": ",".join(str(vote_id) for vote_id, _voter in votes),
        "cookies": ",".join(f'"{cookie}"' for cookie in cookies), "cookie": COOKIE})
    return path


def write_vote_script(path, voters, entry_ids):
    """wrk's script of voters [(id, token)] voting for ``entry_ids`` (VOTE_SCRIPT): ``path``."""
    path.write_text(VOTE_SCRIPT % {
        "tokens": ",".join(f'"{token}"' for _id, token in voters),
        "entries": ",".join(map(str, entry_ids)), "threads": 2})
    return path


def vote_offsets(voters, entries, threads=2):
    """Where the vote script starts in each of measure's four runs: a quarter of the entries
    apart, so that no run's voter votes again for an entry a run before it voted for that day
    (each of wrk's threads walks its voters, then moves on to the next entry)."""
    step = voters // threads * (entries // 4)
    return [run * step for run in range(4)]


def parse_latency(text):
    value, unit = float(text[:-2] if text.endswith(("ms", "us")) else text[:-1]), (
        text[-2:] if text.endswith(("ms", "us")) else text[-1:])
    return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(url, seconds, connections=32, threads=2, script=None, args=()):
    command = [shutil.which("wrk"), f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               "--latency", "--timeout", "5s"]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if args:
        command += ["--", *map(str, args)]
    finished = subprocess.run(command, capture_output=True, text=True)
    # wrk reports a script it cannot load on stderr and loads the plain URL instead.
    if finished.returncode or (script and finished.stderr.strip()):
        raise RuntimeError(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    out = finished.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = parse_latency(re.search(r"50%\s+([\d.]+\w+)", out).group(1))
    p99 = parse_latency(re.search(r"99%\s+([\d.]+\w+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in ", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    refused = re.search(r"^refused: (\d+)$", out, re.MULTILINE)  # PAGE_VOTE_SCRIPT's count
    return {"rps": rate, "requests": requests, "p50_ms": p50, "p99_ms": p99,
            "non_2xx": int(bad.group(1)) if bad else 0,
            "refused": int(refused.group(1)) if refused else 0,
            "socket_errors": errors.group(1) if errors else ""}


def measure(url, floor_url, script=None, offsets=None, seconds=10):
    """A 2 s warm-up, then 3 runs of 10 s (``seconds``), each just after a run of the floor as
    long: the median run (by requests/s), and the median of the three runs' ratios to their floor
    run, so that a drift of the machine's speed between runs moves both sides of each ratio
    alike."""
    args = [(offset,) if script else () for offset in offsets or [0, 0, 0, 0]]
    warm_up = min(2, seconds)
    wrk(floor_url, warm_up)
    wrk(url, warm_up, script=script, args=args[0])
    runs, floors = [], []
    for i in range(3):
        floors.append(wrk(floor_url, seconds))
        runs.append(wrk(url, seconds, script=script, args=args[i + 1]))
    median = dict(sorted(runs, key=lambda run: run["rps"])[1])
    median["runs_rps"] = [round(run["rps"]) for run in runs]
    median["floor_runs_rps"] = [round(run["rps"]) for run in floors]
    median["ratio"] = statistics.median(
        run["rps"] / floor["rps"] for run, floor in zip(runs, floors, strict=True))
    median["non_2xx"] = sum(run["non_2xx"] for run in runs)
    median["refused"] = sum(run["refused"] for run in runs)
    return median


def peak_memory_mb(pids):
    peaks = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)
    return round(max(peaks), 1) if peaks else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only",
                        default="vote,tally,entry,gallery,voter_entry,page_vote,receipt")
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--voters", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--seconds", type=int, default=10,
                        help="length of each run (the issue's figures: 10)")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: scripts/services start installs it (Debian's package)")
    only = args.only.split(",")

    from app.extensions import db

    from .load import make_app
    from .seed import seed_votes

    results = {}
    with (tempfile.TemporaryDirectory(prefix="award-http-") as instance,
          own_database(args.database_url) as database_url):
        app = make_app(Path(instance), database_url, args.redis_url)
        with app.test_request_context("/", method="POST"):
            _category_id, entry_ids = make_load_campaign(1000, 10**6)
            voters = make_voters(args.voters, prefix="bench")
            page_voters = make_voters(args.voters, prefix="page")  # their own votes of the day
            if "tally" in only and args.votes:
                seed_votes(_category_id, entry_ids, args.votes, log=lambda _m: None)
            db.session.remove()
        from multiprocessing import cpu_count

        workers = args.workers or cpu_count() * 2 + 1
        settings = {**LOAD_LIMITS, **dict(item.split("=", 1) for item in args.setting)}
        writes, durable = durability(app, settings)
        close_connections(app)
        floor = Server({}, Path(instance) / "floor.log", workers, app="benchmarks.floor:app")
        server = Server(app_env(app), Path(instance) / "app.log", workers, settings=settings)
        try:
            floor.start(probe="/")
            server.start()
            floor_url = floor.url + "/"
            if "vote" in only:
                script = write_vote_script(Path(instance) / "vote.lua", voters, entry_ids)
                results["vote"] = measure(server.url + "/", floor_url, script,
                                          offsets=vote_offsets(len(voters), len(entry_ids)),
                                          seconds=args.seconds)
                results["peak_worker_mb"] = peak_memory_mb(server.worker_pids())
            if "tally" in only:
                results["tally"] = measure(
                    server.url + "/api/v1/campaigns/load/categories/hotlines/tally", floor_url,
                    seconds=args.seconds)
            if "entry" in only:
                results["entry"] = measure(server.url + "/c/load/hotlines/HL-0500", floor_url,
                                           seconds=args.seconds)
            if "gallery" in only:
                results["gallery"] = measure(server.url + "/c/load/hotlines/?page=3", floor_url,
                                             seconds=args.seconds)
            if "voter_entry" in only:
                script = write_voter_entry_script(Path(instance) / "voter-entry.lua", app,
                                                  page_voters, "/c/load/hotlines/HL-0500")
                results["voter_entry"] = measure(server.url + "/", floor_url, script,
                                                 seconds=args.seconds)
            if "page_vote" in only:
                script = write_page_vote_script(Path(instance) / "page-vote.lua", app,
                                                page_voters, entry_ids)
                results["page_vote"] = measure(
                    server.url + "/", floor_url, script,
                    offsets=vote_offsets(len(page_voters), len(entry_ids)), seconds=args.seconds)
            if "receipt" in only:
                script = write_receipt_script(Path(instance) / "receipt.lua", app, _category_id)
                results["receipt"] = measure(server.url + "/", floor_url, script,
                                             seconds=args.seconds)
            results["peak_worker_mb_after_all"] = peak_memory_mb(server.worker_pids())
        finally:
            server.stop()
            floor.stop()
    print(json.dumps({"workers": workers, "database": writes, **results}, ensure_ascii=False))
    print(f"database: {writes}" + ("" if durable else " (not durable)"))
    print(f"{'':11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'floor':>7} {'of floor':>9}  goal")
    failed = []
    for name, figures in results.items():
        if not isinstance(figures, dict):
            continue
        ratio = figures["ratio"]
        goal = GOALS.get(name)
        line = (f"{name:11} {figures['rps']:9.0f} {figures['p50_ms']:8.2f} "
                f"{figures['p99_ms']:8.2f} {statistics.median(figures['floor_runs_rps']):7.0f} "
                f"{ratio:9.1%}")
        if goal:
            line += f"  >= {goal:.0%}"
            if ratio < goal:
                failed.append(f"{name} {ratio:.1%} < {goal:.0%}")
        if name in P99_GOALS_MS:
            line += f", p99 <= {P99_GOALS_MS[name]} ms"
            if figures["p99_ms"] > P99_GOALS_MS[name]:
                failed.append(f"{name} p99 {figures['p99_ms']} ms")
        if name == "vote" and not durable:
            line += "  (does not count: the database does not commit durably)"
            failed.append("vote: the database does not commit durably (scripts/services bench)")
        if figures.get("non_2xx"):
            line += f"  ({figures['non_2xx']} non-2xx answers)"
            failed.append(f"{name}: {figures['non_2xx']} non-2xx answers")
        if figures.get("refused"):
            line += f"  ({figures['refused']} votes not taken)"
            failed.append(f"{name}: {figures['refused']} votes not taken")
        if not goal and name not in P99_GOALS_MS:
            line += "  (no goal: the citizens' pages, for comparison)"
        print(line)
    memory = results.get("peak_worker_mb_after_all")
    print(f"peak worker memory: {memory} MB (goal <= 150 MB)")
    if memory and memory > 150:
        failed.append(f"worker memory {memory} MB")
    print("all goals met" if not failed else "missed: " + "; ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
