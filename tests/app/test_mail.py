"""Mail is written to the outbox with its change and leaves after the commit, from a thread:
with SMTP it really leaves the machine; a server that is down, hangs or refuses holds up no
request, and loses no mail."""
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from app import mail as outbox
from app.database import utcnow
from app.extensions import db
from app.mail import Mail, MailError, queue_mail, transmit, wait_for_deliveries
from app.models import MailStatus, OutgoingMail, Role

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


def smtp_app(make_app, port, **settings):
    return make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                    MAIL_DEFAULT_SENDER="awards@example.org", **settings)


def mails():
    db.session.expire_all()
    return db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)).all()


def ask_reset(client, email):
    """A password reset asked for ``email``: the change whose mail these tests follow."""
    token = csrf_token(client, "/auth/reset")
    started = time.monotonic()
    response = client.post("/auth/reset", data={"email": email, "csrf_token": token})
    assert response.status_code == 302
    return time.monotonic() - started


def test_a_password_reset_mail_leaves_through_smtp(make_app, make_user, smtp_server):
    controller, inbox = smtp_server
    app = smtp_app(make_app, controller.port)
    with app.app_context():
        user = make_user(Role.EXPERT, email="expert@example.org")
        client = app.test_client()
        response = client.post("/auth/reset", data={
            "email": user.email, "csrf_token": csrf_token(client)})
        assert response.status_code == 302
        assert wait_for_deliveries()
        assert len(inbox.messages) == 1
        envelope = inbox.messages[0]
        assert envelope.mail_from == "awards@example.org"
        assert envelope.rcpt_tos == ["expert@example.org"]
        message = message_from_bytes(envelope.content, policy=default)
        assert message["Subject"] == "重置密码"
        assert "http://127.0.0.1:5000/auth/reset/" in message.get_content()
        # sent: kept as a record, without its text (the reset link must not outlive the mail)
        [row] = mails()
        assert (row.status, row.recipient, row.body, row.attempts) == (
            MailStatus.SENT, "expert@example.org", "", 1)
        assert row.finished_at is not None and row.taken_at is None


def test_no_mail_leaves_when_the_change_is_rolled_back(make_app, smtp_server):
    controller, inbox = smtp_server
    app = smtp_app(make_app, controller.port)
    with app.app_context():
        queue_mail(db.session, "a@example.org", "主题", "正文")
        db.session.rollback()
        db.session.commit()
        assert wait_for_deliveries()
        assert inbox.messages == [] and mails() == []


def test_a_mail_server_that_is_down_loses_no_mail(make_app, make_user, caplog):
    """The change commits, its mail waits in the outbox with the reason and its next try; once
    the server is back, `mail send` delivers it."""
    port = free_port()
    app = smtp_app(make_app, port, MAIL_TIMEOUT=2)
    with app.app_context(), caplog.at_level("WARNING", logger="app.mail"):
        make_user(Role.EXPERT, email="new@example.org")
        ask_reset(app.test_client(), "new@example.org")
        assert wait_for_deliveries()
        [row] = mails()
        assert (row.status, row.attempts) == (MailStatus.PENDING, 1)
        assert "could not reach the mail server" in row.last_error
        assert "mail not sent, tried again later" in caplog.text
        # the first wait is MAIL_RETRY_SECONDS (60)
        assert timedelta(seconds=55) < row.not_before - utcnow() <= timedelta(seconds=60)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with app.app_context():  # the command runs in the current app's context, if there is one
            result = app.test_cli_runner().invoke(args=["mail", "send"])
    finally:
        controller.stop()
    assert result.exit_code == 0, result.output
    assert "1 mail(s) waiting" in result.output and "sent 1, to be tried again 0" in result.output
    assert [envelope.rcpt_tos for envelope in inbox.messages] == [["new@example.org"]]
    with app.app_context():
        [row] = mails()
        assert (row.status, row.attempts, row.body, row.last_error) == (MailStatus.SENT, 2, "", "")


