"""A short cache of public pages for visitors who carry nothing of their own: no cookie, no
Authorization header. Such a visitor sees what every other one sees, so the page is rendered once
per worker every PUBLIC_CACHE_SECONDS (and marked cacheable for the reverse proxy). A visitor with
a cookie (a voter, a signed-in user, a chosen language) always gets a fresh page.
"""
import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import current_app, make_response, request, session

_lock = threading.Lock()
_entries = OrderedDict()
MAX_ENTRIES = 2000


def _cacheable_request():
    return (request.method == "GET" and not request.cookies
            and "Authorization" not in request.headers)


def clear():
    with _lock:
        _entries.clear()


def public_page(view):
    """Serve ``view`` from the cache to visitors without cookies (see the module's text)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config["PUBLIC_CACHE_SECONDS"]
        if seconds <= 0 or not _cacheable_request():
            return view(*args, **kwargs)
        key = (current_app.name, id(current_app), request.full_path)
        now = time.monotonic()
        with _lock:
            hit = _entries.get(key)
        if hit is not None and hit[0] > now:
            status, headers, body = hit[1:]
            return current_app.response_class(body, status=status, headers=headers)
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not session.modified and not response.direct_passthrough:
            response.headers["Cache-Control"] = f"public, max-age={seconds}"
            response.vary.add("Cookie")
            stored = (now + seconds, response.status_code, list(response.headers.items()),
                      response.get_data())
            with _lock:
                _entries[key] = stored
                _entries.move_to_end(key)
                while len(_entries) > MAX_ENTRIES:
                    _entries.popitem(last=False)
        return response

    return wrapper
