"""Outgoing mail: written to the outbox in the change's transaction, sent after its commit.

``queue_mail`` adds a mail to the session (an ``OutgoingMail`` row): a change that commits has
its mails in the database whatever happens next, one that rolls back has none. After the commit,
``send_soon`` hands them to a thread of the process (``console``, which only writes a log line,
sends them at once): a mail server that is slow or does not answer holds that thread, never the
request. A delivery takes its mails with a short write (``_claim``), talks to the server with no
transaction open, and writes what came of each (``_settle``): sent (its text emptied: a reset link
must not outlive its mail), refused for good (abandoned), or to be tried again later, after a
wait that doubles with each try (``MAIL_RETRY_SECONDS``, at most an hour) and until
``MAIL_GIVE_UP_HOURS``. Each delivery also takes up to ``MAIL_BATCH`` older mails whose time has
come, so a mail server back after an outage empties the backlog with the next change's mail;
``flask --app wsgi mail send`` (cron) and the organisers' page /admin/mail send it on demand.
"""
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import bindparam, delete, event, func, inspect, or_, select, update
from sqlalchemy.orm import Session, scoped_session

from .background import Busy, Threads
from .database import utcnow
from .extensions import db
from .models.mail import MailStatus, OutgoingMail

log = logging.getLogger(__name__)

OUTBOX_KEY = "mail_outbox"

#: How long a delivery holds the mails it took: no other takes them meanwhile. Longer than any
#: delivery lasts (each step against the server times out after MAIL_TIMEOUT).
LEASE = timedelta(minutes=15)
#: The longest wait between two tries of a mail.
LONGEST_WAIT = timedelta(hours=1)

#: This process's mail threads (MAIL_THREADS; at most MAIL_PENDING deliveries waiting).
_threads = Threads("mail-sender", "MAIL_THREADS", "MAIL_PENDING")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Failure:
    """Why one mail did not leave; ``lasting`` when the server refused it for good (5xx)."""

    reason: str
    lasting: bool = False


@dataclass(frozen=True)
class Delivery:
    """What one or more deliveries did: mails sent, to be tried again, given up."""

    sent: int = 0
    retrying: int = 0
    abandoned: int = 0

    def __add__(self, other):
        return Delivery(self.sent + other.sent, self.retrying + other.retrying,
                        self.abandoned + other.abandoned)

    @property
    def taken(self):
        return self.sent + self.retrying + self.abandoned


class MailError(RuntimeError):
    """The configured sender could not be reached."""


def _build(mail, sender):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid()
    message.set_content(mail.body)
    return message


def transmit(mails, config=None):
    """Hand ``mails`` to the configured backend now, over one SMTP connection (a reminder to
    every expert of a panel is one handshake, not one each): a list with, for each mail, None if
    it left or its ``Failure``. MailError if the server cannot be reached at all."""
    config = config or current_app.config
    backend = config["MAIL_BACKEND"]
    if backend == "console":
        for mail in mails:
            log.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
        return [None] * len(mails)
    if backend != "smtp":
        raise MailError(f"unknown MAIL_BACKEND {backend!r}")
    messages = [_build(mail, config["MAIL_DEFAULT_SENDER"]) for mail in mails]
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    outcomes = []
    try:
        if config["MAIL_USE_SSL"]:
            client = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if config["MAIL_USE_TLS"]:
                client.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                client.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            for message in messages:
                outcomes.append(_send_one(client, message))
    except (OSError, smtplib.SMTPException) as error:
        if not outcomes:
            raise MailError(f"could not reach the mail server: {error}") from error
        # The connection broke in the middle: the rest did not leave, and may another time.
        outcomes += [Failure(f"connection lost: {error}")] * (len(mails) - len(outcomes))
    return outcomes


def _send_one(client, message):
    try:
        client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        answers = list(error.recipients.values())
        return Failure("; ".join(_answer(code, text) for code, text in answers),
                       lasting=all(code >= 500 for code, _text in answers))
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        return Failure(_answer(error.smtp_code, error.smtp_error), lasting=error.smtp_code >= 500)
    return None


