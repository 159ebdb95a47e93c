"""Panels, conflicts of interest and reviews (评审)."""
import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.models import Category, User
from app.models.audit import Audited
from nominations.models import Entry


class ReviewStatus(enum.StrEnum):
    ASSIGNED = "assigned"  #: assigned, not started
    DRAFT = "draft"
    SUBMITTED = "submitted"  #: locked; an organiser can reopen it


class PanelMember(Audited, db.Model):
    """An expert on a category's panel. The expert's affiliation is ``User.agency``."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("category_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    expert_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship()
    expert: Mapped[User] = relationship()


class Conflict(Audited, db.Model):
    """An expert declared a conflict of interest (回避) with an entry: never assigned to it."""

    __tablename__ = "conflict"
    __table_args__ = (UniqueConstraint("expert_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(Audited, db.Model):
    """One expert's review of one entry: an assignment until it is scored.

    ``points`` maps a criterion id (as text) to the integer points given, 0..its max.
    """

    __tablename__ = "review"
    __table_args__ = (UniqueConstraint("entry_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[ReviewStatus] = mapped_column(enum_type(ReviewStatus),
                                                 default=ReviewStatus.ASSIGNED)
    points: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: How the review came: "assignment" (automatic), "manual" or "sheet" (offline import).
    source: Mapped[str] = mapped_column(String(20), default="assignment")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[Entry] = relationship()
    expert: Mapped[User] = relationship()

    @property
    def is_locked(self):
        return self.status == ReviewStatus.SUBMITTED

    def total(self, criteria):
        return sum(int(self.points.get(str(c.id), 0)) for c in criteria)
