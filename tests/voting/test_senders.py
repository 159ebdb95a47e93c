"""The code senders chosen by configuration: file and webhook really deliver; console masks."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.database import utcnow
from voting import services


class Gateway(BaseHTTPRequestHandler):
    received = []
    status = 200

    def do_POST(self):  # noqa: N802 - the http.server interface
        length = int(self.headers["Content-Length"])
        Gateway.received.append(json.loads(self.rfile.read(length)))
        self.send_response(Gateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received, Gateway.status = [], 200
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


def test_a_failing_gateway_is_reported_and_no_code_is_kept(make_app, gateway):
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
