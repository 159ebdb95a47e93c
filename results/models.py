"""Publications (公示 and final lists): frozen snapshots with their SHA-256 digest."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import UTCDateTime, enum_type, utcnow
from app.extensions import db
from app.models import Category
from app.models.audit import Audited


class PublicationKind(enum.StrEnum):
    PROVISIONAL = "provisional"  #: 公示, with an objection window
    FINAL = "final"


class Publication(Audited, db.Model):
    """One published version of a category's ranking. Never changed; a new one is added."""

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("category_id", "version"),)
    #: The snapshot is kept here, whole, and its digest goes to the log: a city's ranking with
    #: every review is about half a megabyte (450 KB at 1,000 entries and 5,000 reviews),
    #: which the log would hold a second time and its page show.
    __audit_exclude__ = frozenset({"snapshot"})

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PublicationKind] = mapped_column(enum_type(PublicationKind))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: The canonical JSON text of the snapshot, exactly the bytes the digest is taken of.
    snapshot: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))

    category: Mapped[Category] = relationship()


class ObjectionOutcome(enum.StrEnum):
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Objection(Audited, db.Model):
    """An objection (异议) to a provisional list, and the organisers' recorded answer."""

    __tablename__ = "objection"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"), index=True)
    entry_number: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    #: How organisers can reach the objector; never shown publicly.
    contact: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[ObjectionOutcome | None] = mapped_column(enum_type(ObjectionOutcome))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    publication: Mapped[Publication] = relationship()
