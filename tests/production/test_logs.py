"""Under gunicorn, no log line carries a request's path or query: tokens travel in them."""
import json

from benchmarks.harness import fetch


def test_gunicorn_writes_no_access_line_with_the_path(gunicorn):
    server = gunicorn(workers=1, log_level="INFO")
    secret = "ResetToken0123456789secret"
    status, _body = fetch(f"{server.url}/auth/reset/{secret}?next=/{secret}-next")
    assert status in (200, 302, 404)
    assert fetch(server.url + "/healthz")[0] == 200
    server.stop()
    log = server.log.read_text(encoding="utf-8")
    assert '"route": "/auth/reset/<token>"' in log  # the app's own line names the route pattern
    assert secret not in log


def test_each_worker_says_in_json_when_it_takes_requests(gunicorn):
    """One line per worker once it has built the app (gunicorn.conf.py, post_worker_init): what an
    operator reads to know a restart is done, and what the harness waits for before any load."""
    server = gunicorn(workers=3)
    pids = server.worker_pids()
    ready = [json.loads(line) for line in server.log.read_text(encoding="utf-8").splitlines()
             if "Worker ready" in line]
    assert len(pids) == 3
    assert sorted(int(line["message"].split("pid: ")[1].rstrip(")")) for line in ready) == sorted(pids)
    assert {line["level"] for line in ready} == {"INFO"}
    booting = [line for line in server.log.read_text(encoding="utf-8").splitlines()
               if "Booting worker" in line]
    assert len(booting) == 3  # each of gunicorn's lines once
    assert "Control socket" not in server.log.read_text(encoding="utf-8")  # gunicorn.conf.py
