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
    forged = hmac.new(b"another secret", f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["X-Signature"] != "sha256=" + forged.hexdigest()

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
    ``hold`` seconds pass), and answers every other at once."""
    held, hold, release, received, messages = (), 8, threading.Event(), [], []

    def do_POST(self):  # noqa: N802 - the http.server interface
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SlowGateway.messages.append(message)
        if message["to"] in SlowGateway.held:
            SlowGateway.release.wait(SlowGateway.hold)
        SlowGateway.received.append((message["to"], SlowGateway.release.is_set()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def slow_gateway(*held, hold=8):
    SlowGateway.held, SlowGateway.hold = held, hold
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
        server.shutdown()
        server.server_close()
    code = next(m["code"] for m in SlowGateway.messages if m["to"] == "+8613800000003")
    token = client.post("/api/v1/tokens", json={"phone": "13800000003", "code": code})
    assert token.status_code == 200 and token.json["token"]