@pytest.fixture
def silent_server():
    """A mail server that takes connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_a_hung_mail_server_holds_up_no_request(make_app, make_user, silent_server):
    """A server that accepts and never answers held the request (and its gunicorn worker) for
    MAIL_TIMEOUT: now a mail thread waits, and the request answers at once."""
    app = smtp_app(make_app, silent_server, MAIL_TIMEOUT=3)
    with app.app_context():
        make_user(Role.EXPERT, email="new@example.org")
        answered = ask_reset(app.test_client(), "new@example.org")
        assert answered < 1.5, answered
        assert outbox.pending_deliveries() == 1  # the thread still waits on the server
        assert wait_for_deliveries(timeout=15)
        [row] = mails()
        assert row.status == MailStatus.PENDING and "timed out" in row.last_error


def test_the_mails_of_one_change_leave_over_one_connection(make_app, smtp_server, caplog):
    """A reminder to every expert of a panel is one change with a mail each: they leave over
    one connection to the server (one handshake, not dozens), and a mailbox the server refuses
    for good (550) does not keep the others from leaving: it is given up, and logged."""
    controller, inbox = smtp_server
    inbox.unknown = {"gone@example.org"}
    app = smtp_app(make_app, controller.port)
    addresses = [f"expert{n}@example.org" for n in range(5)]
    with app.app_context(), caplog.at_level("ERROR", logger="app.mail"):
        for address in addresses[:2] + ["gone@example.org"] + addresses[2:]:
            queue_mail(db.session, address, "评审提醒", "您还有作品待评。")
        db.session.commit()
        assert wait_for_deliveries()
        assert inbox.connections == 1
        assert [envelope.rcpt_tos for envelope in inbox.messages] == [[a] for a in addresses]
        assert "gone@example.org" in caplog.text and "expert0@example.org" not in caplog.text
        given_up = [row for row in mails() if row.status == MailStatus.ABANDONED]
        assert [row.recipient for row in given_up] == ["gone@example.org"]
        assert given_up[0].last_error == "550 5.1.1 no such mailbox"
        assert given_up[0].body == "您还有作品待评。"


def test_the_backlog_leaves_with_the_next_changes_mail(make_app, smtp_server):
    """Mails whose wait is over (a server back after an outage; a process killed before it
    sent them) go with the next change's mail, over the same connection."""
    controller, inbox = smtp_server
    app = smtp_app(make_app, controller.port)
    with app.app_context():
        earlier = utcnow() - timedelta(minutes=5)
        db.session.add_all([
            OutgoingMail(recipient="waited@example.org", subject="旧", body="一", attempts=2,
                         last_error="refused", not_before=earlier),
            OutgoingMail(recipient="killed@example.org", subject="旧", body="二", attempts=1,
                         taken_at=earlier - timedelta(minutes=20)),
            OutgoingMail(recipient="later@example.org", subject="旧", body="三", attempts=1,
                         not_before=utcnow() + timedelta(minutes=5)),
            OutgoingMail(recipient="taken@example.org", subject="旧", body="四", attempts=1,
                         taken_at=utcnow() - timedelta(minutes=1))])
        db.session.commit()
        queue_mail(db.session, "new@example.org", "新", "五")
        db.session.commit()
        assert wait_for_deliveries()
        assert inbox.connections == 1
        assert sorted(e.rcpt_tos[0] for e in inbox.messages) == [
            "killed@example.org", "new@example.org", "waited@example.org"]
        left = {row.recipient: row.status for row in mails()}
        assert left["later@example.org"] == left["taken@example.org"] == MailStatus.PENDING


def test_two_deliveries_at_once_send_each_mail_once(make_app, smtp_server):
    controller, inbox = smtp_server
    app = smtp_app(make_app, controller.port, MAIL_BATCH=100)
    with app.app_context():
        db.session.add_all([OutgoingMail(recipient=f"m{n}@example.org", subject="s", body="b")
                            for n in range(40)])
        db.session.commit()
        start = threading.Barrier(2)

        def deliver():
            with app.app_context():
                start.wait()
                outbox.deliver()

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(e.rcpt_tos[0] for e in inbox.messages) == sorted(
            f"m{n}@example.org" for n in range(40))
        assert {row.status for row in mails()} == {MailStatus.SENT}


def test_each_failed_try_waits_twice_as_long_and_a_mail_is_given_up_after_two_days(make_app):
    app = smtp_app(make_app, free_port(), MAIL_TIMEOUT=2)
    with app.app_context():
        old = OutgoingMail(recipient="old@example.org", subject="s", body="b",
                           created_at=utcnow() - timedelta(hours=49))
        young = OutgoingMail(recipient="young@example.org", subject="s", body="b")
        db.session.add_all([old, young])
        db.session.commit()
        waits = []
        for _try in range(8):
            db.session.execute(update(OutgoingMail).values(not_before=None))
            db.session.commit()
            outbox.deliver()
            row = db.session.get(OutgoingMail, young.id, populate_existing=True)
            waits.append(round((row.not_before - utcnow()).total_seconds() / 60))
        assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
        row = db.session.get(OutgoingMail, old.id, populate_existing=True)
        assert (row.status, row.attempts) == (MailStatus.ABANDONED, 1)


def test_transmit_reports_an_unreachable_server(make_app):
    app = smtp_app(make_app, free_port(), MAIL_TIMEOUT=2)
    with app.app_context(), pytest.raises(MailError):
        transmit([Mail("a@example.org", "主题", "正文")])


