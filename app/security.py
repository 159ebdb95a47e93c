"""Authorisation decorators and redirect safety."""
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, url_for
from flask_login import current_user


def role_required(*roles):
    """Only signed-in users with one of ``roles``: anonymous -> sign-in page, wrong role -> 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from .extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target, default_endpoint="public.index"):
    """``target`` when it is a path on this site, else the default page (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for(default_endpoint)