def _answer(code, text):
    """A server's answer as it said it: "550 5.1.1 no such mailbox"."""
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


def queue_mail(session, to, subject, body):
    """Send a mail once ``session`` commits (never if it rolls back): its row is written in the
    session's transaction, and it leaves after the commit (``send_soon``)."""
    if isinstance(session, scoped_session):
        session = session()
    mail = OutgoingMail(recipient=str(to), subject=str(subject)[:200], body=str(body))
    session.add(mail)
    session.info.setdefault(OUTBOX_KEY, []).append(mail)


@event.listens_for(Session, "after_commit")
def _send_outbox(session):
    outbox = session.info.pop(OUTBOX_KEY, [])
    # The identity is known without a read (the objects are expired by the commit); a mail
    # added in a savepoint that was rolled back has none, and was never written.
    ids = [state.identity[0] for state in map(inspect, outbox) if state.identity]
    if ids:
        send_soon(ids)


@event.listens_for(Session, "after_soft_rollback")
def _drop_outbox(session, _previous_transaction):
    # Fired on every rollback() call, even one that had no database transaction to undo;
    # a savepoint's rollback leaves the outer transaction, and its mail, in place.
    if not session.in_transaction():
        session.info.pop(OUTBOX_KEY, None)


def send_soon(ids=(), everything=False):
    """Deliver the committed mails ``ids`` (and a batch of the backlog; with ``everything``,
    deliveries until no mail's time has come): on a mail thread of this process, or at once for
    the console. When the threads have MAIL_PENDING deliveries waiting, the mails stay in the
    outbox for the next one."""
    app = current_app._get_current_object()
    if app.config["MAIL_BACKEND"] == "console":
        _deliver_logged(list(ids), everything)  # the change is committed: never undo its answer
        return
    try:
        _threads.submit(app, _deliver_logged, list(ids), everything)
    except Busy:
        log.warning("%d mail(s) wait in the outbox: this process has %d deliveries under way",
                    len(ids), _threads.pending())


def _deliver(ids, everything):
    if everything:
        deliver_all()
    else:
        deliver(ids)


def _deliver_logged(ids, everything):
    try:
        _deliver(ids, everything)
    except Exception:  # a thread's error would otherwise be kept in its Future, unseen
        log.exception("mail delivery failed; the mails stay in the outbox")


def pending_deliveries():
    """How many deliveries this process has under way or waiting (the tests wait for none)."""
    return _threads.pending()


def wait_for_deliveries(timeout=10):
    """Wait until this process has no delivery under way: whether none is."""
    return _threads.wait(timeout)


def deliver(ids=(), more=None):
    """One delivery: the pending mails ``ids`` and up to ``more`` (MAIL_BATCH) others whose time
    has come, never tried first. Returns its ``Delivery``."""
    config = current_app.config
    taken = _claim(list(ids), config["MAIL_BATCH"] if more is None else more, utcnow())
    if not taken:
        return Delivery()
    mails = [Mail(row.recipient, row.subject, row.body) for row in taken]
    try:
        outcomes = transmit(mails, config)
    except MailError as error:
        outcomes = [Failure(str(error))] * len(mails)
    return _settle(taken, outcomes, utcnow(), config)


