"""Lean views: the common case of a hot route answered without the hooks every other request runs.

A view may have a lean twin (``@lean.twin(function)``). Routing, the request context, the visitor's
language and error handling stay Flask's. For a request it accepts, the twin answers itself and
does what the hooks would have done for that answer (``finish``: the request id and log line,
the security headers); for any other it returns None, and the request takes the full path with
every hook, exactly as if there were no twin. The twin may also leave what it found out for the
view in ``g`` (the vote leaves a refusal there, so that the refusal is worded and logged by the
full path).

What the twin skips is measured in docs/PERFORMANCE.md: the before- and after-request hooks of
CSRF, Flask-Limiter, Flask-Login and the session, and Flask's dispatch, about a third of a vote's
time. A view may have a twin only when those hooks have nothing to do for the requests its
twin answers (no form, no session, no Flask-Limiter limit, no cookie).
"""
from flask import Flask, request

from . import logs
from .security import security_headers


def twin(function):
    """Give a view its lean twin: a function of no arguments returning a response, or None."""

    def decorator(view):
        view.lean = function
        return view

    return decorator


class LeanFlask(Flask):
    """Flask, serving the lean twin of a view first when it has one."""

    def full_dispatch_request(self):
        rule = request.url_rule
        # Only for the view's own methods: Flask answers OPTIONS itself (and HEAD for a GET).
        if request.routing_exception is None and not (
                request.method == "OPTIONS" and rule.provide_automatic_options):
            twin = getattr(self.view_functions.get(request.endpoint), "lean", None)
            if twin is not None:
                self._got_first_request = True
                response = twin()
                if response is not None:
                    return response
        return super().full_dispatch_request()


def finish(response):
    """What the after-request hooks give an answer of a lean twin: the request id and the log
    line (logs.finish), the security headers."""
    return security_headers(logs.finish(response))


def start():
    """What the before-request hooks give a lean twin: the request's id and clock (kept if the
    request then takes the full path)."""
    logs.start()
