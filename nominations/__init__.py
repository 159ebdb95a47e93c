"""Nomination intake: entries, kind-specific forms, attachments, moderation, public gallery."""
