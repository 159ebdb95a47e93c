"""The outbox: every mail the site sends, written in the transaction of the change it tells of.

A mail is a row before it is a message (app/mail.py): a change that commits has its mails in
the database even if the mail server is down or the process is killed before it sends them, and
one that rolls back has none. A mail leaves from a thread of its own after the commit; one that
could not leave is tried again later and shown to the organisers.
"""
import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import db


class MailStatus(enum.StrEnum):
    PENDING = "pending"  #: not sent yet: waiting for its first try, or for the next
    SENT = "sent"
    ABANDONED = "abandoned"  #: refused for good by the server, or not sent within the retry time


class OutgoingMail(db.Model):
    """One mail to one address."""

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        # What the next delivery takes: the pending mails whose time has come, oldest first.
        Index("ix_outgoing_mail_status_not_before", "status", "not_before"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    #: The text; emptied once sent (a password reset link must not outlive its mail).
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(enum_type(MailStatus), default=MailStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Not tried again before this time: a failed mail waits longer after each try. None: at
    #: once.
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the delivery under way took it (no other takes it meanwhile); None between tries.
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: What the mail server (or the way to it) answered at the last failed try.
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: When it was sent or given up.
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
