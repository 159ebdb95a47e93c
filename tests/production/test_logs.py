"""Under gunicorn, no log line carries a request's path or query: tokens travel in them."""
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
