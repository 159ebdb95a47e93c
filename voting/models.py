"""Voters, one-time codes, votes, daily quotas and tallies (公众投票).

Integrity lives in the schema: one vote per voter, entry and day is a unique constraint; the
daily quota is a counter that is only ever raised by a conditional UPDATE (``used < limit``); the
tally of an entry is a counter raised in the same transaction as its vote. Votes are never
deleted: a fraudulent one is voided with a reason.
"""
import enum
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import db
from nominations.models import Entry


class VoteStatus(enum.StrEnum):
    VALID = "valid"
    VOIDED = "voided"


class Voter(db.Model):
    """A verified phone number, kept only as HMAC-SHA256 under a server secret."""

    __tablename__ = "voter"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hmac: Mapped[str] = mapped_column(String(64), unique=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VerificationCode(db.Model):
    """A 6-digit code sent to a phone: valid 5 minutes, 5 tries, used once."""

    __tablename__ = "verification_code"
    __table_args__ = (
        Index("ix_verification_code_phone_created", "phone_hmac", "created_at"),
        Index("ix_verification_code_ip_created", "ip_hmac", "created_at"),
        Index("ix_verification_code_created", "created_at"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hmac: Mapped[str] = mapped_column(String(64))
    #: HMAC of the code itself: a database reader learns no valid code.
    code_hmac: Mapped[str] = mapped_column(String(64))
    ip_hmac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Vote(db.Model):
    """One vote; ``vote_day`` is the date in the campaign's time zone when it was cast."""

    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("voter_id", "entry_id", "vote_day"),
        Index("ix_vote_category_created", "category_id", "created_at"),
        Index("ix_vote_entry_status", "entry_id", "status"),
        # The recount (the organiser's reconciliation, results) reads only these indexes, in
        # entry order: all time, and one day.
        Index("ix_vote_recount", "category_id", "status", "entry_id"),
        Index("ix_vote_recount_day", "category_id", "vote_day", "status", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("voter.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    vote_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: HMAC of the client's /24 network (IPv4) or /48 (IPv6), for fraud signals; purged later.
    net_hmac: Mapped[str | None] = mapped_column(String(64))
    #: HMAC of the user agent, for fraud signals; purged later.
    agent_hmac: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[VoteStatus] = mapped_column(enum_type(VoteStatus), default=VoteStatus.VALID)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[Entry] = relationship()


class DailyQuota(db.Model):
    """How many votes a voter used in a category on a day (raised only below the limit)."""

    __tablename__ = "daily_quota"
    __table_args__ = (CheckConstraint("used >= 0", name="used_non_negative"),)

    voter_id: Mapped[int] = mapped_column(ForeignKey("voter.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), primary_key=True)
    vote_day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class EntryTally(db.Model):
    """Valid votes of an entry, kept up to date as votes arrive and are voided."""

    __tablename__ = "entry_tally"
    __table_args__ = (
        CheckConstraint("valid_votes >= 0", name="valid_votes_non_negative"),
        Index("ix_entry_tally_category_votes", "category_id", "valid_votes"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    valid_votes: Mapped[int] = mapped_column(Integer, default=0)
