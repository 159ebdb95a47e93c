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
