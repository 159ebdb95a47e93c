"""Under gunicorn's sync workers, a hung SMS gateway does not take the site down with it."""
import json
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.harness import fetch

from ..voting.test_senders import SlowGateway, slow_gateway

PHONES = [f"1380000{n:04d}" for n in range(1, 7)]


def test_a_hung_gateway_leaves_the_workers_free_for_every_visitor(gunicorn):
    """Two workers; six voters ask for a code at once while the gateway takes the messages and
    does not answer. Each is told within seconds that the code may come later, and pages and
    the health check answer meanwhile. (Before, each code request held its worker until the
    gateway's timeout: two of them, and nobody else could open a page for ten seconds.)"""
    gateway = slow_gateway(*(f"+86{phone}" for phone in PHONES))
    try:
        server = gunicorn(workers=2, CODE_SENDER="webhook", CODE_SENDER_TIMEOUT=10,
                          CODE_SENDER_URL=f"http://127.0.0.1:{gateway.server_port}/sms",
                          CODE_LIMITS_PER_IP="1000/minute", CODES_PER_IP_PER_DAY=1000)

        def ask(phone):
            started = time.monotonic()
            status, body = fetch(server.url + "/api/v1/codes", "POST",
                                 json.dumps({"phone": phone}).encode(),
                                 {"Content-Type": "application/json"}, timeout=30)
            return status, json.loads(body), time.monotonic() - started

        with ThreadPoolExecutor(len(PHONES)) as pool:
            asking = pool.map(ask, PHONES)
            time.sleep(0.5)  # the requests are in the workers, the gateway holds the messages
            started = time.monotonic()
            page, _body = fetch(server.url + "/", timeout=30)
            health, _body = fetch(server.url + "/healthz", timeout=30)
            page_took = time.monotonic() - started
            answers = list(asking)
        assert page == health == 200 and page_took < 3
        assert [(status, body["delayed"]) for status, body, _took in answers] == [
            (202, True)] * len(PHONES)
        assert max(took for _status, _body, took in answers) < 9
        assert len(SlowGateway.messages) == len(PHONES)  # every code went out
    finally:
        SlowGateway.release.set()
        gateway.shutdown()
        gateway.server_close()
