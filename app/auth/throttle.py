"""Failed sign-ins counted per account in the rate-limit storage (shared by all workers).

Only failures count, so a person who types the right password is never slowed down, while a
guesser gets LOGIN_FAILURES_PER_ACCOUNT tries per window whatever the IP addresses used.
"""
import hashlib
import time

from flask import current_app
from limits import parse

from ..extensions import limiter

NAMESPACE = "login-failures"


def _item():
    return parse(current_app.config["LOGIN_FAILURES_PER_ACCOUNT"])


def _key(email):
    # The email is hashed so that the storage never holds an address in clear.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def seconds_locked(email):
    """0 when ``email`` may try to sign in now, else seconds until the oldest failure expires."""
    item = _item()
    if limiter.limiter.test(item, NAMESPACE, _key(email)):
        return 0
    reset_at, _remaining = limiter.limiter.get_window_stats(item, NAMESPACE, _key(email))
    return max(1, int(reset_at - time.time()))


def record_failure(email):
    limiter.limiter.hit(_item(), NAMESPACE, _key(email))


def forget_failures(email):
    limiter.limiter.clear(_item(), NAMESPACE, _key(email))
