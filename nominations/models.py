"""Entries (参评作品) and their life cycle."""
import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.models import Agency, Category
from app.models.audit import Audited


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Entry(Audited, db.Model):
    """One nomination in a category, by an agency. Only approved entries are public."""

    __tablename__ = "entry"
    __table_args__ = (
        UniqueConstraint("category_id", "number"),
        Index("ix_entry_category_status", "category_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    #: Public number such as SW-007, given when the entry is submitted.
    number: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: The kind-specific fields (a story's text, a hotline's number...), validated by its form.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[EntryStatus] = mapped_column(enum_type(EntryStatus), default=EntryStatus.DRAFT)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship()
    agency: Mapped[Agency] = relationship()

    def __repr__(self):
        return f"<Entry {self.number or self.id} {self.status}>"

    @property
    def is_public(self):
        return self.status == EntryStatus.APPROVED
