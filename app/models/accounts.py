"""Staff accounts (organisers, agencies, experts) and agencies. Voters are not users: see voting."""
import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import UTCDateTime, enum_type, utcnow
from ..extensions import db
from .audit import Audited


class Role(enum.StrEnum):
    ORGANISER = "organiser"
    AGENCY = "agency"
    EXPERT = "expert"


class UserStatus(enum.StrEnum):
    INVITED = "invited"  #: an expert invited by an organiser, who has not set a password yet
    PENDING = "pending"  #: registered agency waiting for an organiser
    ACTIVE = "active"
    REJECTED = "rejected"
    DISABLED = "disabled"


def new_session_token():
    return secrets.token_urlsafe(24)


class Agency(Audited, db.Model):
    """A social-work service agency (机构): it nominates entries; experts may belong to one."""

    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    contact_name: Mapped[str] = mapped_column(String(60), default="")
    #: The agency's office phone, shown to organisers; not a voter's number.
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list["User"]] = relationship(back_populates="agency")

    def __repr__(self):
        return f"<Agency {self.id} {self.name}>"


class User(Audited, UserMixin, db.Model):
    """A person who signs in with email and password: organiser, agency member or expert."""

    __tablename__ = "user_account"
    __audit_exclude__ = frozenset({"session_token", "last_login_at"})
    __audit_redact__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    status: Mapped[UserStatus] = mapped_column(
        enum_type(UserStatus), default=UserStatus.ACTIVE
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    #: Part of the id Flask-Login keeps in the cookie; rotated at sign-out and password change,
    #: so that a copied cookie dies with the session.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    #: The agency an agency member acts for, or an expert's affiliation (for conflicts).
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    agency: Mapped[Agency | None] = relationship(back_populates="members")

    def __repr__(self):
        return f"<User {self.id} {self.role} {self.email}>"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)
        self.session_token = new_session_token()

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self):
        self.session_token = new_session_token()

    def get_id(self):
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self):
        return self.status == UserStatus.ACTIVE

    def has_role(self, *roles):
        return self.role in roles

    @property
    def is_organiser(self):
        return self.role == Role.ORGANISER
