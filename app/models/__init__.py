"""Shared models: accounts, agencies, campaigns with their categories and rubrics, the audit log,
the outbox of mails."""
from .accounts import Agency, Role, User, UserStatus
from .audit import AuditLog
from .campaigns import (
    PHASES,
    Aggregation,
    Campaign,
    Category,
    Criterion,
    Kind,
    TallyVisibility,
)
from .mail import MailStatus, OutgoingMail

__all__ = [
    "PHASES",
    "Agency",
    "Aggregation",
    "AuditLog",
    "Campaign",
    "Category",
    "Criterion",
    "Kind",
    "MailStatus",
    "OutgoingMail",
    "Role",
    "TallyVisibility",
    "User",
    "UserStatus",
]
