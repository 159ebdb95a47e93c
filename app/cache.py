"""A short cache of public pages, rendered once per worker every PUBLIC_CACHE_SECONDS.

A visitor who carries nothing of their own (no cookie, no Authorization header) sees what every
other one sees: the whole page is kept, and marked cacheable for the reverse proxy.

A visitor with cookies who is nobody signed in and has no message waiting (a citizen whose phone
votes on the site, a visitor who chose a language) sees the same page but for their own parts:
an entry's vote panel with the votes they have left. For them the page is kept as a shell, per
path and language, with each such part marked in it (``personal_part``); the parts are rendered
for each request and put in. A signed-in user, or a visitor with a message waiting, always gets
a page rendered whole. Pages with a visitor's own part are marked ``Cache-Control: private``: a
shared cache on the way must not keep them.
"""
import re
import threading
import time
from collections import OrderedDict
from functools import wraps

from flask import current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

_lock = threading.Lock()
_entries = OrderedDict()
MAX_ENTRIES = 2000

#: The renderers of the personal parts a shell marks: {name: render(int argument) -> Markup}.
_parts = {}
_MARK = re.compile(r"<!--personal:(\w+):(\d+)-->")
#: Headers of a kept response that belong to the request that made it, not to the page.
_NOT_KEPT = frozenset({"content-length", "set-cookie"})


def _cacheable_request():
    return (request.method == "GET" and not request.cookies
            and "Authorization" not in request.headers)


def _shell_request():
    """A GET by a visitor with cookies who is nobody signed in and has no message waiting."""
    return (request.method == "GET" and "Authorization" not in request.headers
            and "_flashes" not in session and not current_user.is_authenticated)


def clear():
    with _lock:
        _entries.clear()


def personal_part(name, argument, render):
    """A visitor's own part of a page: rendered now (``render()``), or, while a shell is being
    rendered, a mark the shell keeps in its place; ``register_part`` names how to render it from
    ``argument`` (an id) for each visitor who gets the shell."""
    if g.get("rendering_shell"):
        # nosec B704: a mark of the app's own: a registered name and an integer, nobody's text
        return Markup(f"<!--personal:{name}:{int(argument)}-->")  # nosec B704
    return render()


def register_part(name):
    """Register ``render(argument)``, which renders the personal part ``name`` for the request."""

    def register(render):
        _parts[name] = render
        return render

    return register


def _fill(body):
    return _MARK.sub(lambda match: str(_parts[match.group(1)](int(match.group(2)))), body)


def _get(key, now):
    with _lock:
        hit = _entries.get(key)
    return hit if hit is not None and hit[0] > now else None


def _keep(key, stored):
    with _lock:
        _entries[key] = stored
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def _keepable(response):
    return response.status_code == 200 and not session.modified and not response.direct_passthrough


def public_page(view):
    """Serve ``view`` from the cache (see the module's text)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        seconds = current_app.config["PUBLIC_CACHE_SECONDS"]
        if seconds <= 0:
            return view(*args, **kwargs)
        if _cacheable_request():
            return _whole(view, args, kwargs, seconds)
        if _shell_request():
            return _shell(view, args, kwargs, seconds)
        response = make_response(view(*args, **kwargs))  # a signed-in user's, or with a message
        response.headers.setdefault("Cache-Control", "private")
        return response

    return wrapper


def _whole(view, args, kwargs, seconds):
    key = (current_app.name, id(current_app), request.full_path)
    now = time.monotonic()
    hit = _get(key, now)
    if hit is not None:
        status, headers, body = hit[1:]
        return current_app.response_class(body, status=status, headers=headers)
    response = make_response(view(*args, **kwargs))
    if _keepable(response):
        response.headers["Cache-Control"] = f"public, max-age={seconds}"
        response.vary.add("Cookie")
        _keep(key, (now + seconds, response.status_code, list(response.headers.items()),
                    response.get_data()))
    return response


def _shell(view, args, kwargs, seconds):
    key = ("shell", current_app.name, id(current_app), request.full_path, str(get_locale()))
    now = time.monotonic()
    hit = _get(key, now)
    if hit is None:
        g.rendering_shell = True
        try:
            response = make_response(view(*args, **kwargs))
        finally:
            g.rendering_shell = False
        if response.direct_passthrough or not response.mimetype.startswith("text/"):
            return response  # nothing to fill in (a file; JSON, which has no personal part)
        body = response.get_data(as_text=True)
        if not _keepable(response):
            response.set_data(_fill(body))
            response.headers["Cache-Control"] = "private"
            return response
        hit = (now + seconds, response.status_code,
               [(name, value) for name, value in response.headers.items()
                if name.lower() not in _NOT_KEPT], body)
        _keep(key, hit)
    status, headers, body = hit[1:]
    response = current_app.response_class(_fill(body), status=status, headers=headers)
    response.headers["Cache-Control"] = "private"  # a page with the visitor's own part
    return response