def test_organisers_see_the_mails_that_did_not_leave_and_try_them_again(client, make_user,
                                                                         login, post):
    """/admin/ says how many mails have not left and links to them; /admin/mail lists those
    tried in vain and those given up, with the server's answer (never the sent ones, nor a new
    one on its way); its button sends every waiting mail at once (CSRF required)."""
    login(make_user(Role.ORGANISER))
    db.session.add_all([
        OutgoingMail(recipient="sent@example.org", subject="已发送", body="", attempts=1,
                     status=MailStatus.SENT, finished_at=utcnow()),
        OutgoingMail(recipient="fresh@example.org", subject="刚写好", body="b"),
        OutgoingMail(recipient="waiting@example.org", subject="审核结果", body="b", attempts=2,
                     last_error="421 Service not available",
                     not_before=utcnow() + timedelta(minutes=30)),
        OutgoingMail(recipient="gone@example.org", subject="专家邀请", body="b", attempts=1,
                     status=MailStatus.ABANDONED, last_error="550 no such mailbox",
                     finished_at=utcnow())])
    db.session.commit()
    index = client.get("/admin/").get_data(as_text=True)
    assert "2 封邮件尚未送达" in index and 'href="/admin/mail"' in index
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "waiting@example.org" in page and "421 Service not available" in page
    assert "gone@example.org" in page and "550 no such mailbox" in page and "已放弃" in page
    assert "sent@example.org" not in page and "fresh@example.org" not in page
    assert client.post("/admin/mail/retry").status_code == 400  # no CSRF token
    response = post("/admin/mail/retry")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/mail"
    # the console backend sends at once: both waiting mails have left, the given-up one stays
    status = {row.recipient: row.status for row in mails()}
    assert status["waiting@example.org"] == status["fresh@example.org"] == MailStatus.SENT
    assert status["gone@example.org"] == MailStatus.ABANDONED
    page = client.get("/admin/mail").get_data(as_text=True)
    assert "2 封待发邮件现在重新发送。" in page
    assert "waiting@example.org" not in page and "gone@example.org" in page


def test_the_send_command_says_what_did_not_leave_and_fails(make_app, make_user):
    """`mail send` (cron) exits 1 when a mail did not leave, so that cron reports it."""
    app = smtp_app(make_app, free_port(), MAIL_TIMEOUT=2)
    with app.app_context():
        queue_mail(db.session, "a@example.org", "主题", "正文")
        db.session.commit()
        assert wait_for_deliveries()
        result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "sent 0, to be tried again 1, given up 0"


def test_finished_mails_are_forgotten_after_the_keeping_time(app, runner):
    """`mail send` removes the mails sent or given up over MAIL_KEEP_DAYS (90) ago: an address
    is kept no longer than useful. Waiting mails, however old, stay."""
    long_ago = utcnow() - timedelta(days=91)
    db.session.add_all([
        OutgoingMail(recipient="old-sent@example.org", subject="s", body="", attempts=1,
                     status=MailStatus.SENT, created_at=long_ago, finished_at=long_ago),
        OutgoingMail(recipient="old-gone@example.org", subject="s", body="b", attempts=1,
                     status=MailStatus.ABANDONED, created_at=long_ago, finished_at=long_ago),
        OutgoingMail(recipient="recent@example.org", subject="s", body="", attempts=1,
                     status=MailStatus.SENT, finished_at=utcnow() - timedelta(days=89)),
        OutgoingMail(recipient="waiting@example.org", subject="s", body="b", attempts=3,
                     created_at=long_ago, not_before=utcnow() + timedelta(hours=1))])
    db.session.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "2 mail(s) sent or given up over 90 days ago forgotten")
    assert [(row.recipient, row.status) for row in mails()] == [
        ("recent@example.org", MailStatus.SENT), ("waiting@example.org", MailStatus.SENT)]


def test_a_delivery_that_fails_leaves_the_change_and_its_mail(app, make_user, monkeypatch,
                                                              caplog):
    """The change is committed before its mail leaves: a delivery that fails (here the
    database refusing the delivery's write) is logged, the request answers as usual, and the
    mail waits in the outbox for the next delivery."""
    def refused(*_args):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(outbox, "_claim", refused)
    make_user(Role.EXPERT, email="new@example.org")
    with caplog.at_level("ERROR", logger="app.mail"):
        ask_reset(app.test_client(), "new@example.org")
    assert "mail delivery failed" in caplog.text
    [row] = mails()
    assert (row.recipient, row.status, row.attempts) == ("new@example.org", MailStatus.PENDING, 0)


def test_sending_everything_ends_while_the_server_is_down(make_app):
    """With no wait between tries (MAIL_RETRY_SECONDS=0) a failed mail is due again at once:
    `mail send` and the organiser's button still end, after as many deliveries as the waiting
    mails fill, each mail tried about once."""
    app = smtp_app(make_app, free_port(), MAIL_TIMEOUT=2, MAIL_RETRY_SECONDS=0, MAIL_BATCH=2)
    with app.app_context():
        db.session.add_all([OutgoingMail(recipient=f"m{n}@example.org", subject="s", body="b")
                            for n in range(5)])
        db.session.commit()
        done = outbox.deliver_all()
        # three deliveries of two: the never-tried first, then the one whose time came first
        assert (done.sent, done.retrying) == (0, 6)
        assert {row.status for row in mails()} == {MailStatus.PENDING}
        assert [row.attempts for row in mails()] == [2, 1, 1, 1, 1]
