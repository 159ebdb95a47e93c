"""Outgoing mail through one sender chosen by configuration: ``console`` or ``smtp``.

Mail that belongs to a change (an approval, a password reset) is queued on the database session
with ``queue_mail`` and leaves only when that transaction commits: a rolled-back change sends
nothing.
"""
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, scoped_session

log = logging.getLogger(__name__)

OUTBOX_KEY = "mail_outbox"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class MailError(RuntimeError):
    """The configured sender could not deliver a message."""


def _build(mail, sender):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid()
    message.set_content(mail.body)
    return message


def send_mail(mail, config=None):
    """Deliver ``mail`` now with the configured backend."""
    return send_mails([mail], config)[0]


def send_mails(mails, config=None):
    """Deliver ``mails`` now with the configured backend, over one SMTP connection (a reminder
    to every expert of a panel is one handshake, not one each); returns the messages sent.
    MailError if the server cannot be reached, or once the others are sent, if one is refused."""
    config = config or current_app.config
    backend = config["MAIL_BACKEND"]
    messages = [_build(mail, config["MAIL_DEFAULT_SENDER"]) for mail in mails]
    if backend == "console":
        for mail in mails:
            log.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
        return messages
    if backend != "smtp":
        raise MailError(f"unknown MAIL_BACKEND {backend!r}")
    host, port, timeout = config["MAIL_SERVER"], int(config["MAIL_PORT"]), config["MAIL_TIMEOUT"]
    refused = []
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
            for mail, message in zip(mails, messages, strict=True):
                try:
                    client.send_message(message)
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                        smtplib.SMTPDataError) as error:
                    refused.append(f"{mail.to}: {error}")
    except (OSError, smtplib.SMTPException) as error:
        to = ", ".join(mail.to for mail in mails)
        raise MailError(f"could not send mail to {to}: {error}") from error
    if refused:
        raise MailError("mail refused for " + "; ".join(refused))
    return messages


def queue_mail(session, to, subject, body):
    """Send a mail once ``session`` commits (not at all if it rolls back)."""
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        # Tie the mail to a transaction (no database lock is taken until one is needed).
        session.begin()
    session.info.setdefault(OUTBOX_KEY, []).append(Mail(str(to), str(subject), str(body)))


@event.listens_for(Session, "after_commit")
def _flush_outbox(session):
    outbox = session.info.pop(OUTBOX_KEY, [])
    if not outbox:
        return
    try:
        send_mails(outbox)
    except MailError:
        # The change is committed; a lost mail must not undo it, but it must be seen.
        log.exception("mail not delivered: %s", "; ".join(sorted({m.subject for m in outbox})))


@event.listens_for(Session, "after_soft_rollback")
def _drop_outbox(session, _previous_transaction):
    # Fired on every rollback() call, even one that had no database transaction to undo;
    # a savepoint's rollback leaves the outer transaction, and its mail, in place.
    if not session.in_transaction():
        session.info.pop(OUTBOX_KEY, None)
