"""Mail goes through one configured sender; with SMTP it really leaves the machine."""
import socket
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.extensions import db
from app.mail import Mail, MailError, send_mail
from app.models import Role, User

from ..conftest import csrf_token


class Inbox:
    """Keeps what it is sent; counts the connections (each greets once); refuses the
    recipients in ``unknown``."""

    def __init__(self):
        self.messages, self.connections, self.unknown = [], 0, set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_a_password_reset_mail_leaves_through_smtp(make_app, make_user, smtp_server):
    controller, inbox = smtp_server
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port,
                   MAIL_DEFAULT_SENDER="awards@example.org")
    with app.app_context():
        user = make_user(Role.EXPERT, email="expert@example.org")
        client = app.test_client()
        response = client.post("/auth/reset", data={
            "email": user.email, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.mail_from == "awards@example.org"
    assert envelope.rcpt_tos == ["expert@example.org"]
    message = message_from_bytes(envelope.content, policy=default)
    assert message["Subject"] == "重置密码"
    assert "http://127.0.0.1:5000/auth/reset/" in message.get_content()


def test_no_mail_leaves_when_the_change_is_rolled_back(make_app, make_user, smtp_server):
    from app.mail import queue_mail

    controller, inbox = smtp_server
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    with app.app_context():
        queue_mail(db.session, "a@example.org", "主题", "正文")
        db.session.rollback()
        db.session.commit()
    assert inbox.messages == []


def test_an_unreachable_smtp_server_does_not_undo_the_change(make_app, post, caplog):
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(),
                   MAIL_TIMEOUT=2)
    with app.app_context():
        client = app.test_client()
        response = client.post("/auth/register", data={
            "agency_name": "新机构", "contact_name": "联系人", "email": "new@example.org",
            "password": "a good password", "confirm": "a good password",
            "csrf_token": csrf_token(client)})
        assert response.status_code == 302
        assert db.session.scalar(select(User).where(User.email == "new@example.org"))


def test_send_mail_reports_an_unreachable_server(make_app):
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(),
                   MAIL_TIMEOUT=2)
    with app.app_context(), pytest.raises(MailError):
        send_mail(Mail("a@example.org", "主题", "正文"))


def test_the_mails_of_one_change_leave_over_one_connection(make_app, smtp_server, caplog):
    """A reminder to every expert of a panel is one change with a mail each: they leave over
    one connection to the server (one handshake, not dozens, within the request's time), and a
    mailbox the server refuses does not keep the others from leaving; it is logged."""
    from app.mail import queue_mail

    controller, inbox = smtp_server
    inbox.unknown = {"gone@example.org"}
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    addresses = [f"expert{n}@example.org" for n in range(5)]
    with app.app_context(), caplog.at_level("ERROR", logger="app.mail"):
        for address in addresses[:2] + ["gone@example.org"] + addresses[2:]:
            queue_mail(db.session, address, "评审提醒", "您还有作品待评。")
        db.session.commit()
    assert inbox.connections == 1
    assert [envelope.rcpt_tos for envelope in inbox.messages] == [[a] for a in addresses]
    assert "gone@example.org" in caplog.text and "expert0@example.org" not in caplog.text
