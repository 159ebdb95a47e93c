"""A verified voter stays signed in on the device: a signed, HttpOnly cookie with the voter id."""
from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "voter"


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="voter")


def current_voter_id():
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    max_age = current_app.config["VOTER_SESSION_DAYS"] * 86400
    try:
        value = _serializer().loads(token, max_age=max_age)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None


def remember_voter(response, voter_id):
    response.set_cookie(
        COOKIE, _serializer().dumps(voter_id), max_age=current_app.config["VOTER_SESSION_DAYS"] * 86400,
        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def forget_voter(response):
    response.delete_cookie(COOKIE)
    return response
