"""Lean routes: the common case of a hot route answered before Flask's request machinery.

A lean route (``app.lean_route(method, path, function)``) sees the WSGI environ of a request for
exactly that method and path (ProxyFix has already set the client's address). The function returns
a ``LeanAnswer`` for a request it takes, or None: then the request goes through Flask, with every
hook and the view, exactly as if there were no lean route. The function may leave what it found
out for the view in the environ (the vote leaves the rate-limit outcome there, so that a refusal
is worded in the visitor's language by the view).

A lean answer carries what the hooks give every answer: the security headers, the request id
(the caller's ``X-Request-ID`` when it is a short alphanumeric one) and the request's log line.

What it skips, measured in docs/PERFORMANCE.md: Flask's request context, routing, session,
the before- and after-request hooks of CSRF, Flask-Limiter, Flask-Login, the response object:
about half of a vote's CPU in one process (with the ORM session the view also uses). A route
may be lean only where those have nothing to do for the requests it takes (no form, no session,
no Flask-Limiter limit, no cookie).
"""
import json
import time

from flask import Flask

from . import logs
from .security import SECURITY_HEADERS


class LeanFlask(Flask):
    """Flask, answering its lean routes first."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lean_routes = {}

    def lean_route(self, method, path, function):
        """Answer ``method path`` with ``function(app, environ)`` first (see the module)."""
        self.lean_routes[(method, path)] = function

    def wsgi_app(self, environ, start_response):
        lean = self.lean_routes.get((environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")))
        if lean is not None:
            started = time.perf_counter()
            answer = lean(self, environ)
            if answer is not None:
                return answer.send(environ, start_response, started)
        return super().wsgi_app(environ, start_response)


class LeanAnswer:
    """A JSON answer of a lean route, with the headers and the log line of every answer."""

    STATUS_LINES = {200: "200 OK", 201: "201 CREATED"}

    def __init__(self, route, status, payload):
        self.route, self.status = route, status
        self.body = (json.dumps(payload, separators=(",", ":"), sort_keys=True) + "\n").encode()

    def send(self, environ, start_response, started):
        request_id = logs.request_id(environ.get("HTTP_X_REQUEST_ID", ""))
        start_response(self.STATUS_LINES[self.status], [
            ("Content-Type", "application/json"), ("Content-Length", str(len(self.body))),
            *SECURITY_HEADERS.items(), ("X-Request-ID", request_id)])
        logs.request_line(environ.get("REQUEST_METHOD"), self.route, self.status, started,
                          request_id, environ.get("REMOTE_ADDR"))
        return [self.body]
