"""Shared models: accounts, agencies, campaigns with their categories and rubrics, the audit log."""
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

__all__ = [
    "PHASES",
    "Agency",
    "Aggregation",
    "AuditLog",
    "Campaign",
    "Category",
    "Criterion",
    "Kind",
    "Role",
    "TallyVisibility",
    "User",
    "UserStatus",
]
