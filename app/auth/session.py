"""How Flask-Login finds the user behind a session cookie."""
import hmac

from ..extensions import db
from ..models import User


def load_user(user_id):
    """``user_id`` is "<id>:<session token>"; a rotated token (sign-out elsewhere) means no user."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.is_active:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user
