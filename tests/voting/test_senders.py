"""The code senders chosen by configuration: file and webhook really deliver; console masks."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest

from app.database import utcnow
from voting import services
from voting.senders import pending_sends


class Gateway(BaseHTTPRequestHandler):
    received, requests = [], []
    status = 200

    def do_POST(self):  # noqa: N802 - the http.server interface
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length)
        Gateway.received.append(json.loads(body))
        Gateway.requests.append((dict(self.headers), body))
        self.send_response(Gateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received, Gateway.requests, Gateway.status = [], [], 200
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()
    server.server_close()


def test_the_webhook_sender_posts_the_code_to_the_gateway(make_app, gateway):
    app = make_app(CODE_SENDER="webhook", CODE_SENDER_URL=gateway)
    with app.app_context():
        services.request_code("13812345678", "1.2.3.4", utcnow())
    assert len(Gateway.received) == 1
    message = Gateway.received[0]
    assert message["to"] == "+8613812345678" and len(message["code"]) == 6


def test_the_gateway_can_tell_the_platforms_messages_by_their_signature(make_app, gateway):
    """With a shared secret, each message carries the time and an HMAC-SHA256 of the time and
    the body, as README tells the gateway to check; without one, no signature is sent."""
    secret = "shared-with-the-gateway"
    app = make_app(CODE_SENDER="webhook", CODE_SENDER_URL=gateway, CODE_SENDER_SECRET=secret)
    with app.app_context():
        services.request_code("13812345678", "1.2.3.4", utcnow())
    headers, body = Gateway.requests[0]
    timestamp = headers["X-Signature-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["X-Signature"] == "sha256=" + expected.hexdigest()
    assert abs(int(timestamp) - time.time()) < 60
    assert secret not in body.decode() and secret not in str(headers)

    unsigned = make_app(CODE_SENDER="webhook", CODE_SENDER_URL=gateway)
    with unsigned.app_context():
        services.request_code("13912345678", "1.2.3.5", utcnow())
    assert "X-Signature" not in Gateway.requests[1][0]


def test_a_failing_gateway_is_reported_and_no_code_is_kept(make_app, gateway):
    """A gateway that refuses the message: the voter is told, in Chinese on the page and with a
    503 from the API, and the code is not kept."""
    from sqlalchemy import func, select

    from app.extensions import db
    from voting.models import VerificationCode

    Gateway.status = 500
    app = make_app(CODE_SENDER="webhook", CODE_SENDER_URL=gateway)
    with app.app_context():
        with pytest.raises(services.NotSent):
            services.request_code("13812345678", "1.2.3.4", utcnow())
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(VerificationCode)) == 0
        from ..conftest import csrf_token

        client = app.test_client()
        page = client.post("/vote/verify", data={"phone": "13912345678",
                                                 "csrf_token": csrf_token(client, "/vote/verify")})
        assert page.status_code == 422 and "短信发送失败" in page.get_data(as_text=True)
        api = client.post("/api/v1/codes", json={"phone": "13712345678"})
        assert api.status_code == 503 and api.json["error"]["code"] == "not_sent"
        assert db.session.scalar(select(func.count()).select_from(VerificationCode)) == 0
        # The failed sends spent nothing: once the gateway is back, the same number is sent a
        # code at once (no "a code was just sent, wait 60 s").
        Gateway.status = 200
        again = client.post("/api/v1/codes", json={"phone": "13712345678"})
        assert again.status_code == 202 and Gateway.received[-1]["to"] == "+8613712345678"


class SlowGateway(BaseHTTPRequestHandler):
    """A gateway that holds the messages to the numbers ``held`` until told to answer (or
    ``hold`` seconds pass), and answers every other at once; with ``status``."""
    held, hold, release, received, messages, status = (), 8, threading.Event(), [], [], 200

    def do_POST(self):  # noqa: N802 - the http.server interface
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SlowGateway.messages.append(message)
        if message["to"] in SlowGateway.held:
            SlowGateway.release.wait(SlowGateway.hold)
        SlowGateway.received.append((message["to"], SlowGateway.release.is_set()))
        self.send_response(SlowGateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


def slow_gateway(*held, hold=8, status=200):
    SlowGateway.held, SlowGateway.hold, SlowGateway.status = held, hold, status
    SlowGateway.received, SlowGateway.messages = [], []
    SlowGateway.release = threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_slow_gateway_holds_up_no_other_write(make_app):
    """An SMS gateway may take seconds to answer; meanwhile the site's writes go on, and another
    voter's code is sent at once. (Before, the code's transaction held the site's one write lock
    until the gateway answered: every other write waited, and failed after the busy timeout.)"""
    server = slow_gateway("+8613800000001")
    app = make_app(CODE_SENDER="webhook",
                   CODE_SENDER_URL=f"http://127.0.0.1:{server.server_port}/sms")
    answers = {}

    def ask(phone):
        answers[phone] = app.test_client().post("/api/v1/codes", json={"phone": phone})

    slow = threading.Thread(target=ask, args=("13800000001",))
    try:
        slow.start()
        deadline = time.monotonic() + 5
        while not _pending_codes(app) and time.monotonic() < deadline:
            time.sleep(0.01)  # until the slow request has reached the gateway
        ask("13800000002")
        other_sent_first = not SlowGateway.release.is_set()
        SlowGateway.release.set()
        slow.join(10)
    finally:
        SlowGateway.release.set()
        settled()
        server.shutdown()
        server.server_close()
    assert answers["13800000002"].status_code == 202
    assert other_sent_first and SlowGateway.received[0] == ("+8613800000002", False)
    assert answers["13800000001"].status_code == 202
    assert _pending_codes(app) == 2


def _pending_codes(app):
    from sqlalchemy import func, select

    from app.extensions import db
    from voting.models import VerificationCode

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(VerificationCode))


def test_a_code_the_gateway_answers_too_late_for_is_kept_and_the_voter_told(make_app):
    """The gateway takes the message but answers after CODE_SENDER_TIMEOUT: the code may well
    arrive, so it is kept, and it works when the voter enters it. The page asks for the code,
    saying it may come a little later; the API says ``delayed``. (Deleting it, as for a refused
    message, would make the code that does arrive a wrong one.)"""
    from ..conftest import csrf_token

    server = slow_gateway("+8613800000003", "+8613800000004", hold=1)
    try:
        app = make_app(CODE_SENDER="webhook", CODE_SENDER_TIMEOUT=0.2,
                       CODE_SENDER_URL=f"http://127.0.0.1:{server.server_port}/sms")
        client = app.test_client()
        api = client.post("/api/v1/codes", json={"phone": "13800000003"})
        assert api.status_code == 202 and api.json["delayed"] is True
        page = client.post("/vote/verify", data={
            "phone": "13800000004", "csrf_token": csrf_token(client, "/vote/verify")})
        assert page.status_code == 200
        assert "短信服务响应较慢：发往 138****0004 的验证码可能稍后送达" in page.get_data(as_text=True)
        assert client.post("/api/v1/codes", json={"phone": "13800000005"}).json["delayed"] is False
    finally:
        settled()
        server.shutdown()
        server.server_close()
    code = next(m["code"] for m in SlowGateway.messages if m["to"] == "+8613800000003")
    token = client.post("/api/v1/tokens", json={"phone": "13800000003", "code": code})
    assert token.status_code == 200 and token.json["token"]


def settled(timeout=10):
    """Wait until this process has no code on its way (a sender thread still waiting on a
    gateway must not outlive the test's database)."""
    deadline = time.monotonic() + timeout
    while pending_sends() and time.monotonic() < deadline:
        time.sleep(0.02)
    return pending_sends() == 0


def test_a_hung_gateway_holds_a_sender_thread_not_the_request(make_app):
    """A gateway that takes the message and does not answer: the request answers after
    CODE_SENDER_WAIT, saying the code may come later, while a sender thread goes on waiting
    (for CODE_SENDER_TIMEOUT). Before, the request held its gunicorn worker all that time, and
    a handful of code requests left every visitor of the site waiting."""
    server = slow_gateway("+8613800000006")
    try:
        app = make_app(CODE_SENDER="webhook", CODE_SENDER_WAIT=0.3, CODE_SENDER_TIMEOUT=8,
                       CODE_SENDER_URL=f"http://127.0.0.1:{server.server_port}/sms")
        started = time.monotonic()
        answer = app.test_client().post("/api/v1/codes", json={"phone": "13800000006"})
        waited = time.monotonic() - started
        assert answer.status_code == 202 and answer.json["delayed"] is True
        assert 0.3 <= waited < 2 and pending_sends() == 1
        SlowGateway.release.set()
        assert settled() and _pending_codes(app) == 1  # delivered after all: the code stays
    finally:
        SlowGateway.release.set()
        settled()
        server.shutdown()
        server.server_close()


def test_a_code_the_gateway_refuses_late_is_deleted_and_the_voter_may_ask_again(make_app):
    """The gateway answers after the request has stopped waiting, and refuses the message: the
    code that will never arrive is deleted then, and the voter's next request is sent at once
    (no "a code was just sent, wait 60 s")."""
    server = slow_gateway("+8613800000007", status=503)
    try:
        app = make_app(CODE_SENDER="webhook", CODE_SENDER_WAIT=0.2,
                       CODE_SENDER_URL=f"http://127.0.0.1:{server.server_port}/sms")
        client = app.test_client()
        assert client.post("/api/v1/codes", json={"phone": "13800000007"}).json["delayed"]
        assert _pending_codes(app) == 1
        SlowGateway.release.set()
        assert settled() and _pending_codes(app) == 0
        SlowGateway.held, SlowGateway.status = (), 200
        again = client.post("/api/v1/codes", json={"phone": "13800000007"})
        assert again.status_code == 202 and again.json["delayed"] is False
    finally:
        SlowGateway.release.set()
        settled()
        server.shutdown()
        server.server_close()


def test_codes_do_not_pile_up_behind_a_hung_gateway(make_app):
    """Once a process has CODE_SENDER_PENDING codes on their way, the next request is refused
    at once (503, "try again in a minute"), and its code not kept: a hung gateway piles up no
    threads, no memory, and no codes that will never come."""
    server = slow_gateway("+8613800000008", "+8613800000009")
    try:
        app = make_app(CODE_SENDER="webhook", CODE_SENDER_WAIT=0.1, CODE_SENDER_PENDING=1,
                       CODE_SENDER_URL=f"http://127.0.0.1:{server.server_port}/sms")
        client = app.test_client()
        assert client.post("/api/v1/codes", json={"phone": "13800000008"}).json["delayed"]
        refused = client.post("/api/v1/codes", json={"phone": "13800000009"})
        assert refused.status_code == 503 and refused.json["error"]["code"] == "not_sent"
        assert "正在发送的短信过多" in refused.json["error"]["message"]
        assert _pending_codes(app) == 1 and len(SlowGateway.messages) == 1
    finally:
        SlowGateway.release.set()
        settled()
        server.shutdown()
        server.server_close()
