"""Entries (参评作品), their life cycle and their attachments."""
import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.models import Agency, Category, Role
from app.models.audit import Audited


class EntryStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class AttachmentKind(enum.StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class Entry(Audited, db.Model):
    """One nomination in a category, by an agency. Only approved entries are public."""

    __tablename__ = "entry"
    __table_args__ = (
        UniqueConstraint("category_id", "number"),
        Index("ix_entry_category_status", "category_id", "status"),
        Index("ix_entry_agency", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    #: Public number such as SW-007, given at the first submission and kept for good.
    number: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    #: The kind-specific fields (a story's text, a hotline's number...), validated by its form.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[EntryStatus] = mapped_column(enum_type(EntryStatus), default=EntryStatus.DRAFT)
    #: Why an organiser rejected it; shown to the agency.
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    category: Mapped[Category] = relationship()
    agency: Mapped[Agency] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="entry", order_by="Attachment.position, Attachment.id",
        cascade="all, delete-orphan")

    def __repr__(self):
        return f"<Entry {self.number or self.id} {self.status}>"

    @property
    def is_public(self):
        return self.status == EntryStatus.APPROVED

    @property
    def photos(self):
        return [a for a in self.attachments if a.kind == AttachmentKind.PHOTO]

    @property
    def documents(self):
        return [a for a in self.attachments if a.kind == AttachmentKind.DOCUMENT]

    @property
    def cover(self):
        photos = self.photos
        return photos[0] if photos else None

    def is_editable(self, now):
        """An agency may change it only while its category takes nominations."""
        return self.category.is_open("nomination", now)

    def can_view(self, user):
        """Anyone sees an approved entry; its agency and organisers see it in every state."""
        if self.is_public:
            return True
        if user is None or not user.is_authenticated:
            return False
        return user.role == Role.ORGANISER or (
            user.role == Role.AGENCY and user.agency_id == self.agency_id)

    def can_edit(self, user, now):
        return (user.is_authenticated and user.role == Role.AGENCY
                and user.agency_id == self.agency_id and self.is_editable(now))


class Attachment(Audited, db.Model):
    """A photo (re-encoded, with a thumbnail) or a PDF document of an entry.

    Files are stored under instance/uploads with random names; the name the agency gave is kept
    only as text to show.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(enum_type(AttachmentKind))
    #: Random file name on disk (uuid4 hex + extension of the detected type).
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    thumb_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The name the file had on the agency's computer, for display only.
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="attachments")