def deliver_all(report=None):
    """Deliveries one after the other until no mail's time has come, or as many as the mails
    pending at the start fill (a mail tried again at once, with MAIL_RETRY_SECONDS at 0, would
    otherwise keep them going while the server is down): what they did together.
    ``report(delivery)`` is called after each (the command's progress)."""
    batch = max(1, current_app.config["MAIL_BATCH"])
    pending = db.session.scalar(select(func.count()).where(
        OutgoingMail.status == MailStatus.PENDING))
    db.session.rollback()  # no transaction held while the server is talked to
    done = Delivery()
    for _pass in range(pending // batch + 1):
        delivery = deliver(more=batch)
        if not delivery.taken:
            break
        done += delivery
        if report:
            report(done)
    return done


def _claim(ids, more, now):
    """Take the mails for one delivery in a short write: nobody else takes them for LEASE."""
    table = OutgoingMail.__table__
    due = ((table.c.status == MailStatus.PENDING)
           & or_(table.c.not_before.is_(None), table.c.not_before <= now)
           & or_(table.c.taken_at.is_(None), table.c.taken_at <= now - LEASE))
    # Never tried first, then those whose time came first.
    backlog = (select(table.c.id).where(due)
               .order_by(table.c.not_before.asc().nulls_first(), table.c.id)
               .limit(more).scalar_subquery())
    statement = (update(table).where(due, or_(table.c.id.in_(ids), table.c.id.in_(backlog)))
                 .values(taken_at=now, attempts=table.c.attempts + 1)
                 .returning(table.c.id, table.c.recipient, table.c.subject, table.c.body,
                            table.c.created_at, table.c.attempts))
    with db.engine.begin() as connection:
        return sorted(connection.execute(statement).all(), key=lambda row: row.id)


def _settle(taken, outcomes, now, config):
    """Write what came of each mail taken, in one short write."""
    table = OutgoingMail.__table__
    give_up_before = now - timedelta(hours=config["MAIL_GIVE_UP_HOURS"])
    sent, retrying, abandoned = [], [], []
    for row, failure in zip(taken, outcomes, strict=True):
        if failure is None:
            sent.append(row.id)
            continue
        error = failure.reason[:2000]
        if failure.lasting or row.created_at < give_up_before:
            abandoned.append({"mail_id": row.id, "error": error})
            log.error("mail given up: %s (%s): %s", row.recipient, row.subject, error)
        else:
            wait = min(timedelta(seconds=config["MAIL_RETRY_SECONDS"] * 2 ** (row.attempts - 1)),
                       LONGEST_WAIT)
            retrying.append({"mail_id": row.id, "error": error, "until": now + wait})
            log.warning("mail not sent, tried again later: %s (%s): %s", row.recipient,
                        row.subject, error)
    with db.engine.begin() as connection:
        if sent:
            connection.execute(update(table).where(table.c.id.in_(sent)).values(
                status=MailStatus.SENT, body="", last_error="", not_before=None, taken_at=None,
                finished_at=now))
        if abandoned:
            connection.execute(update(table).where(table.c.id == bindparam("mail_id")).values(
                status=MailStatus.ABANDONED, last_error=bindparam("error"), not_before=None,
                taken_at=None, finished_at=now), abandoned)
        if retrying:
            connection.execute(update(table).where(table.c.id == bindparam("mail_id")).values(
                last_error=bindparam("error"), not_before=bindparam("until"), taken_at=None),
                retrying)
    return Delivery(len(sent), len(retrying), len(abandoned))


def undelivered():
    """The mails not delivered that organisers should see, as a query (newest first): those
    tried and still pending, and those given up."""
    return (select(OutgoingMail)
            .where(or_(OutgoingMail.status == MailStatus.ABANDONED,
                       (OutgoingMail.status == MailStatus.PENDING) & (OutgoingMail.attempts > 0)))
            .order_by(OutgoingMail.id.desc()))


def undelivered_count():
    return db.session.scalar(select(func.count()).select_from(undelivered().subquery()))


def retry_now():
    """Every pending mail may be tried at once (the organiser's button, the command): its wait
    after a failed try is over. Those a delivery has under way are left to it. Returns how many
    mails are pending (the rows the update matched)."""
    return db.session.execute(update(OutgoingMail).where(
        OutgoingMail.status == MailStatus.PENDING).values(not_before=None)).rowcount


def forget_finished():
    """Remove the mails sent or given up more than MAIL_KEEP_DAYS ago; returns how many."""
    before = utcnow() - timedelta(days=current_app.config["MAIL_KEEP_DAYS"])
    result = db.session.execute(delete(OutgoingMail).where(
        OutgoingMail.status != MailStatus.PENDING, OutgoingMail.finished_at < before))
    return result.rowcount
