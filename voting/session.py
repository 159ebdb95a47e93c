"""Who the voter is: a verified voter stays signed in on the device (a signed, HttpOnly cookie
with the voter id), and an app holds a bearer token (voting/api.py). Both are the voter id signed
with the app's secret, each under its own salt, and both are checked here."""
from functools import lru_cache
from time import time

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "voter"
#: The salts of the page's cookie and of the API's bearer token: neither passes for the other.
COOKIE_SALT, TOKEN_SALT = "voter", "api-voter"

#: A voter's cookie or token is about 40 characters; a longer one is refused before it is looked
#: at (the cache below then holds at most 8,192 short strings, whatever a client sends).
MAX_SIGNED_LENGTH = 200


def sign_voter(voter_id, salt=COOKIE_SALT):
    """The voter id signed under ``salt``: the cookie's value, or (TOKEN_SALT) an API token."""
    return _serializer_for(current_app.config["SECRET_KEY"], salt).dumps(voter_id)


def voter_of(app, signed, salt=COOKIE_SALT):
    """The voter id of a cookie or token signed under ``salt`` and younger than
    VOTER_SESSION_DAYS, else None."""
    if not signed or len(signed) > MAX_SIGNED_LENGTH:
        return None
    value, signed_at = _payload(app.config["SECRET_KEY"], salt, signed)
    if not 0 <= time() - signed_at <= app.config["VOTER_SESSION_DAYS"] * 86400:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@lru_cache(maxsize=8)
def _serializer_for(secret, salt):
    """One serializer per secret and salt: it derives its signing key once, not per request."""
    return URLSafeTimedSerializer(secret, salt=salt)


@lru_cache(maxsize=8192)
def _payload(secret, salt, signed):
    """(voter id, when it was signed) of a value whose signature holds, else (None, 0). Kept: a
    voter's phone sends the same cookie or token with every request; only its age changes,
    checked by the caller."""
    try:
        value, signed_at = _serializer_for(secret, salt).loads(signed, return_timestamp=True)
    except BadSignature:
        return None, 0
    return value, signed_at.timestamp()


def current_voter_id():
    """The voter signed in on this device (the page's cookie), else None."""
    return voter_of(current_app, request.cookies.get(COOKIE))


def remember_voter(response, voter_id):
    response.set_cookie(
        COOKIE, sign_voter(voter_id), max_age=current_app.config["VOTER_SESSION_DAYS"] * 86400,
        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def forget_voter(response):
    response.delete_cookie(COOKIE)
    return response
