"""Nomination use cases."""
from sqlalchemy import func, select

from app.extensions import db

from .models import Entry


def next_number(category):
    """The next public number of ``category``: its prefix and a three-digit sequence (SW-007)."""
    count = db.session.scalar(
        select(func.count()).select_from(Entry).where(
            Entry.category_id == category.id, Entry.number.is_not(None)))
    return f"{category.number_prefix}-{count + 1:03d}"
